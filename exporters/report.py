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
from exporters.disclosure import Disclosure, Key
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


def bar(disclosure: Disclosure, key: Key) -> int | str:
    """A count as a bar: its value, or what is true of it when hidden ("< t" or "hidden")."""
    value = disclosure.value(key)
    if value is not None:
        return value
    return f"< {disclosure.threshold}" if disclosure.is_small(key) else "hidden"


def charts(agg: Aggregates, ctx: ReportContext, disclosure: Disclosure) -> list[str]:
    """Every chart of the report, as HTML figures; every number read through ``disclosure``."""
    hidden = "hidden"  # a percentage hidden with its counts: no range is true of it
    out: list[str] = []
    groups = sorted(k[1] for k in disclosure.counts if k[0] == "people" and k[1] != ALL_GROUPS)
    rows = [(ctx.group_names.get(g, g), [bar(disclosure, agg_.people(g))]) for g in groups]
    out.append(
        figure(
            "people-by-group",
            "People who replied or answered, by group.",
            bars("People by group", rows, hidden_label=hidden),
        )
    )
    steps = [k for k in ctx.step_labels if agg_.replies(ALL_GROUPS, k) in disclosure.counts]
    out.append(
        figure(
            "participation-by-step",
            "People who replied, and replies, at each step (all groups).",
            bars(
                "Participation by step",
                [
                    (
                        ctx.step_labels[k],
                        [
                            bar(disclosure, agg_.participants(ALL_GROUPS, k)),
                            bar(disclosure, agg_.replies(ALL_GROUPS, k)),
                        ],
                    )
                    for k in steps
                ],
                series=("people", "replies"),
                hidden_label=hidden,
            ),
        )
    )
    for step, labels in ctx.choices:
        items = [
            (label, [bar(disclosure, agg_.votes(ALL_GROUPS, step, n))])
            for n, label in enumerate(labels, 1)
        ]
        out.append(
            figure(
                f"votes-{step[0]}-{step[1]}",
                f"Answers to {ctx.step_labels.get(step, step[1])} (all groups).",
                bars(f"Answers: {step[1]}", items, hidden_label=hidden),
            )
        )
    base = agg_.consents(ALL_GROUPS, "participate")
    rates: list[tuple[str, list[float | None]]] = [
        (scope, [disclosure.percent(agg_.consents(ALL_GROUPS, scope), base)])
        for scope in ("participate", "quote", "profile", "followup")
    ]
    out.append(
        figure(
            "consent-rates",
            "Share of people taking part who agreed to each consent scope (per cent).",
            bars("Consent rates", rates if disclosure.value(base) else [], hidden_label=hidden),
        )
    )
    days = sorted(k for k in disclosure.counts if k[0] == "day")
    out.append(
        figure(
            "replies-over-time",
            "Replies per day.",
            timeline("Replies over time", [(k[1], bar(disclosure, k)) for k in days], hidden),
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
    out.append(
        figure(
            "returning-participants",
            "People new in this cycle, and people who took part in an earlier cycle.",
            bars(
                "Returning participants",
                [(k[1], [bar(disclosure, k)]) for k in (agg_.NEW, agg_.RETURNING)],
                hidden_label=hidden,
            ),
        )
    )
    return out


def render(agg: Aggregates, ctx: ReportContext, disclosure: Disclosure) -> str:
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
        charts="\n".join(charts(agg, ctx, disclosure)),
        learning="\n".join(f"<li>{escape(note)}</li>" for note in ctx.learning),
        reach=ctx.reach,
        banner=ctx.banner,
    )
