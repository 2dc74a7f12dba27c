"""The disclosure audit: how far can a reader narrow each hidden count from what is published?

For every hidden count, two linear programs (SciPy's ``linprog`` with HiGHS) find the least
and the greatest value it can take given every published count, every published sum (a total
and its cells), every published percentage (to its rounding) and what the labels say (a count
described as "fewer than t" is from 1 to t - 1; any other hidden count is at least 0). The
policy needs each range to be at least as wide as "fewer than t" itself, t - 2: anything
narrower gives more away than the published label does. And where a hidden total may be
under t, no one cell may be shown to hold all of it: zeros beside it would say what each of
those few people answered. A count every reader knows to be 0 from what the outputs list (a
group that ran no listed session) is what the reader knew already: it is audited as a shown
zero, and a cell left holding a total by such zeros is no finding. Ranges are of the linear
relaxation, as statistical offices audit tables; the unknowns are counted one component at a
time.
SciPy is imported when the first hidden count is audited: it would otherwise add about a
second to the start of every ``dialogue`` command.
"""

from __future__ import annotations

from collections.abc import Mapping, Sequence
from dataclasses import dataclass
from typing import TYPE_CHECKING

if TYPE_CHECKING:
    import numpy as np

Key = tuple[str, ...]
SLACK = 1e-6


@dataclass(frozen=True)
class Sum:
    """A published sum: the ``members`` add up to ``total``."""

    total: Key
    members: tuple[Key, ...]


@dataclass(frozen=True)
class Share:
    """A published percentage of ``part`` in ``whole``, rounded to ``digits`` decimals."""

    part: Key
    whole: Key
    percent: float
    digits: int


@dataclass(frozen=True)
class Publication:
    """Everything a set of public outputs shows."""

    threshold: int
    shown: Mapping[Key, int]
    small: frozenset[Key]  # hidden and described as "fewer than the threshold"
    hidden: frozenset[Key]  # every hidden count (the small ones too)
    sums: Sequence[Sum]
    shares: Sequence[Share] = ()
    # Counts never shown but linking others (a reader may work them out): not themselves audited.
    unpublished: frozenset[Key] = frozenset()
    # Counts every reader knows to be 0 from what the outputs list, whatever they print (a
    # group that ran no listed session took part in none): audited as shown zeros, and a
    # total they leave to one cell was left to it by that list, not by a published zero.
    known: frozenset[Key] = frozenset()


@dataclass(frozen=True)
class Finding:
    """A hidden count a reader can pin down more closely than the policy allows."""

    key: Key
    low: float
    high: float
    needed: int
    # Set: everyone counted in this (maybe small) total can be told to be in ``key``.
    within: Key | None = None

    def describe(self) -> str:
        """A sentence for staff."""
        name = " / ".join(self.key)
        if self.within is not None:
            return (
                f"everyone counted in the hidden count '{' / '.join(self.within)}' can be "
                f"worked out to be in '{name}', from the zeros published beside it"
            )
        return (
            f"the hidden count '{name}' can be worked out to lie between {self.low:g} and "
            f"{self.high:g} from the other published numbers (the policy needs a range at "
            f"least {self.needed} wide)"
        )


def audit(publication: Publication, around: Key | None = None) -> list[Finding]:
    """Every hidden count whose tightest implied range is narrower than the policy allows.

    With ``around``, only the hidden counts linked to that one (its component) are audited.
    """
    hidden = publication.hidden - publication.known
    if hidden <= publication.unpublished:
        # Only counts never published are hidden (a research export's): every finding would
        # name one of them, and those are left out below, so no range needs working out.
        return []
    rows: list[tuple[dict[Key, float], float, bool]] = []  # (coefficients, bound, equality)
    for s in publication.sums:
        terms = {s.total: -1.0}
        for m in s.members:
            terms[m] = terms.get(m, 0.0) + 1.0
        rows.append(_row(terms, 0.0, publication, hidden, True))
    for share in publication.shares:
        half = 0.5 * 10.0**-share.digits
        low, high = (share.percent - half) / 100, (share.percent + half) / 100
        rows.append(_row({share.part: 1.0, share.whole: -high}, 0.0, publication, hidden, False))
        rows.append(_row({share.part: -1.0, share.whole: low}, 0.0, publication, hidden, False))
    t = publication.threshold
    bounds = {k: ((1.0, float(t - 1)) if k in publication.small else (0.0, None)) for k in hidden}
    found: list[Finding] = []
    for component in _components(hidden, rows):
        if around is None or around in component:
            found += _ranges(component, rows, bounds, publication)
    return [f for f in found if f.key not in publication.unpublished]


