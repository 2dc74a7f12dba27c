"""What an export reads before its walk: the cycle, its sessions, step visits and cards."""

from __future__ import annotations

from array import array
from collections.abc import Iterator, Sequence
from dataclasses import dataclass
from datetime import UTC, datetime, timedelta

from bot.content.check import Library
from bot.core.ids import GroupRef, PersonRef
from exporters import published
from exporters.aggregates import Aggregates
from exporters.codebook import Codebook
from storage.dataset_records import CardExposureRow, CycleRow, SessionRow, StepVisitRow
from storage.datasets import Datasets

_EPOCH = datetime(1970, 1, 1, tzinfo=UTC)
_MICROSECOND = timedelta(microseconds=1)


class Visits:
    """Every session's step visits, a step number and a time each, in two arrays.

    Held from before the walk until the report: as rows (a dataclass and a datetime each)
    they took about 200 bytes a visit, 17 MB at a million replies; here 12 bytes.
    """

    def __init__(self) -> None:
        self._steps = array("i")
        # Microseconds since 1970 (times are stored in UTC).
        self._times = array("q")
        self._sessions: dict[str, tuple[int, int]] = {}

    def add(self, visits: Sequence[StepVisitRow]) -> None:
        """Visits in order, a session's together (as ``Datasets.step_visit_pages`` gives them)."""
        for visit in visits:
            at = len(self._steps)
            start, end = self._sessions.get(visit.session_id, (at, at))
            if end != at:
                raise RuntimeError("step visits came apart from their session's")
            self._sessions[visit.session_id] = (start, at + 1)
            self._steps.append(visit.step_index)
            self._times.append((visit.started_at - _EPOCH) // _MICROSECOND)

    def of(self, session_id: str) -> list[StepVisitRow]:
        """A session's visits, in time order, as they were read."""
        start, end = self._sessions.get(session_id, (0, 0))
        return [
            StepVisitRow(session_id, step, _EPOCH + timedelta(microseconds=at))
            for step, at in zip(self._steps[start:end], self._times[start:end], strict=True)
        ]

    def shown(self, session_id: str) -> frozenset[int]:
        """The step numbers a session showed."""
        start, end = self._sessions.get(session_id, (0, 0))
        return frozenset(self._steps[start:end])


@dataclass(frozen=True)
class Cycle:
    """What an export reads before it writes: the cycle's sessions, plan and codebook."""

    cycle: str | None
    # Every cycle known; ``this`` is the exported one (None: all cycles, or not managed).
    cycles: list[CycleRow]
    this: CycleRow | None
    sessions: list[SessionRow]
    titles: dict[GroupRef, str | None]
    visits: Visits
    cards: dict[str, list[CardExposureRow]]
    total: int
    codebook: Codebook
    first: datetime | None
    back: list[tuple[PersonRef, str]]
    previous: list[str]


async def read_cycle(datasets: Datasets, library: Library, cycle: str | None) -> Cycle:
    """Read what the export needs before its walk: the cycle's sessions and their plan."""
    cycles = await datasets.cycles()
    sessions = await datasets.sessions(cycle)
    titles = await datasets.groups()
    visits = Visits()
    async for page in datasets.step_visit_pages(cycle):
        visits.add(page)
    cards = _by_session(await datasets.card_exposures(cycle))
    total = sum(await datasets.counts(cycle))
    codebook = await published.codebook_of(datasets, library, sessions, cycle)
    first = min((s.started_at for s in sessions if s.started_at), default=None)
    back = await datasets.returning(cycle, first) if cycle and first else []
    this = next((c for c in cycles if c.cycle_id == cycle), None)
    began = this.began if this and this.began else first
    previous = [c.cycle_id for c in cycles if began and c.began and c.began < began]
    return Cycle(
        cycle, cycles, this, sessions, titles, visits, cards, total, codebook, first, back, previous
    )


def _by_session(items: Sequence[CardExposureRow]) -> dict[str, list[CardExposureRow]]:
    found: dict[str, list[CardExposureRow]] = {}
    for item in items:
        found.setdefault(item.session_id, []).append(item)
    return found


def timed_visits(
    agg: Aggregates, codebook: Codebook, session: SessionRow, visits: Sequence[StepVisitRow]
) -> list[tuple[StepVisitRow, int | None]]:
    """A session's step visits with the minutes each took, counted in ``agg`` by step."""
    timed = list(_visit_minutes(visits, session))
    for visit, minutes in timed:
        step = codebook.at(session.script_id, visit.step_index, session.content_version)
        if step is not None:
            agg.visit((session.script_id or "", step.id), minutes)
    return timed


def _visit_minutes(
    visits: Sequence[StepVisitRow], session: SessionRow
) -> Iterator[tuple[StepVisitRow, int | None]]:
    # A session may show no step to a group at all (a cycle's direct session).
    ends = [v.started_at for v in visits[1:]] + ([session.ended_at] if visits else [])
    for visit, end in zip(visits, ends, strict=True):
        yield visit, round((end - visit.started_at).total_seconds() / 60) if end else None
