"""Counts gathered while an export streams, for the public tables and the cycle report.

Every count is registered in the export's one ``Ledger`` (``exporters.disclosure``) under a
key naming what it counts, with the sums a reader can see; the public profile reads every
number back through the settled policy, the research profile shows them as they are.
"""

from __future__ import annotations

import statistics
from array import array
from collections import Counter, defaultdict
from collections.abc import Hashable, Iterable, Mapping, Sequence
from dataclasses import dataclass, field
from datetime import date
from typing import Generic, TypeVar

import numpy as np

from bot.content.models import Step
from bot.content.scopes import REQUIRED_SCOPE, SCOPES
from exporters.disclosure import Key, Ledger
from exporters.schema import ALL_GROUPS

StepKey = tuple[str, str]  # (script_id, step_id)
K = TypeVar("K", bound=Hashable)
V = TypeVar("V", bound=Hashable)
# Pairs a ``Distinct`` keeps unmerged: 512 kB.
_WAITING = 65_536


class Distinct(Generic[K]):
    """How many different people each key has, in 8 bytes a distinct (key, person) pair.

    A set of people a key took about 40 bytes a pair, and a set's own overhead a key: with a
    cycle's groups, both grew. Pairs wait as numbers (the key's number and the person's, from
    ``numbers``) and are merged, sorted and each once, into one array when enough wait.
    """

    def __init__(self, numbers: dict[str, int]) -> None:
        self._numbers = numbers
        self._keys: dict[K, int] = {}
        self._waiting = array("q")
        self._seen = np.empty(0, np.int64)

    def add(self, key: K, person: str) -> None:
        """Count ``person`` under ``key`` (once, however often added)."""
        number = self._keys.setdefault(key, len(self._keys))
        self._waiting.append(number << 32 | self._numbers.setdefault(person, len(self._numbers)))
        self._wait()

    def add_all(self, keys: Sequence[K], people: Sequence[str]) -> None:
        """Count each person under the key beside it: ``add`` for a page, in bulk."""
        pairs = _numbered(self._keys, keys) << 32 | _numbered(self._numbers, people)
        self._waiting.frombytes(pairs.tobytes())
        self._wait()

    def _wait(self) -> None:
        if len(self._waiting) >= _WAITING:
            self._merge()

    def _merge(self) -> None:
        if self._waiting:
            pairs = np.sort(np.concatenate((self._seen, np.frombuffer(self._waiting, np.int64))))
            # Sorted, each once: NumPy's ``unique`` hashes, at ten times a sort's cost.
            self._seen = pairs[_firsts(pairs)]
            self._waiting = array("q")

    def counts(self) -> dict[K, int]:
        """Each key added with how many different people it has."""
        self._merge()
        numbers = self._seen >> 32
        starts = np.flatnonzero(_firsts(numbers))
        found = np.diff(np.append(starts, len(numbers)))
        keys = list(self._keys)
        return {
            keys[n]: count
            for n, count in zip(numbers[starts].tolist(), found.tolist(), strict=True)
        }


def _firsts(ordered: np.ndarray) -> np.ndarray:
    """Where each run of equal values of a sorted array starts."""
    return np.concatenate(([True], ordered[1:] != ordered[:-1])) if len(ordered) else ordered


def _numbered(numbers: dict[V, int], values: Sequence[V]) -> np.ndarray:
    """Each value's number in ``numbers``, a value not yet there numbered next."""
    for value in dict.fromkeys(values):
        if value not in numbers:
            numbers[value] = len(numbers)
    return np.fromiter(map(numbers.__getitem__, values), np.int64, len(values))


@dataclass
class Aggregates:
    """Running counts of one export."""

    replies: Counter[tuple[str, str, str]] = field(default_factory=Counter)
    votes: Counter[tuple[str, str, str, int]] = field(default_factory=Counter)
    voters: Counter[tuple[str, str, str]] = field(default_factory=Counter)
    consents: Counter[tuple[str, str]] = field(default_factory=Counter)
    days: Counter[date] = field(default_factory=Counter)
    returning_people: set[str] = field(default_factory=set)
    minutes: defaultdict[StepKey, list[int]] = field(default_factory=lambda: defaultdict(list))
    planned: dict[StepKey, int | None] = field(default_factory=dict)
    step_order: dict[StepKey, int] = field(default_factory=dict)
    # Every person who replied or answered, numbered for ``repliers`` and ``people``.
    everyone: dict[str, int] = field(default_factory=dict)
    # The people who replied to each (group, script, step), and who replied or answered in
    # each group.
    repliers: Distinct[tuple[str, str, str]] = field(init=False)
    people: Distinct[str] = field(init=False)

    def __post_init__(self) -> None:
        self.repliers = Distinct(self.everyone)
        self.people = Distinct(self.everyone)

    def reply(self, group: str, step: StepKey, person: str, day: date) -> None:
        """Count one reply."""
        self.replies_of([group], [step], [person], [day])

    def replies_of(
        self,
        groups: Sequence[str],
        steps: Sequence[StepKey],
        people: Sequence[str],
        days: Iterable[date],
    ) -> None:
        """Count a page of replies: each one's group, step, person and day, side by side."""
        keys = [(group, *step) for group, step in zip(groups, steps, strict=True)]
        self.replies.update(keys)
        self.repliers.add_all(keys, people)
        self.people.add_all(groups, people)
        self.days.update(days)

    def vote(self, group: str, step: StepKey, person: str, options: Iterable[int]) -> None:
        """Count one person's answer (each chosen option once)."""
        for option in options:
            self.votes[(group, *step, option)] += 1
        self.voters[(group, *step)] += 1
        self.people.add(group, person)

    def consent(self, group: str, scopes: frozenset[str]) -> None:
        """Count one person's consent in a group."""
        for scope in SCOPES:
            if scope in scopes:
                self.consents[(group, scope)] += 1

    def plan(self, steps: Iterable[tuple[StepKey, int, int | None]]) -> None:
        """Each step's position in its script and its planned minutes."""
        for key, position, planned in steps:
            self.step_order[key], self.planned[key] = position, planned

    def visit(self, step: StepKey, minutes: int | None) -> None:
        """Count the time one visit of a step took."""
        if minutes is not None:
            self.minutes[step].append(minutes)

    def groups(self) -> list[str]:
        """Every group anyone of the export is counted in: each has a row in every table."""
        return sorted({group for group, _ in self.consents} | set(self.people.counts()))

    @property
    def new_and_returning(self) -> dict[str, int]:
        """People who took part for the first time, and people back from earlier cycles."""
        back = len(self.everyone.keys() & self.returning_people)
        return {"new": len(self.everyone) - back, "returning": back}

    def median_minutes(self) -> list[tuple[StepKey, float | None, int | None]]:
        """Per step in script order: median minutes spent, and minutes planned."""
        keys = sorted(self.step_order, key=lambda k: (k[0], self.step_order[k]))
        return [
            (k, statistics.median(self.minutes[k]) if self.minutes[k] else None, self.planned[k])
            for k in keys
        ]


