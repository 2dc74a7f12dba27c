"""The cycle report: one self-contained HTML file with inline SVG charts, readable offline.

The page is a Jinja2 template with autoescaping; staff's narrative comes from Markdown files
rendered with HTML disabled, so neither a participant's words nor a staff file can inject markup.
"""

from __future__ import annotations

from collections.abc import Mapping, Sequence
from dataclasses import dataclass, field
from pathlib import Path

from jinja2 import Environment, PackageLoader, select_autoescape
from markdown_it import MarkdownIt
from markupsafe import Markup, escape

from bot.content.scopes import REQUIRED_SCOPE, SCOPES
from bot.core import bidi
from exporters import aggregates as agg_
from exporters.aggregates import Aggregates, StepKey
from exporters.charts import Hidden, Items, Value, bars, has_data, table
from exporters.disclosure import Disclosure, Key
from exporters.learning import Reflection, Words, counted
from exporters.schema import ALL_GROUPS

# Staff's narrative: one Markdown file per section, in the cycle's folder, in this order.
NARRATIVE = (
    ("summary", "Summary"),
    ("heard", "What we heard"),
    ("worked", "What worked well"),
    ("next", "What we will change for the next cycle"),
)


@dataclass(frozen=True)
class ReportContext:
    """What the report says besides the counts: facts, names, and the learning notes."""

    title: str
    notice: str
    facts: Sequence[tuple[str, str]]
    group_names: dict[str, str]
    step_labels: dict[StepKey, str]
    # Each choice step (and feedback question): its key, its question and its answers.
    choices: Sequence[tuple[StepKey, str, Sequence[str]]]
    say: Words
    learning: Sequence[str] = field(default_factory=list)
    reflections: Sequence[Reflection] = field(default_factory=list)
    narrative: Mapping[str, Markup] = field(default_factory=dict)
    # Sections other parts of the export may fill; an empty one is left out.
    opinion_groups: Markup = Markup("")
    themes: Markup = Markup("")
    # The reach section (exporters.reach_render.html), and a banner for the top of every page.
    reach: str = ""
    banner: str = ""
    language: str = "en"
    direction: str = "ltr"


@dataclass(frozen=True)
class Chart:
    """One chart: its title, what it shows, and the rows drawn and tabled."""

    name: str
    title: str
    caption: str
    items: Items
    series: Sequence[str] = ("",)
    heading: str = ""
    unit: str = ""


def figure(name: str, caption: str, svg: str, data: str = "") -> Markup:
    """A chart with its caption and data table; ``name`` (data-chart) lets a test find it."""
    behind = Markup(
        f"<details><summary>The numbers as a table</summary>{Markup(data)}</details>"
        if data
        else ""
    )
    return Markup(
        f'<figure class="chart" data-chart="{escape(name)}">{Markup(svg)}'
        f"<figcaption>{escape(caption)}</figcaption>{behind}</figure>"
    )


def direction(language: str) -> str:
    """The writing direction of a language, for the page's ``dir``."""
    return bidi.language_direction(language) or "ltr"


_BLOCKS = frozenset({"paragraph_open", "heading_open", "list_item_open", "blockquote_open"})


def narrative(folder: Path | None) -> dict[str, Markup]:
    """Staff's Markdown files found in ``folder``, as HTML (raw HTML in them is shown as text)."""
    if folder is None:
        return {}
    markdown = MarkdownIt("commonmark", {"html": False})
    found = {}
    for name, _ in NARRATIVE:
        path = folder / f"{name}.md"
        if path.is_file():
            tokens = markdown.parse(path.read_text(encoding="utf-8"))
            for token in tokens:
                # The section has its own heading (h2): staff's headings sit below it.
                if token.type in ("heading_open", "heading_close"):
                    token.tag = f"h{min(int(token.tag[1]) + 2, 6)}"
                # Each paragraph reads in its own direction: an Arabic quote, right to left.
                if token.type in _BLOCKS:
                    token.attrSet("dir", "auto")
            found[name] = Markup(markdown.renderer.render(tokens, markdown.options, {}))
    return found


def _percent(disclosure: Disclosure, part: Key, whole: Key, say: Words) -> Value:
    found = disclosure.percent(part, whole)
    return Hidden(say("report.hidden_withheld")) if found is None else found


