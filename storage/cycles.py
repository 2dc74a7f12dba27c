"""Cycles, scheduled sessions, the record of scheduled runs, and the scheduler's lease."""

from __future__ import annotations

from collections.abc import Iterable, Sequence
from dataclasses import dataclass
from datetime import datetime
from typing import TYPE_CHECKING, Any

from sqlalchemy import Row, delete, insert, or_, select, update
from sqlalchemy.exc import IntegrityError

from bot.core.ids import GroupRef, PersonRef
from storage._keys import dialect_insert, ensure_groups, ensure_people, open_person
from storage.db import for_writes
from storage.keystore import keys_of
from storage.tables import (
    cycles,
    groups,
    identities,
    schedule_runs,
    scheduled_sessions,
    scheduler_lease,
)

if TYPE_CHECKING:
    from sqlalchemy.ext.asyncio import AsyncEngine

PLANNED, OPEN, CLOSED = "planned", "open", "closed"
PENDING = "pending"
CANCELLED = "cancelled"


class CycleExists(Exception):
    """A cycle with this id exists already."""


@dataclass(frozen=True, slots=True)
class CycleRecord:
    """A cycle as stored: times are aware UTC."""

    id: str
    title: str
    theme: str
    scripts: tuple[str, ...]
    state: str
    opens_at: datetime
    closes_at: datetime
    opened_at: datetime | None = None
    closed_at: datetime | None = None


@dataclass(frozen=True, slots=True)
class ScheduledRecord:
    """A scheduled session; ``facilitator`` is None once that person's data was erased."""

    id: int
    group: GroupRef
    script_id: str
    due_at: datetime
    facilitator: PersonRef | None
    state: str
    created_at: datetime


@dataclass(frozen=True, slots=True)
class Lease:
    """Who holds the scheduler lease, on which host and process, until when."""

    holder: str
    host: str
    pid: int
    expires_at: datetime


def _cycle(row: Row[Any]) -> CycleRecord:
    return CycleRecord(
        id=row.id,
        title=row.title,
        theme=row.theme,
        scripts=tuple(row.scripts),
        state=row.state,
        opens_at=row.opens_at,
        closes_at=row.closes_at,
        opened_at=row.opened_at,
        closed_at=row.closed_at,
    )


