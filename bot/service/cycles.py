"""Cycles: create, open and close them; closing one drafts its "what we heard" card.

Used by ``dialogue cycle`` and by the scheduler, so a cycle behaves the same whether staff
close it by hand or its closing date comes. Ending the sessions still running in a closed
cycle needs the chat platforms, so the scheduler does that part (see ``bot.scheduling.scheduler``).
"""

from __future__ import annotations

import logging
import re
from collections.abc import Awaitable, Callable, Iterable, Sequence
from dataclasses import dataclass, replace
from datetime import datetime, timedelta, tzinfo
from pathlib import Path
from typing import TYPE_CHECKING

from bot.content.check import Library
from bot.core.schedule import DATE_FORMAT, NoSuchLocalTime, parse_local
from bot.service.drafts import HeardDrafts
from bot.texts import Catalogue
from exporters.disclosure import Disclosure, DisclosureError
from exporters.heard_card import chosen_quotes, draft, quoting, write_draft
from storage.cycles import CLOSED, OPEN, PLANNED, CycleExists, CycleRecord, CycleStore
from storage.heard import heard, record_quotes

if TYPE_CHECKING:
    from sqlalchemy.ext.asyncio import AsyncEngine

log = logging.getLogger(__name__)

CYCLE_ID = re.compile(r"^[a-z0-9][a-z0-9-]{0,62}$")
# Writes a cycle's export and says where.
Export = Callable[[str], Awaitable[Path]]


class CycleProblem(Exception):
    """Something about a cycle command that the person can fix; the message says what."""


@dataclass(frozen=True, slots=True)
class Closed:
    """A cycle that was just closed, and what closing it wrote."""

    cycle: CycleRecord
    card: Path | None
    export: Path | None
    # Scheduled sessions that were still to open in the cycle, now cancelled.
    cancelled: int = 0


@dataclass(frozen=True, slots=True)
class OpenCycle:
    """Which cycle new sessions join, and the scripts they may use (None: every script)."""

    cycle_id: str
    offered: frozenset[str] | None


def parse_when(text: str, zone: tzinfo, *, end: bool = False) -> datetime:
    """``YYYY-MM-DD`` or ``YYYY-MM-DD HH:MM`` in ``zone``, as UTC.

    A bare end date means that whole day: the cycle closes at the following midnight.
    """
    value = text.strip()
    try:
        if len(value) == len("2027-01-31"):
            midnight = parse_local(value, "00:00", zone)
            if not end:
                return midnight
            following = datetime.strptime(value, "%Y-%m-%d") + timedelta(days=1)
            return parse_local(f"{following:%Y-%m-%d}", "00:00", zone)
        day, _, clock = value.partition(" ")
        return parse_local(day, clock.strip(), zone)
    except NoSuchLocalTime:
        raise CycleProblem(f"'{text}': the clocks skip that time; choose another") from None
    except ValueError:
        raise CycleProblem(
            f"'{text}': write a date as YYYY-MM-DD or a time as 'YYYY-MM-DD HH:MM'"
        ) from None


def shown(at: datetime | None, zone: tzinfo) -> str:
    """A stored UTC time on the deployment's wall clock, with the zone's abbreviation."""
    return "-" if at is None else f"{at.astimezone(zone):{DATE_FORMAT} %Z}"


def in_prompts(known: Iterable[str]) -> str:
    """The scripts there are to choose from, for a message that refuses another."""
    return f"scripts in prompts/: {', '.join(sorted(known)) or '-'}"


