"""The reach report as text (``dialogue reach``) and as a section of the cycle's HTML report."""

from __future__ import annotations

from collections.abc import Sequence
from html import escape

from exporters.charts import Hidden, Value, bars
from exporters.reach import UNDER, WIDE_GAP, CategoryReach, Inequality, ReachReport, ValueReach
from exporters.report import figure

EXAMPLE_WARNING = (
    "EXAMPLE BASELINE: the area's population figures in resources/baseline.csv are made up, "
    "not copied from a published table. Replace them before drawing any conclusion."
)
HIDDEN = "*"


def _count(value: int | None) -> str:
    return HIDDEN if value is None else str(value)


def _percent(value: float | None) -> str:
    return "-" if value is None else f"{value:.1f}%"


def _ratio(value: float | None) -> str:
    return "-" if value is None else f"{value:.2f}"


def hidden_note(report: ReachReport) -> str:
    """What a suppressed count means."""
    return (
        f"{HIDDEN} withheld: fewer than {report.threshold} people, or hidden so that another "
        "small count cannot be worked out from the totals."
    )


def method_note() -> str:
    """How the shares, ratios and highlights are worked out."""
    return (
        "Shares of participants are of those who gave an answer (not 'prefer not to say', "
        "skipped or not yet asked). Ratio: share of participants divided by share of the area; "
        f"below {UNDER:g} a group is under-represented, and the lowest ratios are highlighted. "
        "Gap: half the sum of the differences between the two shares (in points), over the "
        f"answers shown; categories with a gap of {WIDE_GAP:g} points or more are highlighted. "
        "Gini coefficient: 0 when everyone in a session wrote as many replies, near 1 when one "
        "person wrote nearly all; top fifth: the share of replies written by the most active "
        "20% of the people in the session."
    )


def _people(report: ReachReport) -> str:
    return (
        f"People who took part in cycle {report.cycle_id}: {_count(report.participants)} "
        f"(agreed to the profile questions: {_count(report.with_profile)}; "
        f"did not: {_count(report.without_profile)})."
    )


def text(report: ReachReport) -> str:
    """The report as plain text for the terminal."""
    lines: list[str] = []
    if report.example:
        lines += [EXAMPLE_WARNING, ""]
    lines += [f"Reach report for cycle {report.cycle_id}", _people(report), ""]
    if not report.has_baseline:
        lines += ["No baseline (resources/baseline.csv): shares are not compared.", ""]
    if report.most_under:
        lines.append("Most under-represented (share of participants vs share of the area):")
        for category, value in report.most_under:
            lines.append(
                f"  {category.label}: {value.value}: {_percent(value.share)} vs "
                f"{_percent(value.baseline)} (ratio {_ratio(value.ratio)})"
            )
        lines.append("")
    for category in report.categories:
        lines += _category_text(category)
    lines.append("Participation inequality within sessions")
    rows = [("session", "people", "replies", "Gini", "top fifth")]
    rows += [
        (s.label, _count(s.people), _count(s.replies), _ratio(s.gini), _percent(s.top_share))
        for s in report.sessions
    ]
    lines += _table(rows)
    if report.summary is not None:
        s = report.summary
        lines.append(
            f"  Median over {s.sessions} sessions: Gini {s.gini:.2f}; the most active fifth "
            f"wrote {s.top_share:.1f}% of the replies."
        )
    lines += ["", hidden_note(report), method_note()]
    if report.example:
        lines += ["", EXAMPLE_WARNING]
    return "\n".join(lines)


def _category_text(category: CategoryReach) -> list[str]:
    gap = f", gap {category.gap:.1f} points" if category.gap is not None else ""
    mark = "  << wide gap" if category.highlighted else ""
    lines = [f"{category.label} (answered: {_count(category.answered)}{gap}){mark}"]
    rows = [("answer", "people", "share", "area", "ratio", "")]
    for v in category.values:
        flag = "<< most under-represented" if v.highlighted else ("under" if v.under else "")
        rows.append(
            (
                v.value,
                _count(v.count),
                _percent(v.share),
                _percent(v.baseline),
                _ratio(v.ratio),
                flag,
            )
        )
    rows.append(("prefer not to say", _count(category.prefer_not), "", "", "", ""))
    rows.append(("not answered", _count(category.not_answered), "", "", "", ""))
    lines += _table(rows)
    lines += [f"  Source: {s}" for s in category.sources]
    return [*lines, ""]


def _table(rows: Sequence[tuple[str, ...]]) -> list[str]:
    widths = [max(len(r[i]) for r in rows) for i in range(len(rows[0]))]
    return [
        "  " + "  ".join(c.ljust(w) for c, w in zip(r, widths, strict=True)).rstrip() for r in rows
    ]


def banner(report: ReachReport) -> str:
    """The example warning for the top of the report; printed on every page (fixed)."""
    if not report.example:
        return ""
    return f'<div class="example-baseline" role="note">{escape(EXAMPLE_WARNING)}</div>'


