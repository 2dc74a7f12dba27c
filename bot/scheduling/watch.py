"""What a running process picks up from the database that others changed.

Each process keeps consents, the open cycle and its own groups' live sessions in memory. Changes
made elsewhere (``dialogue person erase``, ``dialogue cycle open`` or ``close``, the scheduler in
another process) reach it at its poll: the scheduler's poll where this process holds the
scheduler's lease, else this watch's own loop, every ``schedule.poll_seconds``. With PostgreSQL a
platform may run in a process of its own without the scheduler; it still forgets an erased
person within a poll and stops a closed cycle's sessions.
"""

from __future__ import annotations

import asyncio
import logging
from collections.abc import Sequence
from typing import TYPE_CHECKING

from bot.core.events import TimerFired
from storage.audit import erased_after, last_audit_id
from storage.cycles import CLOSED, CycleRecord

if TYPE_CHECKING:
    from sqlalchemy.ext.asyncio import AsyncEngine

    from bot.service.cycles import Cycles
    from bot.service.shell import Service

log = logging.getLogger(__name__)

# The name of the task of a watch polling on its own.
LOOP = "dialogue-watch"


class Watch:
    """Erasures, the open cycle and closed cycles, as the database has them, in this process."""

    def __init__(
        self, service: Service, cycles: Cycles, engine: AsyncEngine, poll_seconds: int
    ) -> None:
        self.service = service
        self.cycles = cycles
        self._engine = engine
        self._poll_seconds = poll_seconds
        self._audit_seen = 0
        self._loop: asyncio.Task[None] | None = None

    async def start(self) -> None:
        """Watch from the audit's newest entry on: what came before, this process read anew."""
        self._audit_seen = await last_audit_id(self._engine)

    def begin(self) -> None:
        """Poll on its own, every ``poll_seconds`` from now, until ``stop``."""
        if self._loop is None:
            self._loop = asyncio.get_running_loop().create_task(self._every(), name=LOOP)

    async def stop(self) -> None:
        """End the loop, if one runs; a poll under way is cut short and done again at start."""
        loop, self._loop = self._loop, None
        if loop is not None:
            loop.cancel()
            await asyncio.gather(loop, return_exceptions=True)

    async def poll(self) -> None:
        """Everything the watch picks up: erasures, then cycles."""
        await self.erasures()
        await self.follow(await self.cycles.store.cycles())

    async def erasures(self) -> None:
        """Forget people erased elsewhere since the last poll, and erase again what they wrote.

        Someone erased from the command line: their consent must not stay in memory here, nor
        what they wrote while it did. Seen only once done: a failed poll's next does it again
        (an erasure made again finds nothing, and audits nothing, the second time).
        """
        seen, erased, by_staff = await erased_after(self._engine, self._audit_seen)
        await self.service.forget_erased(erased, by_staff, self.service.clock())
        self._audit_seen = seen

    async def follow(self, cycles: Sequence[CycleRecord]) -> None:
        """Take up the open cycle, and close this process's live sessions of closed ones."""
        current = self.cycles.open_of(cycles)
        self.service.cycle_id, self.service.offered = current.cycle_id, current.offered
        closed = {c.id for c in cycles if c.state == CLOSED}
        for state in list(self.service.sessions.values()):
            if state.live and state.cycle_id in closed:
                now = self.service.clock()
                closing = TimerFired(state.group, "close", now, session_id=state.session_id)
                await self.service.handle(closing)

    async def _every(self) -> None:
        while True:
            await asyncio.sleep(self._poll_seconds)
            try:
                await self.poll()
            except Exception:
                log.exception("the watch's poll failed; it runs again at the next")