def charts(agg: Aggregates, ctx: ReportContext, disclosure: Disclosure) -> list[Chart]:
    """Every chart of the report that has something to show; numbers read via ``disclosure``."""
    say = ctx.say

    def n(key: Key) -> Value:
        return counted(disclosure, key, say)

    found: list[Chart] = []
    groups = sorted(k[1] for k in disclosure.counts if k[0] == "people" and k[1] != ALL_GROUPS)
    found.append(
        Chart(
            "people-by-group",
            "People who took part, by group",
            "People who replied or answered, in each group.",
            [(ctx.group_names.get(g, g), [n(agg_.people(g))]) for g in groups],
            heading="Group",
        )
    )
    steps = [k for k in ctx.step_labels if agg_.replies(ALL_GROUPS, k) in disclosure.counts]
    found.append(
        Chart(
            "participation-by-step",
            "Participation at each step",
            "People who replied, and replies, at each step (all groups).",
            [
                (
                    ctx.step_labels[k],
                    [n(agg_.participants(ALL_GROUPS, k)), n(agg_.replies(ALL_GROUPS, k))],
                )
                for k in steps
            ],
            series=("people", "replies"),
            heading="Step",
        )
    )
    for step, question, labels in ctx.choices:
        answers = [agg_.votes(ALL_GROUPS, step, k) for k in range(1, len(labels) + 1)]
        if not any(k in disclosure.counts for k in answers):
            continue  # nobody answered: nothing to show
        found.append(
            Chart(
                f"votes-{step[0]}-{step[1]}",
                question,
                "People who chose each answer (all groups).",
                [(label, [n(k)]) for k, label in zip(answers, labels, strict=True)],
                heading="Answer",
            )
        )
    base = agg_.consents(ALL_GROUPS, REQUIRED_SCOPE)
    if disclosure.value(base):
        found.append(
            Chart(
                "consent-rates",
                "What people agreed to",
                "Share of the people taking part who agreed to each use of their words (per cent).",
                [
                    (say(f"report.scope_{scope}"), [_percent(disclosure, c, base, say)])
                    for scope in SCOPES
                    if (c := agg_.consents(ALL_GROUPS, scope))
                ],
                heading="Agreed to",
                unit="%",
            )
        )
    days = sorted(k for k in disclosure.counts if k[0] == "day")
    found.append(
        Chart(
            "replies-over-time",
            "Replies per day",
            "Replies on each day a reply was written.",
            [(k[1], [n(k)]) for k in days],
            heading="Day",
        )
    )
    untimed = Hidden(say("report.not_recorded"))
    found.append(
        Chart(
            "time-per-step",
            "Time per step",
            "Minutes per step: planned in the script, and the median actually spent.",
            [
                (
                    ctx.step_labels.get(k, k[1]),
                    [untimed if v is None else v for v in (planned, actual)],
                )
                for k, actual, planned in agg.median_minutes()
                if actual is not None or planned is not None
            ],
            series=("planned", "actual (median)"),
            heading="Step",
        )
    )
    found.append(
        Chart(
            "returning-participants",
            "New and returning people",
            "People new in this cycle, and people who took part in an earlier cycle.",
            [
                (say("report.new"), [n(agg_.NEW)]),
                (say("report.returning_people"), [n(agg_.RETURNING)]),
            ],
            heading="People",
        )
    )
    return [c for c in found if has_data(c.items)]


def drawn(chart: Chart, direction: str) -> Markup:
    """A chart as a figure: its bars (read in ``direction``), caption and data table."""
    return figure(
        chart.name,
        chart.caption,
        bars(chart.title, chart.items, chart.series, unit=chart.unit, direction=direction),
        table(chart.items, chart.series, chart.heading, unit=chart.unit),
    )


def templates() -> Environment:
    """The report templates, autoescaped; ``text|dir`` is the direction a quote reads in."""
    environment = Environment(
        loader=PackageLoader("exporters", "templates"),
        autoescape=select_autoescape(["html"]),
        trim_blocks=True,
        lstrip_blocks=True,
    )
    environment.filters["dir"] = bidi.direction
    return environment


def render(agg: Aggregates, ctx: ReportContext, disclosure: Disclosure) -> str:
    """The whole report as one HTML document."""
    return (
        templates()
        .get_template("report.html")
        .render(
            ctx=ctx,
            title=ctx.title,
            language=ctx.language,
            direction=ctx.direction,
            charts=[(c, drawn(c, ctx.direction)) for c in charts(agg, ctx, disclosure)],
            narrative={name: (title, ctx.narrative.get(name)) for name, title in NARRATIVE},
            reach=Markup(ctx.reach),
            banner=Markup(ctx.banner),
        )
    )
