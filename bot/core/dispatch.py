"""One group at a time: events for the same group (or private chat) are handled in order."""

from __future__ import annotations

import asyncio
from collections.abc import Hashable


class Dispatcher:
    """Per-key turns: different groups run concurrently, one group's events run in order."""

    def __init__(self) -> None:
        self._locks: dict[Hashable, asyncio.Lock] = {}

    def turn(self, key: Hashable) -> asyncio.Lock:
        """This key's lock: ``async with dispatcher.turn(key)`` waits for its turn.

        asyncio locks are first come, first served. The lock itself is returned (rather than
        a context manager wrapping it) because this runs for every event of every group.
        """
        lock = self._locks.get(key)
        if lock is None:
            lock = self._locks[key] = asyncio.Lock()
        return lock