def participants(group: str, step: StepKey) -> Key:
    """People who replied to a step in a group ('all': every group)."""
    return ("participants", group, *step)


def replies(group: str, step: StepKey) -> Key:
    """Replies to a step in a group."""
    return ("replies", group, *step)


def votes(group: str, step: StepKey, option: int) -> Key:
    """People who chose an option of a choice step in a group."""
    return ("votes", group, *step, str(option))


def consents(group: str, scope: str) -> Key:
    """People who agreed to a consent scope in a group."""
    return ("consent", group, scope)


def people(group: str) -> Key:
    """People who replied or answered in a group ('all': the groups' sum)."""
    return ("people", group)


EVERYONE, NEW, RETURNING = ("cycle", "everyone"), ("cycle", "new"), ("cycle", "returning")
# Never shown, but a reader can add up the days, or the steps, to it.
ALL_REPLIES = ("replies", "total")


def day(when: date) -> Key:
    """Replies on one day."""
    return ("day", when.isoformat())


def options(agg: Aggregates, step: StepKey, ballot: Step | None) -> range:
    """Every answer of a choice step, so one nobody chose is a zero, never a row left out."""
    chosen = [o for _, *s, o in agg.votes if (s[0], s[1]) == step]
    return range(1, max([len(ballot.choices()) if ballot else 0, *chosen]) + 1)


def register(agg: Aggregates, ledger: Ledger, ballots: Mapping[StepKey, Step]) -> None:
    """Put every count of the export's tables and report in ``ledger``, with its sums."""
    # Every group has a row in every table, zeros too: a row left out would be a zero shown
    # beside a table withheld for its few people, and would say where they all are.
    groups = agg.groups()
    repliers = agg.repliers.counts()
    people_in = agg.people.counts()
    by_group: defaultdict[tuple[str, ...], list[Key]] = defaultdict(list)
    for step in sorted({(s, k) for _, s, k in agg.replies}):
        for group in groups:
            who = repliers.get((group, *step), 0)
            by_group[("participants", *step)].append(ledger.count(participants(group, step), who))
            replied = agg.replies[(group, *step)]
            by_group[("replies", *step)].append(ledger.count(replies(group, step), replied))
    for step in sorted({(s, k) for _, s, k in agg.voters}):
        ballot = ballots.get(step)
        answers = options(agg, step, ballot)
        for group in groups:
            voters = ledger.unpublished(("voters", group, *step), agg.voters[(group, *step)])
            cells = [
                ledger.count(votes(group, step, o), agg.votes[(group, *step, o)]) for o in answers
            ]
            # With one answer each, the options add up to the people who answered.
            ledger.table(voters, cells, adds_up=ballot is not None and not ballot.multiple)
            for o, cell in zip(answers, cells, strict=True):
                by_group[("votes", *step, str(o))].append(cell)
    for scope in SCOPES:
        # A scope nobody agreed to is a counted zero, not a number the ledger never saw.
        by_group[("consent", scope)] += [
            ledger.count(consents(group, scope), agg.consents[(group, scope)]) for group in groups
        ]
    for group in groups:
        by_group[("people",)].append(ledger.count(people(group), people_in.get(group, 0)))
    for (kind, *rest), members in by_group.items():
        total = (kind, ALL_GROUPS, *rest)
        ledger.count(total, sum(ledger.counts[m] for m in members))
        ledger.table(total, members)
    split = agg.new_and_returning
    ledger.count(NEW, split["new"])
    ledger.count(RETURNING, split["returning"])
    ledger.count(EVERYONE, split["new"] + split["returning"])
    ledger.table(EVERYONE, [NEW, RETURNING])
    days = [ledger.count(day(d), n) for d, n in sorted(agg.days.items())]
    # A reader can add up the days, and the replies of every step: both are all replies.
    total = ledger.unpublished(ALL_REPLIES, sum(agg.days.values()))
    ledger.table(total, days)
    ledger.adds_up(total, [k for k in ledger.counts if k[:2] == ("replies", ALL_GROUPS)])
    ledger.alike(people(ALL_GROUPS), EVERYONE)
    ledger.alike(consents(ALL_GROUPS, REQUIRED_SCOPE), people(ALL_GROUPS))
