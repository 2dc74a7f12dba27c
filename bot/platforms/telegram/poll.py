"""Long polling that confirms an update to Telegram only after it was handled.

PTB's own updater confirms a batch of updates (by asking for the next offset) as soon as it
has fetched them, before the bot has handled them: a bot killed in between loses them, since
Telegram never sends them again. Here the offset moves past an update only once the bot has
handled it (and so committed what it captured); after a crash Telegram sends the unconfirmed
updates again, and the service's exactly-once key makes the copies of handled ones no-ops.

A fetched batch (a backlog after a restart, a busy group) is handed on update after update
without waiting for each commit: ``process`` returns an update's finish, and the replies of a
group ride in the writer's shared batches. The offset then moves past each update in order,
once its finish is done, before the next poll.
"""

from __future__ import annotations

import asyncio
import contextlib
import logging
from collections.abc import Awaitable, Callable, Sequence
from datetime import timedelta
from typing import Any

from telegram import Bot, Update
from telegram.error import RetryAfter, TelegramError

log = logging.getLogger(__name__)

# Waits between failed polls grow from the first to the last, doubling.
FIRST_WAIT, LAST_WAIT = 1.0, 30.0


class Poller:
    """Fetches updates, hands each to ``process`` in order, then confirms them.

    ``process`` returns once an update is decided: with its finish (an awaitable done once
    what it captured is committed), or None when it is finished already.
    """

    def __init__(
        self,
        bot: Bot,
        process: Callable[[Update], Awaitable[Awaitable[Any] | None]],
        timeout: int,
        allowed_updates: Sequence[str],
    ) -> None:
        self.bot = bot
        self.process = process
        self.timeout = timeout
        self.allowed_updates = list(allowed_updates)
        self.offset: int | None = None
        self._stopping = asyncio.Event()
        self._task: asyncio.Task[None] | None = None

    @property
    def running(self) -> bool:
        """Whether the polling loop runs."""
        return self._task is not None and not self._task.done()

    def start(self) -> None:
        """Start polling in the background."""
        self._stopping.clear()
        self._task = asyncio.create_task(self._run(), name="telegram-poll")

    async def stop(self) -> None:
        """Finish the batch being handled, confirm what was handled, and stop."""
        self._stopping.set()
        if self._task is not None:
            await self._task
            self._task = None
        if self.offset is not None:
            try:  # asks for at most one new update, which stays unconfirmed
                await self.bot.get_updates(offset=self.offset, limit=1, timeout=0)
            except TelegramError as exc:
                log.info("last updates not confirmed: %s", type(exc).__name__)

    async def _run(self) -> None:
        wait = FIRST_WAIT
        while not self._stopping.is_set():
            try:
                updates = await self._fetch()
            except RetryAfter as exc:
                after = exc.retry_after
                await self._pause(after.total_seconds() if isinstance(after, timedelta) else after)
                continue
            except TelegramError as exc:
                log.warning("could not fetch updates: %s", type(exc).__name__)
                await self._pause(wait)
                wait = min(wait * 2, LAST_WAIT)
                continue
            wait = FIRST_WAIT
            finishes = [(update, await self.process(update)) for update in updates or ()]
            for update, finish in finishes:
                if finish is not None:
                    await _finished(finish)
                self.offset = update.update_id + 1

    async def _fetch(self) -> tuple[Update, ...] | None:
        """One long poll; None when stopping interrupted it."""
        poll = asyncio.ensure_future(
            self.bot.get_updates(
                offset=self.offset, timeout=self.timeout, allowed_updates=self.allowed_updates
            )
        )
        stopping = asyncio.ensure_future(self._stopping.wait())
        await asyncio.wait({poll, stopping}, return_when=asyncio.FIRST_COMPLETED)
        stopping.cancel()
        if not poll.done():
            poll.cancel()
            with contextlib.suppress(asyncio.CancelledError):
                await poll
            return None
        return poll.result()

    async def _pause(self, seconds: float) -> None:
        with contextlib.suppress(TimeoutError):
            await asyncio.wait_for(self._stopping.wait(), seconds)


async def _finished(finish: Awaitable[Any]) -> None:
    """Wait for an update's finish; one that failed is logged, as its handler's error is."""
    try:
        await finish
    except Exception as exc:
        log.error("an update could not be handled: %s", type(exc).__name__)