class Cycles:
    """Cycle operations on the store, with the content and settings they need."""

    def __init__(
        self,
        store: CycleStore,
        engine: AsyncEngine,
        library: Callable[[], Library],
        texts: Catalogue,
        language: str,
        drafts: HeardDrafts,
        max_quotes: int,
        default_cycle: str,
        publishing: Callable[[str], Awaitable[Disclosure]],
        export: Export | None = None,
    ) -> None:
        """``publishing``: the cycle's one disclosure decision for all its public outputs."""
        self.store = store
        self._engine = engine
        self._library = library
        self._texts = texts
        self._language = language
        self._drafts = drafts
        self._max_quotes = max_quotes
        self._default = default_cycle
        self._export = export
        self._publishing = publishing

    async def create(
        self,
        cycle_id: str,
        title: str,
        theme: str,
        opens_at: datetime,
        closes_at: datetime,
        scripts: Sequence[str],
        now: datetime,
    ) -> CycleRecord:
        """A new planned cycle; every problem is a CycleProblem naming what to fix."""
        if not CYCLE_ID.match(cycle_id):
            raise CycleProblem(
                f"cycle id '{cycle_id}': use lower-case letters, digits and dashes, "
                "for example 2027-c1"
            )
        if closes_at <= opens_at:
            raise CycleProblem("--end must come after --start")
        known = self._library().scripts
        unknown = [s for s in scripts if s not in known]
        if not scripts or unknown:
            raise CycleProblem(
                f"--scripts: {'no such script: ' + ', '.join(unknown) if unknown else 'none given'}"
                f"; {in_prompts(known)}"
            )
        record = CycleRecord(
            cycle_id, title, theme, tuple(dict.fromkeys(scripts)), PLANNED, opens_at, closes_at
        )
        try:
            await self.store.create_cycle(record, now)
        except CycleExists:
            raise CycleProblem(f"a cycle '{cycle_id}' exists already") from None
        return record

    async def get(self, cycle_id: str) -> CycleRecord:
        """The cycle, or a CycleProblem listing the ones there are."""
        found = await self.store.cycle(cycle_id)
        if found is None:
            ids = ", ".join(c.id for c in await self.store.cycles()) or "none yet"
            raise CycleProblem(f"there is no cycle '{cycle_id}' (cycles: {ids})")
        return found

    async def open(self, cycle_id: str, now: datetime) -> CycleRecord:
        """Open a planned cycle; an open one whose time is up closes first, any other refuses."""
        cycle = await self.get(cycle_id)
        if cycle.state != PLANNED:
            raise CycleProblem(f"cycle '{cycle_id}' is {cycle.state}; only a planned cycle opens")
        for other in await self.store.cycles([OPEN]):
            if other.closes_at > now:
                raise CycleProblem(
                    f"cycle '{other.id}' is still open; close it first: dialogue cycle close "
                    f"{other.id}"
                )
            await self.close(other.id, now)
        if not await self.store.move_cycle(cycle_id, PLANNED, OPEN, now):
            raise CycleProblem(f"cycle '{cycle_id}' changed while opening it; try again")
        return await self.get(cycle_id)

    async def close(self, cycle_id: str, now: datetime) -> Closed | None:
        """Close an open (or planned) cycle, draft its card and export; None if already closed."""
        cycle = await self.get(cycle_id)
        if cycle.state == CLOSED or not await self.store.move_cycle(
            cycle_id, cycle.state, CLOSED, now
        ):
            return None
        cycle = await self.get(cycle_id)
        # Sessions scheduled to run in the cycle would open outside it: they go with it.
        cancelled = await self.store.cancel_scheduled(max(cycle.closes_at, now))
        library = self._library()
        summary = await heard(self._engine, cycle.id, quoting(library, self._max_quotes))
        quotes = chosen_quotes(summary, library, self._max_quotes)
        card = None
        try:
            text = draft(
                cycle,
                replace(summary, quotes=quotes),
                library,
                self._texts,
                self._language,
                self._drafts.redactor(),
                await self._publishing(cycle.id),
            )
        except DisclosureError as failed:
            log.warning("what-we-heard card not drafted: %s", failed, extra={"cycle": cycle_id})
        else:
            card = write_draft(self._drafts.folder, cycle, text)
            if card is None:
                log.warning("what-we-heard card exists; left as it is", extra={"cycle": cycle_id})
            else:
                await record_quotes(self._engine, cycle.id, quotes)
        export = None
        if self._export is not None:
            export = await self._export_cycle(cycle.id)
        log.info("cycle closed", extra={"cycle": cycle_id, "cancelled": cancelled})
        return Closed(cycle, card, export, cancelled)

    async def _export_cycle(self, cycle_id: str) -> Path | None:
        assert self._export is not None
        try:
            return await self._export(cycle_id)
        except Exception:
            # The cycle is closed either way; staff can export again with `dialogue export`.
            log.exception("export on closing the cycle failed", extra={"cycle": cycle_id})
            return None

    async def current(self) -> OpenCycle:
        """The open cycle and its scripts; before any cycle exists, the default with all."""
        return self.open_of(await self.store.cycles())

    def open_of(self, everything: Sequence[CycleRecord]) -> OpenCycle:
        """``current`` of the cycles given (every cycle, as the store has them)."""
        if not everything:
            return OpenCycle(self._default, None)
        open_now = [c for c in everything if c.state == OPEN]
        if not open_now:
            return OpenCycle(self._default, frozenset())
        return OpenCycle(open_now[0].id, frozenset(open_now[0].scripts))
