"""The reach report: who takes part, against who lives in the area, and who does the talking.

For each profile question compared with the baseline, the share of participants giving each
answer (among those who gave one) is set against the area's share. Every count goes through
the disclosure policy (``exporters.disclosure``), in the same ledger as the rest of an export,
so no hidden count can be worked out from the others; a share or ratio is shown only where
its count and its denominator are.

A value is under-represented when its share among participants is below ``UNDER`` times its
share of the area; the ``MOST`` lowest such ratios are highlighted, and so are categories
whose gap (the dissimilarity index over the values shown: half the sum of the differences
between the two shares) is at least ``WIDE_GAP`` points. Within each session, how
concentrated replies are is the Gini coefficient of replies per person and the share of
replies written by the most active fifth of the people.
"""

from __future__ import annotations

import math
from collections.abc import Callable, Sequence
from dataclasses import dataclass, replace
from statistics import median

from bot.content.baseline import Baseline
from bot.content.check import Library
from bot.content.profile import ProfileQuestion, ProfileQuestions
from bot.core.ids import GroupRef
from exporters import aggregates as agg_
from exporters.disclosure import Disclosure, Key, Ledger
from exporters.schema import ALL_GROUPS
from storage.datasets import Datasets
from storage.reach import CycleReach, SessionReplies

UNDER = 0.8  # the "four-fifths" rule of thumb for adverse impact
MOST = 3
WIDE_GAP = 10.0
TOP_FIFTH = 0.2


@dataclass(frozen=True)
class ValueReach:
    """One answer of a category: participants, their share, the area's share."""

    value: str
    count: int | None  # None: suppressed
    share: float | None  # per cent of those who answered
    baseline: float | None  # per cent of the area
    ratio: float | None  # share / baseline
    under: bool = False
    highlighted: bool = False


@dataclass(frozen=True)
class CategoryReach:
    """One profile question: its values and who did not answer it."""

    question_id: str
    label: str
    values: tuple[ValueReach, ...]
    answered: int | None
    prefer_not: int | None
    not_answered: int | None  # skipped, or not asked yet
    gap: float | None  # dissimilarity index over the values shown, in points
    sources: tuple[str, ...]
    highlighted: bool = False


@dataclass(frozen=True)
class Inequality:
    """How concentrated replies were in one session (or, for the summary, the median)."""

    label: str
    people: int | None  # None: suppressed
    replies: int | None
    gini: float | None
    top_share: float | None  # per cent of replies from the most active fifth


@dataclass(frozen=True)
class Summary:
    """The median session: its Gini coefficient and top-fifth share, over sessions with replies."""

    sessions: int
    gini: float
    top_share: float


@dataclass(frozen=True)
class ReachReport:
    """The whole reach report of a cycle."""

    cycle_id: str
    threshold: int
    participants: int | None
    with_profile: int | None
    without_profile: int | None
    categories: tuple[CategoryReach, ...]
    sessions: tuple[Inequality, ...]
    summary: Summary | None
    example: bool
    has_baseline: bool

    @property
    def most_under(self) -> list[tuple[CategoryReach, ValueReach]]:
        """The highlighted values, most under-represented first."""
        found = [(c, v) for c in self.categories for v in c.values if v.highlighted]
        return sorted(found, key=lambda cv: (cv[1].ratio or 0.0, -(cv[1].baseline or 0.0)))


def gini(counts: Sequence[int]) -> float | None:
    """The Gini coefficient of ``counts``: 0 when all are equal, near 1 when one has all."""
    total = sum(counts)
    if not counts or total == 0:
        return None
    ordered = sorted(counts)
    n = len(ordered)
    ranked = sum(rank * x for rank, x in enumerate(ordered, start=1))
    return 2 * ranked / (n * total) - (n + 1) / n


def top_share(counts: Sequence[int], fraction: float = TOP_FIFTH) -> float | None:
    """Per cent of the total held by the largest ``fraction`` of counts (at least one)."""
    total = sum(counts)
    if not counts or total == 0:
        return None
    # The tolerance keeps 15 * 0.2 (3.0000000000000004 in floating point) at 3 people.
    top = max(1, math.ceil(len(counts) * fraction - 1e-9))
    return 100 * sum(sorted(counts, reverse=True)[:top]) / total


