"""The cycle report: one self-contained HTML file with inline SVG charts, readable offline."""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass, field
from html import escape
from importlib import resources
from string import Template

from exporters import aggregates as agg_
from exporters.aggregates import Aggregates, StepKey
from exporters.charts import bars, timeline
from exporters.schema import ALL_GROUPS


@dataclass(frozen=True)
class ReportContext:
    """What the report says besides the counts: facts, names, and the learning notes."""

    title: str
    notice: str
    facts: Sequence[tuple[str, str]]
    group_names: dict[str, str]
    step_labels: dict[StepKey, str]
    choices: Sequence[tuple[StepKey, Sequence[str]]]
    learning: Sequence[str] = field(default_factory=list)
    # The reach section (exporters.reach_render.html), and a banner for the top of every page.
    reach: str = ""
    banner: str = ""


def figure(name: str, caption: str, svg: str) -> str:
    """A chart with its caption; ``name`` (data-chart) lets a reader or a test find it."""
    return (
        f'<figure class="chart" data-chart="{escape(name)}">{svg}'
        f"<figcaption>{escape(caption)}</figcaption></figure>"
    )


def charts(agg: Aggregates, ctx: ReportContext, threshold: int | None) -> list[str]:
    """Every chart of the report, as HTML figures."""
    hidden = f"< {threshold} or withheld" if threshold else "withheld"
    out: list[str] = []
    people = agg_.people_by_group(agg, threshold)
    rows = [(ctx.group_names.get(k[0], k[0]), [people.value(k)]) for k in people.counts]
    rows = [r for r, k in zip(rows, people.counts, strict=True) if k[0] != ALL_GROUPS]
    out.append(
        figure(
            "people-by-group",
            "People who replied or answered, by group.",
            bars("People by group", rows, hidden_label=hidden),
        )
    )
    repliers, replies = agg_.participation(agg, threshold)
    steps = [k for k in ctx.step_labels if (ALL_GROUPS, *k) in replies.counts]
    out.append(
        figure(
            "participation-by-step",
            "People who replied, and replies, at each step (all groups).",
            bars(
                "Participation by step",
                [
                    (
                        ctx.step_labels[k],
                        [repliers.value((ALL_GROUPS, *k)), replies.value((ALL_GROUPS, *k))],
                    )
                    for k in steps
                ],
                series=("people", "replies"),
                hidden_label=hidden,
            ),
        )
    )
    votes = agg_.vote_counts(agg, threshold)
    for step, labels in ctx.choices:
        items = [
            (label, [votes.value((ALL_GROUPS, *step, str(n)))]) for n, label in enumerate(labels, 1)
        ]
        out.append(
            figure(
                f"votes-{step[0]}-{step[1]}",
                f"Answers to {ctx.step_labels.get(step, step[1])} (all groups).",
                bars(f"Answers: {step[1]}", items, hidden_label=hidden),
            )
        )
    consents = agg_.consent_counts(agg, threshold)
    base = consents.value((ALL_GROUPS, "participate"))
    rates = []
    for scope in ("participate", "quote", "profile", "followup"):
        count = consents.value((ALL_GROUPS, scope))
        rate = round(100 * count / base, 1) if count is not None and base else None
        rates.append((scope, [rate]))
    out.append(
        figure(
            "consent-rates",
            "Share of people taking part who agreed to each consent scope (per cent).",
            bars("Consent rates", rates if base else [], hidden_label=hidden),
        )
    )
    days = agg_.by_day(agg, threshold)
    out.append(
        figure(
            "replies-over-time",
            "Replies per day.",
            timeline("Replies over time", [(k[0], days.value(k)) for k in days.counts], hidden),
        )
    )
    timing = [
        (ctx.step_labels.get(k, k[1]), [planned, actual])
        for k, actual, planned in agg.median_minutes()
        if actual is not None or planned is not None
    ]
    out.append(
        figure(
            "time-per-step",
            "Minutes per step: planned in the script, and the median actually spent.",
            bars("Time per step", timing, series=("planned", "actual (median)"), hidden_label="-"),
        )
    )
    back = agg_.returning(agg, threshold)
    out.append(
        figure(
            "returning-participants",
            "People new in this cycle, and people who took part in an earlier cycle.",
            bars(
                "Returning participants",
                [(k[0], [back.value(k)]) for k in (("new",), ("returning",))],
                hidden_label=hidden,
            ),
        )
    )
    return out


def render(agg: Aggregates, ctx: ReportContext, threshold: int | None) -> str:
    """The whole report as one HTML document."""
    template = Template(
        resources.files("exporters").joinpath("templates/report.html").read_text("utf-8")
    )
    facts = "".join(
        f"<tr><td>{escape(name)}</td><td>{escape(value)}</td></tr>" for name, value in ctx.facts
    )
    return template.substitute(
        title=escape(ctx.title),
        notice=escape(ctx.notice),
        facts=facts,
        charts="\n".join(charts(agg, ctx, threshold)),
        learning="\n".join(f"<li>{escape(note)}</li>" for note in ctx.learning),
        reach=ctx.reach,
        banner=ctx.banner,
    )