def html(report: ReachReport) -> str:
    """The reach section of the cycle's HTML report, with a chart per category."""
    parts = ['<section class="reach" id="reach">', "<h2>Reach: who is taking part</h2>"]
    if report.example:
        parts.append(f'<p class="notice example">{escape(EXAMPLE_WARNING)}</p>')
    parts.append(f"<p>{escape(_people(report))}</p>")
    if report.most_under:
        items = "".join(
            f"<li><strong>{escape(c.label)}: {escape(v.value)}</strong>: {_percent(v.share)} of "
            f"participants, {_percent(v.baseline)} of the area (ratio {_ratio(v.ratio)})</li>"
            for c, v in report.most_under
        )
        parts.append(f'<p>Most under-represented:</p><ul class="most-under">{items}</ul>')
    for category in report.categories:
        parts.append(_category_html(category, report))
    parts.append(_inequality_html(report))
    parts.append(f'<p class="note">{escape(hidden_note(report))} {escape(method_note())}</p>')
    parts.append("</section>")
    return "\n".join(parts)


def _category_html(category: CategoryReach, report: ReachReport) -> str:
    compared = any(v.baseline is not None for v in category.values)
    series = ("participants", "area") if compared else ("participants",)
    # Shares to a tenth, as in the table beside the chart.
    items = [
        (v.value, [_tenth(v.share), _tenth(v.baseline)] if compared else [_tenth(v.share)])
        for v in category.values
    ]
    # A share hidden with its count: no range of the share is true of it.
    chart = bars(f"Reach: {category.label}", items, series=series, hidden_label="hidden")
    caption = f"{category.label}: share of participants who answered" + (
        ", against the share of the area (per cent)." if compared else " (per cent)."
    )
    head = "<tr><th>Answer</th><th>People</th><th>Share</th><th>Area</th><th>Ratio</th></tr>"
    rows = "".join(_value_row(v) for v in category.values)
    rows += f"<tr><td>Prefer not to say</td><td>{_count(category.prefer_not)}</td></tr>"
    rows += f"<tr><td>Not answered</td><td>{_count(category.not_answered)}</td></tr>"
    gap = f" Gap: {category.gap:.1f} points." if category.gap is not None else ""
    sources = "".join(f"<li>{escape(s)}</li>" for s in category.sources)
    css = "reach-category wide-gap" if category.highlighted else "reach-category"
    return (
        f'<div class="{css}"><h3>{escape(category.label)}</h3>'
        f"{figure(f'reach-{category.question_id}', caption, chart)}"
        f'<table class="reach">{head}{rows}</table>'
        f"<p>Answered: {_count(category.answered)}.{gap}</p>"
        + (f'<ul class="sources">{sources}</ul>' if sources else "")
        + "</div>"
    )


def _tenth(share: float | None) -> float | None:
    return None if share is None else round(share, 1)


def _value_row(v: ValueReach) -> str:
    css = ' class="most-under"' if v.highlighted else (' class="under"' if v.under else "")
    return (
        f"<tr{css}><td><bdi>{escape(v.value)}</bdi></td><td>{_count(v.count)}</td>"
        f"<td>{_percent(v.share)}</td><td>{_percent(v.baseline)}</td><td>{_ratio(v.ratio)}</td></tr>"
    )


def _top_bar(session: Inequality) -> Value:
    # A session whose people are hidden had replies too: say it is hidden, not "no replies".
    if session.people is None:
        return Hidden("hidden")
    return None if session.top_share is None else round(session.top_share, 1)


def _inequality_html(report: ReachReport) -> str:
    head = (
        "<tr><th>Session</th><th>People</th><th>Replies</th><th>Gini</th>"
        "<th>Top fifth's share</th></tr>"
    )
    rows = "".join(
        f"<tr><td><bdi>{escape(s.label)}</bdi></td><td>{_count(s.people)}</td>"
        f"<td>{_count(s.replies)}</td>"
        f"<td>{_ratio(s.gini)}</td><td>{_percent(s.top_share)}</td></tr>"
        for s in report.sessions
    )
    chart = bars(
        "Share of replies from the most active fifth",
        [(s.label, [_top_bar(s)]) for s in report.sessions],
        hidden_label="no replies",
    )
    summary = ""
    if report.summary is not None:
        s = report.summary
        summary = (
            f"<p>Median over {s.sessions} sessions: Gini coefficient {s.gini:.2f}; the most "
            f"active fifth of people wrote {s.top_share:.1f}% of the replies.</p>"
        )
    caption = "Per session: per cent of replies written by the most active 20% of the people."
    return (
        "<h3>Who does the talking: participation inequality within sessions</h3>"
        f'<table class="reach">{head}{rows}</table>{summary}'
        f"{figure('reach-inequality', caption, chart)}"
    )
