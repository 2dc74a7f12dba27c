"""One group at a time: events for the same group (or private chat) are handled in order."""

from __future__ import annotations

import asyncio
from collections.abc import Hashable


class Turn:
    """A key's turn: its lock, and the finish of its last event that others may wait for."""

    __slots__ = ("lock", "tail")

    def __init__(self) -> None:
        """A free turn, with nothing pending."""
        self.lock = asyncio.Lock()
        # The last plain reply's finish (see Service.submit): kept here, in the record the
        # event's turn looks up anyway, so an event costs no look-ups of its own for it.
        self.tail: asyncio.Future[None] | None = None


class Dispatcher:
    """Per-key turns: different groups run concurrently, one group's events run in order."""

    def __init__(self) -> None:
        self._turns: dict[Hashable, Turn] = {}

    def turn(self, key: Hashable) -> Turn:
        """This key's turn: its ``lock`` (acquired and released) waits for its turn.

        asyncio locks are first come, first served. The turn itself is returned (rather than
        a context manager wrapping its lock) because this runs for every event of every group.
        """
        turn = self._turns.get(key)
        if turn is None:
            turn = self._turns[key] = Turn()
        return turn
