"""Reads about self-paced dialogues and reflections for the scheduler and for exports."""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import dataclass, replace
from datetime import datetime
from typing import TYPE_CHECKING

from sqlalchemy import select

from bot.core.desk import STOPPED
from bot.core.ids import GroupRef, PersonRef
from storage._keys import PERSON_COLUMNS, open_person
from storage.keystore import keys_of
from storage.sealed import open_reflections
from storage.tables import direct_progress, groups, identities, session_reflections, sessions

if TYPE_CHECKING:
    from sqlalchemy.ext.asyncio import AsyncEngine


@dataclass(frozen=True, slots=True)
class ReflectionRow:
    """A facilitator's reflection on a session ('' skipped, None not answered)."""

    session_id: str
    group: GroupRef
    went_well: str | None
    was_hard: str | None
    to_change: str | None
    updated_at: datetime

    @property
    def answers(self) -> tuple[str | None, str | None, str | None]:
        """The three answers, in the order they were asked."""
        return self.went_well, self.was_hard, self.to_change

    def redacted(self, redact: Callable[[str], tuple[str, int]]) -> ReflectionRow:
        """The reflection with ``redact`` applied to each answer (for exports)."""
        went_well, was_hard, to_change = (redact(a)[0] if a else a for a in self.answers)
        return replace(self, went_well=went_well, was_hard=was_hard, to_change=to_change)


async def reminders(engine: AsyncEngine) -> list[tuple[int, datetime]]:
    """Stopped self-paced dialogues whose resident wants one reminder not yet sent."""
    query = select(direct_progress.c.id, direct_progress.c.stopped_at).where(
        direct_progress.c.status == STOPPED,
        direct_progress.c.remind.is_(True),
        direct_progress.c.reminded_at.is_(None),
        direct_progress.c.stopped_at.is_not(None),
    )
    async with engine.connect() as conn:
        return [(row.id, row.stopped_at) for row in await conn.execute(query)]


async def resident(engine: AsyncEngine, progress_id: int) -> tuple[PersonRef, str] | None:
    """Who a self-paced dialogue belongs to, and its cycle (None once they withdrew)."""
    query = (
        select(*PERSON_COLUMNS, direct_progress.c.cycle_id)
        .join(identities, identities.c.id == direct_progress.c.participant_id)
        .where(direct_progress.c.id == progress_id)
    )
    async with engine.connect() as conn:
        row = (await conn.execute(query)).first()
    if row is None:
        return None
    return open_person(keys_of(engine), *row[:3]), row.cycle_id


async def reflections(engine: AsyncEngine, cycle_id: str | None) -> list[ReflectionRow]:
    """Facilitators' reflections on the sessions of a cycle (None: of every session)."""
    query = (
        select(session_reflections, groups.c.platform, groups.c.chat_id)
        .join(sessions, sessions.c.id == session_reflections.c.session_id)
        .join(groups, groups.c.id == sessions.c.group_id)
        .order_by(sessions.c.started_at, sessions.c.id)
    )
    if cycle_id is not None:
        query = query.where(sessions.c.cycle_id == cycle_id)
    async with engine.connect() as conn:
        rows = (await conn.execute(query)).all()
    keys = keys_of(engine)
    found: list[ReflectionRow] = []
    for r in rows:
        answers = [r.went_well, r.was_hard, r.to_change]
        went_well, was_hard, to_change = open_reflections(
            keys, r.participant_id, r.session_id, answers
        )
        found.append(
            ReflectionRow(
                r.session_id,
                GroupRef(r.platform, r.chat_id),
                went_well,
                was_hard,
                to_change,
                r.updated_at,
            )
        )
    return found
