"""One group at a time: events for the same group (or private chat) are handled in order."""

from __future__ import annotations

import asyncio
from collections.abc import AsyncIterator, Hashable
from contextlib import asynccontextmanager


class Dispatcher:
    """Per-key turns: different groups run concurrently, one group's events run in order."""

    def __init__(self) -> None:
        self._locks: dict[Hashable, asyncio.Lock] = {}

    @asynccontextmanager
    async def turn(self, key: Hashable) -> AsyncIterator[None]:
        """Wait for this key's turn (asyncio locks are first come, first served)."""
        lock = self._locks.setdefault(key, asyncio.Lock())
        async with lock:
            yield
