"""Catching up after downtime: what each session's channel or thread said while the bot was away.

Discord keeps a channel's history. Whenever a new gateway session begins (at start, or after a
reconnect Discord could not resume), every group with a session under way waits while the bot
reads the messages after its cursor (the newest one it handled there), oldest first, through
the same function as live messages, with the edits made since; live messages for that group
are handled after it, so everything stays in order. What is read twice, the service drops.

Cursors are kept in memory and written in batches (every few seconds and at stop), never once
per message. A stale cursor only means reading some messages again; a cursor must never pass a
message not yet handled, so a group whose catch-up failed or stopped at the limit keeps its
cursor (live messages do not move it) until a later catch-up gets through.
"""

from __future__ import annotations

import asyncio
import logging
from collections.abc import Awaitable, Callable, Mapping
from datetime import datetime
from typing import Protocol

import discord
from discord.ext import tasks
from discord.utils import snowflake_time, time_snowflake

from bot.core.ids import TOPIC_SEPARATOR, GroupRef
from bot.core.ports import CursorStore
from bot.core.state import SessionState

FLUSH_SECONDS = 5.0
Channel = discord.abc.GuildChannel | discord.Thread | discord.abc.PrivateChannel
log = logging.getLogger(__name__)


class Reader(Protocol):
    """What catching up needs from the adapter."""

    async def channel(self, channel_id: int) -> Channel:
        """A channel or thread by id, from the cache or from Discord."""

    async def take(self, message: discord.Message) -> Awaitable[None] | None:
        """Decide a message as if it had just been posted; what to await for its finish."""

    async def take_edit(self, message: discord.Message, group: GroupRef) -> None:
        """Handle a message's latest edit exactly as if it had just been made."""


class CursorBook:
    """Each group's newest handled message id, in memory, written to the store in batches."""

    def __init__(self, store: CursorStore, platform: str, clock: Callable[[], datetime]) -> None:
        self.store, self.platform, self.clock = store, platform, clock
        self._marks: dict[GroupRef, int] = {}
        self._dirty: set[GroupRef] = set()
        self._held: set[GroupRef] = set()
        self._flusher = tasks.loop(seconds=FLUSH_SECONDS)(self.flush)
        self._loaded = False

    async def load(self) -> None:
        """Read the stored cursors, once per process (a newer mark in memory wins)."""
        if self._loaded:
            return
        for group, message_id in (await self.store.cursors(self.platform)).items():
            self._marks[group] = max(message_id, self._marks.get(group, 0))
        self._loaded = True

    def get(self, group: GroupRef) -> int:
        """The group's cursor (0: none)."""
        return self._marks.get(group, 0)

    def hold(self, group: GroupRef) -> None:
        """Keep the group's cursor where it is: messages before later ones are still unread."""
        self._held.add(group)

    def release(self, group: GroupRef) -> None:
        """Let the group's cursor move again (a catch-up is reading from it, in order)."""
        self._held.discard(group)

    def advance(self, group: GroupRef, message_id: int) -> None:
        """A message of the group was handled: move its cursor there, written soon."""
        if group in self._held or message_id <= self._marks.get(group, 0):
            return
        self._marks[group] = message_id
        self._dirty.add(group)
        if not self._flusher.is_running():
            self._flusher.start()

    async def flush(self) -> None:
        """Write the cursors that moved; on failure they are written with the next batch."""
        batch = {group: self._marks[group] for group in self._dirty}
        if not batch:
            return
        try:
            await self.store.advance_cursors(batch, self.clock())
        except Exception as exc:  # the cursors stay in memory; a stale one is harmless
            log.warning("could not save catch-up cursors: %s", type(exc).__name__)
            return
        self._dirty -= {group for group, mark in batch.items() if self._marks[group] == mark}

    async def close(self) -> None:
        """Stop the periodic writes and write what is pending now."""
        running = self._flusher.get_task()
        self._flusher.cancel()
        if running is not None:
            await asyncio.wait({running})  # a write cut short leaves its cursors pending
        await self.flush()


