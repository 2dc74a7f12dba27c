"""Waiting out a database that went away: retries with a capped backoff, logged once."""

from __future__ import annotations

import asyncio
import logging
import time

log = logging.getLogger(__name__)

FIRST_WAIT = 0.2  # seconds before the first retry; doubled each time
LONGEST_WAIT = 10.0  # the cap: a database that comes back is used within this


class Outage:
    """The writer's view of the database being away: how long to wait before each retry.

    The first failure of an outage is logged as a warning and its end once, with how long it
    lasted; the retries in between are not logged.
    """

    def __init__(self, first: float = FIRST_WAIT, longest: float = LONGEST_WAIT) -> None:
        self._first = first
        self._longest = longest
        self._next: float | None = None  # the next wait; None while the database is there
        self._since = 0.0

    async def wait(self) -> None:
        """Sleep before the next retry (a new outage is logged)."""
        if self._next is None:
            self._next, self._since = self._first, time.monotonic()
            log.warning(
                "the database is unreachable; replies wait and are retried until it is back",
                extra={"kind": "outage"},
            )
        wait, self._next = self._next, min(self._next * 2, self._longest)
        await asyncio.sleep(wait)

    def over(self) -> None:
        """A commit went through: an outage, if there was one, has ended."""
        if self._next is not None:
            self._next = None
            seconds = round(time.monotonic() - self._since)
            log.warning(
                "the database is back after %s s; capture goes on",
                seconds,
                extra={"kind": "outage"},
            )
