"""What each scheduled job does when it comes due, or when it was missed.

Every run and every miss is recorded under its job id first, so a job that comes round
again (a second report, a job re-added after a restart) is a no-op: it fires at most once.
"""

from __future__ import annotations

import logging
from collections import Counter
from collections.abc import Awaitable, Callable, Iterable, Mapping
from datetime import UTC, datetime, timedelta
from typing import TYPE_CHECKING

from bot.core.direct import NUDGE, direct_group
from bot.core.events import TimerFired
from bot.core.ids import GroupRef, PersonRef
from bot.service.cycles import CycleProblem, Cycles
from bot.service.shell import Service
from storage.cycles import PENDING
from storage.direct import resident
from storage.retention import purge

if TYPE_CHECKING:
    from sqlalchemy.ext.asyncio import AsyncEngine

log = logging.getLogger(__name__)

DAY = timedelta(days=1)
EPOCH = datetime(1970, 1, 1, tzinfo=UTC)
MICROSECOND = timedelta(microseconds=1)
Audit = Callable[[str, datetime, Mapping[str, object]], Awaitable[None]]


async def due(job_id: str) -> str:
    """The function every persistent job runs: it names the job, the listener acts on it."""
    return job_id


def micros(at: datetime) -> int:
    """A time as whole microseconds since 1970, exactly (for job ids)."""
    return (at - EPOCH) // MICROSECOND


class Jobs:
    """The work behind each job id (see ``bot.scheduling.scheduler`` for the ids)."""

    def __init__(
        self,
        service: Service,
        cycles: Cycles,
        engine: AsyncEngine,
        audit: Audit,
        retention_days: int,
        reload_content: Callable[[], None],
        changed: Callable[[], Awaitable[None]],
    ) -> None:
        self.service = service
        self.cycles = cycles
        self.store = cycles.store
        self._engine = engine
        self._audit = audit
        self._retention_days = retention_days
        self._reload_content = reload_content
        # Called after a cycle opened or closed, to bring jobs and sessions in line.
        self._changed = changed
        # Jobs run by this process, by kind (for the metrics endpoint).
        self.ran: Counter[str] = Counter()

    async def run(self, job_id: str, scheduled: datetime) -> None:
        """Do what a job that came due is for (once, however often it is reported)."""
        now = self.service.clock()
        kind, _, rest = job_id.partition(":")
        # The purge recurs, so each of its runs has a key of its own.
        key = f"{job_id}@{scheduled.isoformat()}" if kind == "retention" else job_id
        if not await self.store.record_run(key, "ran", scheduled, now):
            return
        self.ran[kind] += 1
        log.info("scheduled job due", extra={"job": kind, "due": scheduled.isoformat()})
        if kind in ("open", "remind"):
            record = await self.store.scheduled_session(int(rest.split(":")[0]))
            if record is None or record.state != PENDING:
                return
            if kind == "open" and not await self.store.settle_session(record.id, "opened"):
                return
            await self._fire(
                TimerFired(
                    record.group,
                    kind,
                    now,
                    record.facilitator,
                    script_id=record.script_id,
                    due=record.due_at,
                )
            )
        elif kind == "step":
            await self._step(rest, now)
        elif kind == NUDGE:
            found = await resident(self._engine, int(rest.split(":")[0]))
            if found is not None:
                person, cycle_id = found
                await self._fire(TimerFired(direct_group(cycle_id), NUDGE, now, person))
        elif kind == "cycle-open":
            try:
                await self.cycles.open(rest, now)
            except CycleProblem as exc:
                log.warning("cycle did not open on its date: %s", exc, extra={"cycle": rest})
                await self._audit("cycle_open_refused", now, {"cycle": rest})
            await self._changed()
        elif kind == "cycle-close":
            if await self.cycles.close(rest, now) is not None:
                self._reload_content()
            await self._changed()
        elif kind == "retention":
            before = now - self._retention_days * DAY if self._retention_days else None
            done = await purge(self._engine, before, now)
            log.info("retention purge", extra={"responses": done.responses, "votes": done.votes})

    async def _step(self, rest: str, now: datetime) -> None:
        session_id, index, micros = rest.rsplit(":", 2)
        state = next(
            (s for s in self.service.sessions.values() if s.session_id == session_id), None
        )
        if state is None or state.step_started_at is None:
            return
        timer = TimerFired(
            state.group,
            "step",
            now,
            await self._lead(state.group),
            session_id=session_id,
            step_index=int(index),
            step_started_at=EPOCH + int(micros) * MICROSECOND,
        )
        await self._fire(timer)

    async def missed(self, job_id: str, scheduled: datetime) -> None:
        """Report a job that was due while the bot was down and is past its grace time."""
        now = self.service.clock()
        if not await self.store.record_run(job_id, "missed", scheduled, now):
            return
        kind, _, rest = job_id.partition(":")
        log.warning("scheduled job missed", extra={"job": kind, "due": scheduled.isoformat()})
        detail: dict[str, object] = {"job": kind, "due": scheduled.isoformat()}
        if kind in ("open", "remind"):
            detail["scheduled_session"] = int(rest.split(":")[0])
        await self._audit("schedule_missed", now, detail)
        if kind != "open":
            return
        record = await self.store.scheduled_session(int(rest))
        if record is None or not await self.store.settle_session(record.id, "missed"):
            return
        people: Iterable[PersonRef] = (
            [record.facilitator]
            if record.facilitator
            else sorted(self.service.policy.staff, key=str)
        )
        for person in people:
            await self._fire(
                TimerFired(
                    record.group,
                    "missed",
                    now,
                    person,
                    script_id=record.script_id,
                    due=record.due_at,
                )
            )

    async def _lead(self, group: GroupRef) -> PersonRef | None:
        # Who steered the session last; if nobody did, the group's first facilitator.
        state = self.service.sessions.get(group)
        lead = await self.service.roles.lead(state.session_id if state else None)
        if lead is not None:
            return lead
        named = self.service.policy.facilitators.get(group, frozenset())
        granted = await self.service.store.facilitators(group)
        return min(named | granted, key=lambda p: p.user_id, default=None)

    async def _fire(self, event: TimerFired) -> None:
        await self.service.handle(event)
