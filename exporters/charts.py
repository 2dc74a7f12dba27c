"""Charts as inline SVG, drawn in Python: the report needs no script and no network.

Every drawn value is an element with class ``mark``; a hidden value is drawn as a grey
``mark suppressed`` box labelled with what it stands for, so a reader sees it was withheld.
Labels sit above their bars and wrap, so a chart scaled to a phone's width stays readable;
``table`` gives the same numbers as a data table for screen readers and copying. A chart in a
right-to-left report (Arabic, Urdu) is drawn mirrored: its labels, bars and numbers start at the
right edge and read leftwards, as the page does. Each chart says its direction itself, so a
chart of one direction inside a page of the other (the reach section's, in English) is still
laid out in its own.
"""

from __future__ import annotations

import textwrap
from collections.abc import Sequence
from dataclasses import dataclass

from markupsafe import Markup, escape

WIDTH = 440
LINE = 22
BAR = 18
GAP = 4
# Characters per label line, and a character's width, at the report's 17px chart text.
WRAP = 42
CHAR = 9.5
# Each at least 3:1 against white (WCAG 1.4.11), told apart by order in the legend too.
COLOURS = ("#1f6f8b", "#a85400", "#4d7a23", "#8e44ad")


@dataclass(frozen=True)
class Hidden:
    """A value the disclosure policy hides, with how the report describes it."""

    label: str


Value = float | Hidden | None
Items = Sequence[tuple[str, Sequence[Value]]]


def _svg(title: str, height: int, body: list[str], direction: str) -> Markup:
    return Markup(
        f'<svg xmlns="http://www.w3.org/2000/svg" viewBox="0 0 {WIDTH} {height}" '
        f'width="{WIDTH}" height="{height}" direction="{direction}" role="img">'
        f"<title>{escape(title)}</title>{''.join(body)}</svg>"
    )


def _number(value: float) -> str:
    return f"{value:g}" if isinstance(value, float) else str(value)


def shown(value: Value, hidden_label: str, unit: str = "") -> str:
    """A value as the report prints it."""
    if isinstance(value, Hidden):
        return value.label
    return hidden_label if value is None else _number(value) + unit


def has_data(items: Items) -> bool:
    """Whether a chart would show anything but zeros (an empty chart is left out)."""
    return any(v != 0 for _, values in items for v in values)


def bars(
    title: str,
    items: Items,
    series: Sequence[str] = ("",),
    hidden_label: str = "suppressed",
    empty: str = "No data",
    unit: str = "",
    direction: str = "ltr",
) -> Markup:
    """Horizontal bars: a wrapped label above one bar per series (None, Hidden: hidden).

    ``direction``: "rtl" draws the chart mirrored, for a right-to-left report.
    """

    def at(x: float, width: float = 0) -> str:
        """Where a text starts, or a box of ``width`` begins, ``x`` from the reading edge."""
        return f"{WIDTH - x - width if direction == 'rtl' else x:.1f}"

    if not items:
        note = f'<text x="{at(0)}" y="24" class="note">{escape(empty)}</text>'
        return _svg(title, 40, [note], direction)
    numbers = [v for _, vs in items for v in vs if isinstance(v, int | float)]
    top = max(numbers, default=0) or 1
    said = [
        (f"{series[i]}: " if len(series) > 1 else "") + shown(v, hidden_label, unit)
        for _, vs in items
        for i, v in enumerate(vs)
    ]
    # The longest bar leaves room for the longest text beside a bar, and a character more:
    # some fonts' digits and signs are wider than ``CHAR`` (Noto Naskh Arabic's "100%").
    scale = (WIDTH - 12 - CHAR * (1 + max(len(t) for t in said))) / top
    body: list[str] = []
    y = 0
    if len(series) > 1:
        # The legend's keys side by side, on as many lines as they need.
        x = 0.0
        for i, name in enumerate(series):
            room = 20 + CHAR * len(name) + 16
            if x and x + room > WIDTH:
                x, y = 0, y + LINE
            body.append(
                f'<rect x="{at(x, 14)}" y="{y + 3}" width="14" height="14" '
                f'fill="{COLOURS[i % 4]}"/>'
                f'<text x="{at(x + 20)}" y="{y + 15}">{escape(name)}</text>'
            )
            x += room
        y += 28
    for label, values in items:
        for line in textwrap.wrap(label, WRAP) or [""]:
            y += LINE
            body.append(f'<text x="{at(0)}" y="{y - 5}" class="label">{escape(line)}</text>')
        for i, value in enumerate(values):
            name = f"{series[i]}: " if len(series) > 1 else ""
            text = name + shown(value, hidden_label, unit)
            if isinstance(value, int | float):
                # A zero draws no bar; its number says 0.
                width = max(value * scale, 1.5) if value else 0
                body.append(
                    f'<rect class="mark" x="{at(0, width)}" y="{y}" width="{width:.1f}" '
                    f'height="{BAR}" '
                    f'fill="{COLOURS[i % 4]}"><title>{escape(label)}: {escape(text)}</title></rect>'
                )
            else:
                width = 24
                body.append(
                    f'<rect class="mark suppressed" x="{at(0, width)}" y="{y}" width="{width}" '
                    f'height="{BAR}" fill="#e8e8e8" stroke="#595959"><title>{escape(label)}: '
                    f"{escape(text)}</title></rect>"
                )
            body.append(f'<text x="{at(width + 6)}" y="{y + 14}">{escape(text)}</text>')
            y += BAR + GAP
        y += 8
    return _svg(title, y, body, direction)


def table(
    items: Items,
    series: Sequence[str],
    heading: str,
    hidden_label: str = "suppressed",
    unit: str = "",
) -> Markup:
    """The numbers behind a chart, as a data table."""
    names = [s or "value" for s in series]
    head = "".join(f'<th scope="col">{escape(n)}</th>' for n in names)
    rows = "".join(
        f'<tr><th scope="row">{escape(label)}</th>'
        + "".join(f"<td>{escape(shown(v, hidden_label, unit))}</td>" for v in values)
        + "</tr>"
        for label, values in items
    )
    return Markup(
        f'<table class="data"><thead><tr><th scope="col">{escape(heading)}</th>{head}</tr>'
        f"</thead><tbody>{rows}</tbody></table>"
    )
