"""Counts gathered while an export streams, for the public tables and the cycle report.

Counts of people are suppressed in the public profile (``exporters.suppress``); the research
profile's report shows them as they are.
"""

from __future__ import annotations

import statistics
from collections import Counter, defaultdict
from collections.abc import Iterable
from dataclasses import dataclass, field
from datetime import date

from bot.content.models import SCOPES
from exporters.schema import ALL_GROUPS
from exporters.suppress import suppress

StepKey = tuple[str, str]  # (script_id, step_id)


@dataclass
class Aggregates:
    """Running counts of one export."""

    replies: Counter[tuple[str, str, str]] = field(default_factory=Counter)
    repliers: defaultdict[tuple[str, str, str], set[str]] = field(
        default_factory=lambda: defaultdict(set)
    )
    votes: Counter[tuple[str, str, str, int]] = field(default_factory=Counter)
    consents: Counter[tuple[str, str]] = field(default_factory=Counter)
    people: defaultdict[str, set[str]] = field(default_factory=lambda: defaultdict(set))
    days: Counter[date] = field(default_factory=Counter)
    returning_people: set[str] = field(default_factory=set)
    minutes: defaultdict[StepKey, list[int]] = field(default_factory=lambda: defaultdict(list))
    planned: dict[StepKey, int | None] = field(default_factory=dict)
    step_order: dict[StepKey, int] = field(default_factory=dict)

    def reply(self, group: str, step: StepKey, person: str, day: date) -> None:
        """Count one reply."""
        key = (group, *step)
        self.replies[key] += 1
        self.repliers[key].add(person)
        self.people[group].add(person)
        self.days[day] += 1

    def vote(self, group: str, step: StepKey, person: str, options: Iterable[int]) -> None:
        """Count one person's answer (each chosen option once)."""
        for option in options:
            self.votes[(group, *step, option)] += 1
        self.people[group].add(person)

    def consent(self, group: str, scopes: frozenset[str]) -> None:
        """Count one person's consent in a group."""
        for scope in SCOPES:
            if scope in scopes:
                self.consents[(group, scope)] += 1

    def visit(self, step: StepKey, minutes: int | None) -> None:
        """Count the time one visit of a step took."""
        if minutes is not None:
            self.minutes[step].append(minutes)

    @property
    def new_and_returning(self) -> dict[str, int]:
        """People who took part for the first time, and people back from earlier cycles."""
        everyone = set().union(*self.people.values()) if self.people else set()
        back = len(everyone & self.returning_people)
        return {"new": len(everyone) - back, "returning": back}

    def median_minutes(self) -> list[tuple[StepKey, float | None, int | None]]:
        """Per step in script order: median minutes spent, and minutes planned."""
        keys = sorted(self.step_order, key=lambda k: (k[0], self.step_order[k]))
        return [
            (k, statistics.median(self.minutes[k]) if self.minutes[k] else None, self.planned[k])
            for k in keys
        ]


Cell = tuple[str, ...]
Table = dict[Cell, int]


def _with_totals(cells: dict[tuple[str, ...], int]) -> tuple[Table, list[tuple[Cell, list[Cell]]]]:
    # The first element of each key is the group; an 'all' row sums the groups.
    members: defaultdict[Cell, list[Cell]] = defaultdict(list)
    for key in cells:
        members[(ALL_GROUPS, *key[1:])].append(key)
    table: Table = dict(cells)
    for total, parts in members.items():
        table[total] = sum(cells[p] for p in parts)
    return table, list(members.items())


@dataclass(frozen=True)
class Published:
    """A count table with the keys that must be shown as suppressed."""

    counts: Table
    hidden: frozenset[Cell]

    def value(self, key: Cell) -> int | None:
        """The count, or None when suppressed."""
        return None if key in self.hidden else self.counts.get(key, 0)


def publish(cells: dict[tuple[str, ...], int], threshold: int | None) -> Published:
    """Add 'all' totals and, with a threshold, suppress small and revealing cells."""
    table, equations = _with_totals(cells)
    hidden = suppress(table, equations, threshold) if threshold else set()
    return Published(table, frozenset(hidden))


def participation(agg: Aggregates, threshold: int | None) -> tuple[Published, Published]:
    """People who replied, and replies, by (group, script, step)."""
    people: dict[Cell, int] = {k: len(v) for k, v in agg.repliers.items()}
    replies: dict[Cell, int] = dict(agg.replies.items())
    return publish(people, threshold), publish(replies, threshold)


def vote_counts(agg: Aggregates, threshold: int | None) -> Published:
    """Answers by (group, script, step, option)."""
    return publish({(*k[:3], str(k[3])): v for k, v in agg.votes.items()}, threshold)


def consent_counts(agg: Aggregates, threshold: int | None) -> Published:
    """Consents by (group, scope)."""
    return publish({k: v for k, v in agg.consents.items()}, threshold)


def people_by_group(agg: Aggregates, threshold: int | None) -> Published:
    """People who replied or voted, by group."""
    return publish({(g,): len(p) for g, p in agg.people.items()}, threshold)


def returning(agg: Aggregates, threshold: int | None) -> Published:
    """New and returning people (their sum is the cycle's people)."""
    split = agg.new_and_returning
    cells: Table = {("new",): split["new"], ("returning",): split["returning"]}
    cells[("everyone",)] = sum(cells.values())
    equations = [(("everyone",), [("new",), ("returning",)])]
    hidden = suppress(cells, equations, threshold) if threshold else set()
    return Published(cells, frozenset(hidden))


def by_day(agg: Aggregates, threshold: int | None) -> Published:
    """Replies per day (no totals are published beside them, so no equations)."""
    cells: Table = {(d.isoformat(),): n for d, n in sorted(agg.days.items())}
    hidden = suppress(cells, [], threshold) if threshold else set()
    return Published(cells, frozenset(hidden))
