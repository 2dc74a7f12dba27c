"""The learning report across cycles: how the process went, cycle after cycle.

Each cycle's numbers are read through that cycle's own disclosure policy (the ledger its public
export settles), so the learning report shows no count the cycle's report hides. Nothing is
added up across cycles: a new sum could narrow a hidden count.
"""

from __future__ import annotations

from collections.abc import Mapping, Sequence
from dataclasses import dataclass

from markupsafe import Markup

from bot.content.check import Library
from exporters import aggregates as agg_
from exporters import published
from exporters.aggregates import Aggregates, StepKey
from exporters.charts import Hidden, Value, has_data
from exporters.codebook import Codebook
from exporters.cycle_read import timed_visits
from exporters.dataset import display_names, printable_names
from exporters.disclosure import Disclosure, Key
from exporters.learning import Reflection, Words, counted, reflections
from exporters.pseudonymise import Naming, Pseudonymiser
from exporters.published import codebook_of
from exporters.report import Chart, direction, drawn, templates
from exporters.schema import ALL_GROUPS
from storage.datasets import Datasets


@dataclass(frozen=True)
class CycleLearning:
    """One cycle's counts, settled by its disclosure policy, and its reflections."""

    cycle_id: str
    sessions: int
    groups: int
    agg: Aggregates
    disclosure: Disclosure
    codebook: Codebook
    group_names: Mapping[str, str]
    reflections: Sequence[Reflection]


async def gather(
    datasets: Datasets,
    library: Library,
    pseudonymiser: Pseudonymiser,
    public: bool,
    threshold: int,
    say: Words,
    labels: Mapping[str, str],
) -> list[CycleLearning]:
    """Every cycle with sessions, oldest first."""
    naming = Naming(pseudonymiser, public)
    names = display_names(printable_names(await datasets.groups(), naming, labels), naming)
    found = []
    cycles = sorted(
        (c for c in await datasets.cycles() if c.sessions),
        key=lambda c: (c.began is None, c.began or 0, c.cycle_id),
    )
    for cycle in cycles:
        sessions = await datasets.sessions(cycle.cycle_id)
        codebook = await codebook_of(datasets, library, sessions, cycle.cycle_id)
        agg = await published.count(datasets, cycle.cycle_id, naming)
        agg.plan(codebook.keys())
        visits = await datasets.step_visits(cycle.cycle_id)
        for session in sessions:
            mine = [v for v in visits if v.session_id == session.session_id]
            timed_visits(agg, codebook, session, mine)
        disclosure, _ = await published.settle(
            datasets,
            library,
            codebook,
            agg,
            cycle.cycle_id,
            say.language,
            threshold if public else 1,
            naming,
        )
        reflected = [] if public else await datasets.reflections(cycle.cycle_id)
        found.append(
            CycleLearning(
                cycle.cycle_id,
                len(sessions),
                len({s.group for s in sessions}),
                agg,
                disclosure,
                codebook,
                names,
                reflections(reflected, naming, names, say),
            )
        )
    return found


def _steps(cycles: Sequence[CycleLearning]) -> dict[StepKey, str]:
    """Every step of every cycle in script order, labelled as the newest cycle words it."""
    found: dict[StepKey, tuple[int, str]] = {}
    for c in cycles:
        for key, position, _ in c.codebook.keys():
            found[key] = (position, c.codebook.labels()[key])
    return {k: label for k, (_, label) in sorted(found.items(), key=lambda i: (i[0][0], i[1][0]))}


def charts(cycles: Sequence[CycleLearning], say: Words) -> list[Chart]:
    """The learning report's charts; each value from its own cycle's policy."""
    ids = [c.cycle_id for c in cycles]

    def each(key: Key) -> list[Value]:
        return [counted(c.disclosure, key, say) for c in cycles]

    steps = _steps(cycles)
    untimed = Hidden(say("report.not_recorded"))
    found = [
        Chart(
            "reach-over-cycles",
            "People taking part, cycle by cycle",
            "People new in each cycle, and people back from an earlier one.",
            [
                (c.cycle_id, [counted(c.disclosure, k, say) for k in (agg_.NEW, agg_.RETURNING)])
                for c in cycles
            ],
            series=(say("report.new"), say("report.returning_people")),
            heading="Cycle",
        ),
        Chart(
            "people-by-group-and-cycle",
            "Participation per group",
            "People who replied or answered in each group, in each cycle.",
            [
                (f"{c.group_names.get(g, g)} ({c.cycle_id})", [counted(c.disclosure, k, say)])
                for c in cycles
                for k in sorted(c.disclosure.counts)
                if k[0] == "people" and (g := k[1]) != ALL_GROUPS
            ],
            heading="Group (cycle)",
        ),
        Chart(
            "people-by-step",
            "People who replied at each step: where people drop off",
            "People who replied at each step, in script order, in each cycle.",
            [
                (label, each(agg_.participants(ALL_GROUPS, key)))
                for key, label in steps.items()
                if any(agg_.replies(ALL_GROUPS, key) in c.disclosure.counts for c in cycles)
            ],
            series=ids,
            heading="Step",
        ),
        Chart(
            "time-against-plan",
            "Time per step against the plan",
            "Minutes planned for each step, and the median spent in each cycle.",
            [
                (
                    label,
                    [
                        next(
                            (p for c in reversed(cycles) if (p := c.agg.planned.get(key))), untimed
                        ),
                        *(_median(c.agg, key, untimed) for c in cycles),
                    ],
                )
                for key, label in steps.items()
                if any(c.agg.minutes.get(key) for c in cycles)
            ],
            series=("planned", *ids),
            heading="Step",
        ),
    ]
    questions = {k: q for c in cycles for k, q in c.codebook.feedback()}
    for key, question in questions.items():
        found.append(
            Chart(
                f"feedback-{key[0]}-{key[1]}",
                question.text,
                "Participants' answers to this feedback question, in each cycle.",
                [
                    (label, each(agg_.votes(ALL_GROUPS, key, n)))
                    for n, label in enumerate(question.choices(), 1)
                ],
                series=ids,
                heading="Answer",
            )
        )
    return [c for c in found if c.items and has_data(c.items)]


def _planned(cycles: Sequence[CycleLearning], key: StepKey, untimed: Hidden) -> Value:
    """The step's planned minutes in the newest cycle that plans it."""
    return next((p for c in reversed(cycles) if (p := c.agg.planned.get(key))), untimed)


def _median(agg: Aggregates, key: StepKey, untimed: Hidden) -> Value:
    spent = next((m for k, m, _ in agg.median_minutes() if k == key), None)
    return untimed if spent is None else spent


def render(cycles: Sequence[CycleLearning], say: Words, public: bool) -> str:
    """The learning report as one HTML document."""
    themes: dict[str, list[tuple[str, str, str]]] = {}
    for c in cycles:
        for r in c.reflections:
            for question, answer in r.answers:
                themes.setdefault(question, []).append((answer, c.cycle_id, r.where))
    return (
        templates()
        .get_template("learning.html")
        .render(
            title="Learning report across cycles",
            language=say.language,
            direction=direction(say.language),
            notice="Public: small counts are withheld." if public else "Not for publication.",
            cycles=cycles,
            plural=say.n,
            charts=[(c, Markup(drawn(c, direction(say.language)))) for c in charts(cycles, say)],
            themes=themes,
        )
    )