class CycleStore:
    """Reads and writes of cycles and schedules, on the application's async engine."""

    def __init__(self, engine: AsyncEngine) -> None:
        """Use ``engine`` (from ``storage.db.make_engine``) for every query."""
        self._engine = engine
        self._writer = for_writes(engine)

    async def create_cycle(self, cycle: CycleRecord, at: datetime) -> None:
        """Store a new cycle; raises CycleExists if the id is taken."""
        try:
            async with self._writer.begin() as conn:
                await conn.execute(
                    insert(cycles).values(
                        id=cycle.id,
                        title=cycle.title,
                        theme=cycle.theme,
                        scripts=list(cycle.scripts),
                        state=cycle.state,
                        opens_at=cycle.opens_at,
                        closes_at=cycle.closes_at,
                        created_at=at,
                    )
                )
        except IntegrityError:
            raise CycleExists(cycle.id) from None

    async def cycle(self, cycle_id: str) -> CycleRecord | None:
        """The cycle with this id, or None."""
        async with self._engine.connect() as conn:
            row = (await conn.execute(select(cycles).where(cycles.c.id == cycle_id))).first()
        return None if row is None else _cycle(row)

    async def cycles(self, states: Iterable[str] | None = None) -> list[CycleRecord]:
        """Every cycle (or those in ``states``), by opening time."""
        query = select(cycles).order_by(cycles.c.opens_at, cycles.c.id)
        if states is not None:
            query = query.where(cycles.c.state.in_(list(states)))
        async with self._engine.connect() as conn:
            return [_cycle(row) for row in await conn.execute(query)]

    async def move_cycle(self, cycle_id: str, before: str, after: str, at: datetime) -> bool:
        """Move a cycle from state ``before`` to ``after``; False if it was not in ``before``."""
        stamp = {OPEN: {"opened_at": at}, CLOSED: {"closed_at": at}}.get(after, {})
        async with self._writer.begin() as conn:
            result = await conn.execute(
                update(cycles)
                .where(cycles.c.id == cycle_id, cycles.c.state == before)
                .values(state=after, **stamp)
            )
        return result.rowcount > 0

    async def schedule_session(
        self, group: GroupRef, person: PersonRef | None, script_id: str, due: datetime, at: datetime
    ) -> ScheduledRecord:
        """Store a scheduled session, pending until it opens or is missed."""
        async with self._writer.begin() as conn:
            group_ids = await ensure_groups(conn, [group])
            people = await ensure_people(conn, [person] if person else [])
            row = (
                await conn.execute(
                    insert(scheduled_sessions)
                    .values(
                        group_id=group_ids[group],
                        script_id=script_id,
                        due_at=due,
                        facilitator_id=people.get(person) if person else None,
                        state=PENDING,
                        created_at=at,
                    )
                    .returning(scheduled_sessions.c.id)
                )
            ).scalar_one()
        return ScheduledRecord(row, group, script_id, due, person, PENDING, at)

    async def scheduled(self, states: Sequence[str] = (PENDING,)) -> list[ScheduledRecord]:
        """Scheduled sessions in these states, soonest first."""
        return await self._scheduled(scheduled_sessions.c.state.in_(list(states)))

    async def scheduled_session(self, scheduled_id: int) -> ScheduledRecord | None:
        """One scheduled session, or None."""
        found = await self._scheduled(scheduled_sessions.c.id == scheduled_id)
        return found[0] if found else None

    async def _scheduled(self, condition: Any) -> list[ScheduledRecord]:
        query = (
            select(
                scheduled_sessions,
                groups.c.platform.label("group_platform"),
                groups.c.chat_id,
                identities.c.platform.label("person_platform"),
                identities.c.sealed_user_id,
            )
            .join(groups, groups.c.id == scheduled_sessions.c.group_id)
            .outerjoin(identities, identities.c.id == scheduled_sessions.c.facilitator_id)
            .where(condition)
            .order_by(scheduled_sessions.c.due_at, scheduled_sessions.c.id)
        )
        keys = keys_of(self._engine)
        async with self._engine.connect() as conn:
            return [
                ScheduledRecord(
                    id=row.id,
                    group=GroupRef(row.group_platform, row.chat_id),
                    script_id=row.script_id,
                    due_at=row.due_at,
                    facilitator=(
                        open_person(
                            keys, row.facilitator_id, row.person_platform, row.sealed_user_id
                        )
                        if row.sealed_user_id
                        else None
                    ),
                    state=row.state,
                    created_at=row.created_at,
                )
                for row in await conn.execute(query)
            ]

    async def settle_session(self, scheduled_id: int, state: str) -> bool:
        """Move a pending scheduled session to ``state``; False if it was no longer pending."""
        async with self._writer.begin() as conn:
            result = await conn.execute(
                update(scheduled_sessions)
                .where(
                    scheduled_sessions.c.id == scheduled_id, scheduled_sessions.c.state == PENDING
                )
                .values(state=state)
            )
        return result.rowcount > 0

    async def cancel_scheduled(self, due_before: datetime) -> int:
        """Cancel every pending scheduled session due before ``due_before``; how many."""
        async with self._writer.begin() as conn:
            result = await conn.execute(
                update(scheduled_sessions)
                .where(
                    scheduled_sessions.c.state == PENDING,
                    scheduled_sessions.c.due_at < due_before,
                )
                .values(state=CANCELLED)
            )
        return int(result.rowcount)

    async def record_run(
        self, job_id: str, outcome: str, due: datetime | None, at: datetime
    ) -> bool:
        """Note that a job ran (or was missed); False if it had been noted before."""
        async with self._writer.begin() as conn:
            stmt = dialect_insert(conn, schedule_runs).on_conflict_do_nothing(
                index_elements=["job_id"]
            )
            result = await conn.execute(
                stmt.values(job_id=job_id, outcome=outcome, due_at=due, at=at)
            )
        return result.rowcount > 0

    async def runs(self, job_ids: Iterable[str]) -> dict[str, str]:
        """The recorded outcome of each of these jobs that ran or was missed."""
        wanted = list(job_ids)
        if not wanted:
            return {}
        async with self._engine.connect() as conn:
            rows = await conn.execute(
                select(schedule_runs.c.job_id, schedule_runs.c.outcome).where(
                    schedule_runs.c.job_id.in_(wanted)
                )
            )
            return {job_id: outcome for job_id, outcome in rows}

    async def claim_lease(self, mine: Lease, now: datetime, dead: Iterable[int] = ()) -> Lease:
        """Take or renew the scheduler lease; returns whoever holds it afterwards.

        The lease is taken over when it expired, or when its holder ran on this host under a
        process id listed in ``dead`` (it stopped without releasing it).
        """
        gone = list(dead)
        async with self._writer.begin() as conn:
            free = or_(
                scheduler_lease.c.expires_at < now,
                scheduler_lease.c.holder == mine.holder,
                (scheduler_lease.c.host == mine.host) & scheduler_lease.c.pid.in_(gone),
            )
            values = {
                "holder": mine.holder,
                "host": mine.host,
                "pid": mine.pid,
                "expires_at": mine.expires_at,
            }
            stmt = dialect_insert(conn, scheduler_lease).values(name="scheduler", **values)
            await conn.execute(
                stmt.on_conflict_do_update(index_elements=["name"], set_=values, where=free)
            )
            row = (await conn.execute(select(scheduler_lease))).one()
        return Lease(row.holder, row.host, row.pid, row.expires_at)

    async def lease(self) -> Lease | None:
        """The current lease, if any process ever took one."""
        async with self._engine.connect() as conn:
            row = (await conn.execute(select(scheduler_lease))).first()
        return None if row is None else Lease(row.holder, row.host, row.pid, row.expires_at)

    async def release_lease(self, holder: str) -> None:
        """Give the lease up, if ``holder`` has it."""
        async with self._writer.begin() as conn:
            await conn.execute(delete(scheduler_lease).where(scheduler_lease.c.holder == holder))