def _row(
    terms: dict[Key, float],
    bound: float,
    publication: Publication,
    hidden: frozenset[Key],
    equality: bool,
) -> tuple[dict[Key, float], float, bool]:
    """Move the shown (and known) terms to the right-hand side: ``sum(c * x) (== or <=) bound``."""
    unknown: dict[Key, float] = {}
    for key, c in terms.items():
        if key in hidden:
            unknown[key] = unknown.get(key, 0.0) + c
        else:
            bound -= c * publication.shown.get(key, 0)
    return unknown, bound, equality


def linked(publication: Publication, key: Key) -> set[Key]:
    """The hidden counts a reader can relate to ``key`` through published sums and shares."""
    hidden = publication.hidden - publication.known
    rows = [{k for k in (s.total, *s.members) if k in hidden} for s in publication.sums]
    rows += [{k for k in (x.part, x.whole) if k in hidden} for x in publication.shares]
    found, frontier = {key}, [key]
    while frontier:
        at = frontier.pop()
        for row in rows:
            if at in row:
                fresh = row - found
                found |= fresh
                frontier += fresh
    return found


def _components(
    hidden: frozenset[Key], rows: Sequence[tuple[dict[Key, float], float, bool]]
) -> list[list[Key]]:
    parent = {k: k for k in hidden}

    def root(k: Key) -> Key:
        while parent[k] != k:
            parent[k] = parent[parent[k]]
            k = parent[k]
        return k

    for terms, _, _ in rows:
        keys = [k for k, c in terms.items() if c]
        for k in keys[1:]:
            parent[root(k)] = root(keys[0])
    groups: dict[Key, list[Key]] = {}
    for k in sorted(hidden):  # in order, so the same tables always give the same findings
        groups.setdefault(root(k), []).append(k)
    return list(groups.values())


def _ranges(
    keys: list[Key],
    rows: Sequence[tuple[dict[Key, float], float, bool]],
    bounds: Mapping[Key, tuple[float, float | None]],
    publication: Publication,
) -> list[Finding]:
    threshold = publication.threshold
    needed = max(threshold - 2, 0)
    import numpy as np
    from scipy.optimize import linprog

    index = {k: i for i, k in enumerate(keys)}
    mine = [r for r in rows if r[0] and next(iter(r[0])) in index]
    eq = [r for r in mine if r[2]]
    ub = [r for r in mine if not r[2]]

    def matrix(chosen: list[tuple[dict[Key, float], float, bool]]) -> np.ndarray | None:
        if not chosen:
            return None
        out = np.zeros((len(chosen), len(keys)))
        for i, (terms, _, _) in enumerate(chosen):
            for k, c in terms.items():
                out[i, index[k]] = c
        return out

    a_eq, b_eq = matrix(eq), np.array([r[1] for r in eq]) if eq else None
    a_ub, b_ub = matrix(ub), np.array([r[1] + SLACK for r in ub]) if ub else None
    limits = [bounds[k] for k in keys]

    def extent(goal: np.ndarray) -> tuple[float, float]:
        ends: list[float] = []
        for sign in (1.0, -1.0):
            result = linprog(
                sign * goal,
                A_ub=a_ub,
                b_ub=b_ub,
                A_eq=a_eq,
                b_eq=b_eq,
                bounds=limits,
                method="highs",
            )
            if result.status == 3:  # unbounded: no upper end
                ends.append(float("inf"))
            elif result.status != 0:
                # Infeasible: the published numbers contradict each other; report it as exact.
                ends.append(float("nan"))
            else:
                ends.append(sign * float(result.fun))
        return ends[0], ends[1]

    found: list[Finding] = []
    for k in keys:
        low, high = extent(_unit(len(keys), index[k]))
        if not (high - low >= needed - SLACK):
            found.append(Finding(k, round(low, 3), round(high, 3), needed))
    for s in publication.sums:
        members = [m for m in s.members if m not in publication.known]
        if s.total not in index or len(members) < 2 or bounds[s.total][0] >= threshold:
            continue
        for m in members:
            if m not in index:
                continue
            # Total minus member: 0 at most means everyone the (maybe small) total counts is
            # in this one cell: the zeros beside it point at the few people.
            low, high = extent(_unit(len(keys), index[s.total]) - _unit(len(keys), index[m]))
            if not high > SLACK:
                found.append(Finding(m, low, high, needed, within=s.total))
    return found


def _unit(size: int, at: int) -> np.ndarray:
    import numpy as np

    out = np.zeros(size)
    out[at] = 1.0
    return out
