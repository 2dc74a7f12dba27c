"""Sessions and what they capture: the one way captures are written, and reads of sessions.

Every capture, replies among them, is written by ``storage._batch`` (through the single writer
when the repository is ``storage.writer.QueuedRepository``); reads here are of sessions, their
answers and turnout, a person's self-paced desk, and the content versions sessions ran on.
"""

from __future__ import annotations

import asyncio
from collections.abc import Iterable, Sequence
from datetime import UTC, datetime
from typing import Any

from sqlalchemy import Row, select

from bot.content.version import Version
from bot.core.captures import Capture
from bot.core.desk import Desk
from bot.core.ids import GroupRef, MessageRef, PersonRef
from bot.core.records import SessionHeard, Turnout
from bot.core.state import SessionState, Status
from storage import _content, _direct, _profile, _registrations
from storage._base import RepositoryBase
from storage._batch import Submission, apply_submissions
from storage.tables import groups, sessions


def _session(row: Row[Any]) -> SessionState:
    return SessionState(
        group=GroupRef(row.platform, row.chat_id),
        status=Status(row.status),
        session_id=row.id,
        cycle_id=row.cycle_id,
        script_id=row.script_id,
        script_version=row.script_version,
        content_version=row.content_version,
        step_index=row.step_index,
        started_at=row.started_at,
        step_started_at=row.step_started_at,
        ended_at=row.ended_at,
        language=row.language,
    )


class Sessions(RepositoryBase):
    """Writes of captures, and reads of sessions and what they heard."""

    async def apply(self, captures: Sequence[Capture]) -> None:
        """Persist a batch of captures in order, all in one transaction."""
        if captures:
            await self.apply_once(None, captures)

    async def apply_once(self, message: MessageRef | None, captures: Sequence[Capture]) -> bool:
        """Persist captures in one transaction unless ``message`` was handled before.

        Returns whether they were applied; the message is remembered as handled either way.
        """
        async with self._writer.begin() as conn:
            submission = Submission(message, captures)
            now = datetime.now(UTC)
            (applied,) = await apply_submissions(conn, [submission], now, self._marks)
        return applied

    async def submit_once(
        self, message: MessageRef | None, captures: Sequence[Capture]
    ) -> asyncio.Future[bool]:
        """Commit captures as ``apply_once`` does; the outcome, already known."""
        done: asyncio.Future[bool] = asyncio.get_running_loop().create_future()
        done.set_result(await self.apply_once(message, captures))
        return done

    async def submit_quietly(
        self, message: MessageRef | None, captures: Sequence[Capture]
    ) -> asyncio.Future[None]:
        """Commit captures as ``apply_once`` does; done (with None) once committed."""
        await self.apply_once(message, captures)
        done: asyncio.Future[None] = asyncio.get_running_loop().create_future()
        done.set_result(None)
        return done

    async def live_sessions(self) -> list[SessionState]:
        """Return every running or paused session, to resume after a restart."""
        async with self._engine.connect() as conn:
            rows = await conn.execute(
                select(sessions, groups.c.platform, groups.c.chat_id)
                .join(groups, groups.c.id == sessions.c.group_id)
                .where(sessions.c.status.in_([Status.RUNNING.value, Status.PAUSED.value]))
                .order_by(sessions.c.id)
            )
            return [_session(row) for row in rows]

    async def session(self, session_id: str) -> SessionState | None:
        """Return the stored state of one session, or None."""
        async with self._engine.connect() as conn:
            row = (
                await conn.execute(
                    select(sessions, groups.c.platform, groups.c.chat_id)
                    .join(groups, groups.c.id == sessions.c.group_id)
                    .where(sessions.c.id == session_id)
                )
            ).first()
        return None if row is None else _session(row)

    async def vote_of(self, session_id: str, person: PersonRef, step_id: str) -> tuple[int, ...]:
        """The person's current answer to a step of a session (empty if none)."""
        async with self._engine.connect() as conn:
            return await _registrations.vote_of(conn, session_id, person, step_id)

    async def answers(self, session_id: str, step_id: str) -> list[tuple[int, ...]]:
        """Everyone's current answer to a step of a session, without who gave it."""
        async with self._engine.connect() as conn:
            return await _registrations.answers(conn, session_id, step_id)

    async def turnout(self, session_id: str, step_id: str, group: GroupRef) -> Turnout:
        """How many consented people of the group's chat have spoken at a step, and at all."""
        async with self._engine.connect() as conn:
            return await _profile.turnout(conn, session_id, step_id, group)

    async def desk(self, person: PersonRef) -> Desk:
        """The person's self-paced dialogue, open reflection, and whether they facilitate."""
        async with self._engine.connect() as conn:
            return await _direct.desk(conn, person)

    async def content_versions(self, digests: Iterable[str]) -> dict[str, Version]:
        """The kept content versions of these digests (see ``bot.content.version``)."""
        async with self._engine.connect() as conn:
            return await _content.read_versions(conn, digests)

    async def heard(self, session_id: str) -> SessionHeard:
        """What a session heard, as counts, for its "what we heard today" summary."""
        async with self._engine.connect() as conn:
            return await _direct.heard(conn, session_id)