def inequality(session: SessionReplies, label: str, disclosure: Disclosure) -> Inequality:
    """The concentration of replies in one session; hidden with its count of people."""
    counts = session.replies
    people = disclosure.value(_session(session, "people"))
    replies = disclosure.value(_session(session, "replies"))
    # With the people hidden, the spread of their replies would describe the few of them.
    spread = people is not None
    return Inequality(
        label,
        people,
        replies,
        gini(counts) if spread else None,
        top_share(counts) if spread else None,
    )


PEOPLE, PROFILE, NO_PROFILE = ("reach", "people"), ("reach", "profile"), ("reach", "no-profile")
REPLIES = ("reach", "replies")
# The tables' counts of what people did in sessions (consent is given outside them).
TOOK_PART = frozenset({"replies", "participants", "votes", "voters", "people"})


def register(ledger: Ledger, data: CycleReach, questions: ProfileQuestions) -> None:
    """Put the reach report's counts in ``ledger``, with the sums a reader can see."""
    profiled = [a for a in data.people if a is not None]
    ledger.count(PEOPLE, len(data.people))
    ledger.count(PROFILE, len(profiled))
    ledger.count(NO_PROFILE, len(data.people) - len(profiled))
    ledger.table(PEOPLE, [PROFILE, NO_PROFILE])
    for q in questions.questions:
        values = {v: 0 for v in q.report_values()}
        prefer = missing = 0
        for answers in profiled:
            answer = answers.get(q.id)
            counted = q.report_value(answer) if answer is not None else None
            if counted is not None:
                values[counted] += 1
            elif answer == questions.prefer_not_to_say:
                prefer += 1
            else:
                missing += 1  # skipped, not asked yet, or an option since removed
        cells = [ledger.count(("reach", q.id, "value", v), n) for v, n in values.items()]
        answered = ledger.count(("reach", q.id, "answered"), sum(values.values()))
        ledger.table(answered, cells)
        parts = [
            answered,
            ledger.count(("reach", q.id, "prefer"), prefer),
            ledger.count(("reach", q.id, "missing"), missing),
        ]
        ledger.table(PROFILE, parts)
    sessions = []
    for s in data.sessions:
        ledger.count(_session(s, "people"), len(s.replies))
        sessions.append(ledger.count(_session(s, "replies"), sum(s.replies)))
    ledger.unpublished(REPLIES, sum(sum(s.replies) for s in data.sessions))
    ledger.adds_up(REPLIES, sessions)


def compute(
    data: CycleReach,
    questions: ProfileQuestions,
    baseline: Baseline | None,
    cycle_id: str,
    threshold: int,
    label: Callable[[SessionReplies], str],
) -> ReachReport:
    """The reach report of a cycle on its own (a ledger of its counts only)."""
    ledger = Ledger(threshold)
    register(ledger, data, questions)
    return read(data, questions, baseline, cycle_id, ledger.settle(), label)


def read(
    data: CycleReach,
    questions: ProfileQuestions,
    baseline: Baseline | None,
    cycle_id: str,
    disclosure: Disclosure,
    label: Callable[[SessionReplies], str],
) -> ReachReport:
    """The reach report of registered counts, as the settled policy lets it show."""

    def shown(key: Key) -> int | None:
        return disclosure.value(key)

    categories = [_category(q, baseline, shown) for q in questions.questions]
    categories = _highlight(categories)
    sessions = tuple(inequality(s, label(s), disclosure) for s in data.sessions)
    return ReachReport(
        cycle_id=cycle_id,
        threshold=disclosure.threshold,
        participants=shown(PEOPLE),
        with_profile=shown(PROFILE),
        without_profile=shown(NO_PROFILE),
        categories=tuple(categories),
        sessions=sessions,
        summary=_summary(sessions),
        example=baseline is not None and baseline.example,
        has_baseline=baseline is not None,
    )


