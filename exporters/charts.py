"""Charts as inline SVG, drawn in Python: the report needs no script and no network.

Every drawn value is an element with class ``mark``; a suppressed value is drawn as a grey
``mark suppressed`` box of one width whatever it hides, labelled with what is true of it: a
text value is its own label ("< 10" for a count truly under the threshold, "hidden" for one
hidden to protect another), ``None`` takes the chart's ``hidden_label``. A zero is a thin
coloured bar labelled 0, never a grey box.
"""

from __future__ import annotations

from collections.abc import Sequence
from html import escape

WIDTH = 720
ROW = 26
LABEL = 260
COLOURS = ("#1f6f8b", "#e07a1f", "#5a8f29", "#8e44ad")
# A drawn value: a number, a hidden one's label, or None (hidden, the chart's label).
Bar = float | str | None


def _svg(title: str, height: int, body: list[str]) -> str:
    return (
        f'<svg xmlns="http://www.w3.org/2000/svg" viewBox="0 0 {WIDTH} {height}" '
        f'width="{WIDTH}" height="{height}" role="img">'
        f"<title>{escape(title)}</title>{''.join(body)}</svg>"
    )


def _number(value: float) -> str:
    return f"{value:g}" if isinstance(value, float) else str(value)


def _empty(title: str, note: str) -> str:
    return _svg(title, 40, [f'<text x="8" y="24" class="note">{escape(note)}</text>'])


def bars(
    title: str,
    items: Sequence[tuple[str, Sequence[Bar]]],
    series: Sequence[str] = ("",),
    hidden_label: str = "suppressed",
    empty: str = "No data",
) -> str:
    """Horizontal bars: one row per label, one bar per series (None: suppressed)."""
    if not items:
        return _empty(title, empty)
    top = max((v for _, vs in items for v in vs if isinstance(v, int | float)), default=0) or 1
    per_row = ROW * len(series)
    legend = 22 if len(series) > 1 else 0
    height = legend + per_row * len(items) + 10
    scale = (WIDTH - LABEL - 70) / top
    body: list[str] = []
    if legend:
        for i, name in enumerate(series):
            x = LABEL + i * 150
            body.append(
                f'<rect x="{x}" y="4" width="12" height="12" fill="{COLOURS[i % 4]}"/>'
                f'<text x="{x + 18}" y="15">{escape(name)}</text>'
            )
    for row, (label, values) in enumerate(items):
        y0 = legend + row * per_row
        body.append(
            f'<text x="{LABEL - 8}" y="{y0 + per_row / 2 + 5:.0f}" text-anchor="end">'
            f"{escape(label[:40])}</text>"
        )
        for i, value in enumerate(values):
            y = y0 + i * ROW + 4
            if value is None or isinstance(value, str):
                said = hidden_label if value is None else value
                body.append(
                    f'<rect class="mark suppressed" x="{LABEL}" y="{y}" width="40" '
                    f'height="{ROW - 8}" fill="#ccc"/><text x="{LABEL + 46}" y="{y + 14}">'
                    f"{escape(said)}</text>"
                )
                continue
            width = max(value * scale, 1.5)
            body.append(
                f'<rect class="mark" x="{LABEL}" y="{y}" width="{width:.1f}" '
                f'height="{ROW - 8}" fill="{COLOURS[i % 4]}"><title>{escape(label)}: '
                f"{_number(value)}</title></rect>"
                f'<text x="{LABEL + width + 6:.1f}" y="{y + 14}">{_number(value)}</text>'
            )
    return _svg(title, height, body)


def timeline(
    title: str,
    points: Sequence[tuple[str, int | str | None]],
    hidden_label: str = "suppressed",
    empty: str = "No data",
) -> str:
    """Columns over time (labels are dates, in order); None: suppressed."""
    if not points:
        return _empty(title, empty)
    height, base, left = 220, 180, 40
    top = max((v for _, v in points if isinstance(v, int)), default=0) or 1
    step = (WIDTH - left - 10) / len(points)
    width = max(min(step * 0.8, 60), 2)
    body = [f'<line x1="{left}" y1="{base}" x2="{WIDTH - 10}" y2="{base}" stroke="#555"/>']
    every = max(1, len(points) // 8)
    for i, (label, value) in enumerate(points):
        x = left + i * step
        if value is None or isinstance(value, str):
            said = hidden_label if value is None else value
            body.append(
                f'<rect class="mark suppressed" x="{x:.1f}" y="{base - 12}" '
                f'width="{width:.1f}" height="12" fill="#ccc"><title>{escape(label)}: '
                f"{escape(said)}</title></rect>"
            )
        else:
            h = max(value / top * (base - 20), 1.5)
            body.append(
                f'<rect class="mark" x="{x:.1f}" y="{base - h:.1f}" width="{width:.1f}" '
                f'height="{h:.1f}" fill="{COLOURS[0]}"><title>{escape(label)}: {value}'
                f"</title></rect>"
            )
        if i % every == 0:
            body.append(f'<text x="{x:.1f}" y="{base + 18}" class="tick">{escape(label)}</text>')
    if any(isinstance(v, int) for _, v in points):  # no scale to read when all are hidden
        body.append(f'<text x="4" y="16" class="tick">{top}</text>')
    return _svg(title, height, body)