class CatchUp:
    """Reads back what each session's channel or thread said while the bot could not listen."""

    def __init__(
        self,
        reader: Reader,
        book: CursorBook,
        sessions: Callable[[], Mapping[GroupRef, SessionState]],
        limit: int,
    ) -> None:
        self.reader, self.book, self.sessions, self.limit = reader, book, sessions, limit
        self._gates: dict[GroupRef, asyncio.Event] = {}
        self._reading: set[GroupRef] = set()
        self._connections = 0

    def _state(self, group: GroupRef) -> SessionState | None:
        state = self.sessions().get(group)
        return state if state is not None and state.live else None

    def connected(self) -> None:
        """A new gateway session began: every session's group may have missed messages."""
        self._connections += 1
        if not self.limit:
            return
        for group in self.sessions():
            if group.platform == self.book.platform and self._state(group) is not None:
                self._gates.setdefault(group, asyncio.Event())

    async def wait(self, group: GroupRef) -> None:
        """Let a live message of the group wait until the group has caught up."""
        gate = self._gates.get(group)
        if gate is not None:
            await gate.wait()

    def handled(self, group: GroupRef, message_id: int) -> None:
        """A message was handled: it moves the cursor of a group with a session under way."""
        if self._state(group) is not None:
            self.book.advance(group, message_id)

    async def run(self) -> None:
        """Catch up every waiting group, one after another, then let its live messages in."""
        for group in list(self._gates):
            if group in self._reading:
                continue
            self._reading.add(group)
            try:
                # A reconnect while reading may have missed more: read again from the cursor.
                seen = -1
                while seen != self._connections:
                    seen = self._connections
                    await self._catch_up(group)
            finally:
                self._reading.discard(group)
                self._gates.pop(group).set()

    async def _catch_up(self, group: GroupRef) -> None:
        channel_id = int(group.chat_id.rpartition(TOPIC_SEPARATOR)[2])
        self.book.release(group)
        try:
            read = await self._read(group, channel_id)
        except Exception as exc:  # one channel must not keep the others (or the bot) waiting
            self.book.hold(group)
            log.warning(
                "could not catch up on channel %s: %s",
                channel_id,
                type(exc).__name__,
                extra={"group": group.chat_id},
            )
            return
        if read >= self.limit:
            self.book.hold(group)
            log.warning(
                "caught up on the first %s missed messages of channel %s; the rest at the next "
                "start (discord.catch_up_limit)",
                read,
                channel_id,
                extra={"group": group.chat_id},
            )
        else:
            log.info("caught up", extra={"group": group.chat_id, "messages": read})

    async def _read(self, group: GroupRef, channel_id: int) -> int:
        """Hand on the group's missed messages and edits; returns how many messages were new."""
        await self.book.load()
        state = self._state(group)
        if state is None:
            return 0
        channel = await self.reader.channel(channel_id)
        if not isinstance(channel, discord.abc.Messageable):
            return 0
        # Nothing before the session began belongs to it (a channel may have had others).
        floor = time_snowflake(state.started_at) if state.started_at else 0
        since = max(self.book.get(group), floor)
        read = 0
        missed = channel.history(limit=None, after=discord.Object(since), oldest_first=True)
        # Each message is decided while those before it wait for their commit (a group's
        # replies ride in the writer's shared batches); the cursor moves past a message once
        # it is finished, and the group's live messages wait until all are.
        taken: list[Awaitable[None]] = []
        try:
            async for message in missed:
                if (finish := await self.reader.take(message)) is not None:
                    taken.append(finish)
                await self.reader.take_edit(message, group)
                read += 1
                if read == self.limit:
                    break
        finally:
            for finish in taken:
                await finish
        if since > floor:
            # Replies from before the downtime may have been edited during it (or just before:
            # an edit handled twice changes nothing).
            down = snowflake_time(since)
            earlier = channel.history(
                limit=self.limit, before=discord.Object(since + 1), after=discord.Object(floor)
            )
            async for message in earlier:
                if message.edited_at is not None and message.edited_at >= down:
                    await self.reader.take_edit(message, group)
        return read