def _category(
    question: ProfileQuestion,
    baseline: Baseline | None,
    shown: Callable[[Key], int | None],
) -> CategoryReach:
    area = baseline.shares(question.id) if baseline is not None and question.baseline else {}
    answered = shown(("reach", question.id, "answered"))
    values: list[ValueReach] = []
    for v in question.report_values():
        count = shown(("reach", question.id, "value", v))
        share = 100 * count / answered if count is not None and answered else None
        base = area.get(v)
        ratio = share / base if share is not None and base else None
        values.append(ValueReach(v, count, share, base, ratio, ratio is not None and ratio < UNDER))
    differences = [
        abs(v.share - v.baseline) for v in values if v.share is not None and v.baseline is not None
    ]
    return CategoryReach(
        question_id=question.id,
        label=question.label,
        values=tuple(values),
        answered=answered,
        prefer_not=shown(("reach", question.id, "prefer")),
        not_answered=shown(("reach", question.id, "missing")),
        gap=sum(differences) / 2 if differences else None,
        sources=baseline.sources(question.id) if area and baseline is not None else (),
    )


def _highlight(categories: list[CategoryReach]) -> list[CategoryReach]:
    """Mark the MOST lowest ratios below UNDER, and the categories with a wide gap."""
    under = [(c.question_id, v) for c in categories for v in c.values if v.under]
    # The lowest ratio first; of equal ratios, the larger group of the area first.
    under.sort(key=lambda cv: (cv[1].ratio or 0.0, -(cv[1].baseline or 0.0)))
    marked = {(qid, v.value) for qid, v in under[:MOST]}
    return [
        replace(
            c,
            values=tuple(
                replace(v, highlighted=(c.question_id, v.value) in marked) for v in c.values
            ),
            highlighted=c.gap is not None and c.gap >= WIDE_GAP,
        )
        for c in categories
    ]


def _summary(sessions: Sequence[Inequality]) -> Summary | None:
    """The median Gini coefficient and top-fifth share of the sessions where anyone replied."""
    ginis = [s.gini for s in sessions if s.gini is not None]
    tops = [s.top_share for s in sessions if s.top_share is not None]
    if not ginis or not tops:
        return None
    return Summary(len(ginis), median(ginis), median(tops))


def link_groups(ledger: Ledger, data: CycleReach, group: Callable[[GroupRef], str]) -> None:
    """The sessions' counts a reader can match with their group's in the export's tables.

    A group's replies to every step add up to its sessions' replies, and a group with one
    session has its people: one count, hidden in both or in neither. A group of the tables
    that ran no listed session took part in none: its zeros are known to every reader of the
    list, whatever the tables print. ``group`` names a group as the tables do; the tables'
    counts must be in ``ledger`` already.
    """
    by_group: dict[str, list[SessionReplies]] = {}
    for session in data.sessions:
        by_group.setdefault(group(session.group), []).append(session)
    tables = {k[1] for k in ledger.counts if k[0] == "people"} - {ALL_GROUPS}
    idle = tables - by_group.keys()
    for key, value in list(ledger.counts.items()):
        if key[0] in TOOK_PART and key[1] in idle and value == 0:
            ledger.known_zero(key)
    for code, sessions in by_group.items():
        steps = [
            k for k in ledger.counts if k[0] == "replies" and k[1:2] == (code,) and len(k) == 4
        ]
        replies = sum(sum(s.replies) for s in sessions)
        if steps and replies == sum(ledger.counts[k] for k in steps):
            total = ledger.unpublished(("reach", "group", code, "replies"), replies)
            ledger.adds_up(total, steps)
            ledger.adds_up(total, [_session(s, "replies") for s in sessions])
        if len(sessions) == 1:
            ledger.alike(_session(sessions[0], "people"), agg_.people(code))


def _session(session: SessionReplies, what: str) -> Key:
    return ("reach", "session", session.session_id, what)


async def report_for(
    datasets: Datasets,
    library: Library,
    cycle_id: str | None,
    language: str,
    ledger: Ledger,
    group: Callable[[GroupRef], str],
) -> Callable[[Disclosure, Callable[[SessionReplies], str]], ReachReport] | None:
    """Register a cycle's reach counts (None: every cycle) in ``ledger``.

    ``group`` names a group as the export's tables do (see ``link_groups``). The report is
    made once the ledger is settled; None without profile questions.
    """
    questions = library.profiles.get(language)
    if questions is None:
        return None
    data = await datasets.reach(cycle_id)
    register(ledger, data, questions)
    link_groups(ledger, data, group)

    def made(disclosure: Disclosure, label: Callable[[SessionReplies], str]) -> ReachReport:
        return read(data, questions, library.baseline, cycle_id or "all", disclosure, label)

    return made
