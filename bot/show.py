"""Showing a group what it said: charts of answers and the "what we heard today" summary.

Counts from 1 to ``threshold - 1`` are hidden, with secondary suppression (exporters'
``suppress``) so that no hidden count can be worked out from the number of people who
answered. Every chart comes with its numbers in text too, for screen readers. Charts are drawn
offline with matplotlib's Agg canvas (no display, no network, no global pyplot state).
matplotlib is imported when the first chart is drawn: it is about a fifth of the time every
``dialogue`` command would otherwise take to start (0.25 s here).
"""

from __future__ import annotations

import io
import textwrap
from collections.abc import Callable, Sequence
from dataclasses import dataclass

from bot.content.models import Script, Step
from bot.core.records import SessionHeard
from exporters.suppress import suppress

Say = Callable[..., str]
PEOPLE = "people"
BAR = "#1f6f8b"
HIDDEN = "#cccccc"


@dataclass(frozen=True, slots=True)
class Chart:
    """A chart of one question's answers: the picture, its description, its numbers."""

    png: bytes
    alt: str
    text: str
    name: str


def shown_counts(
    step: Step, answers: Sequence[tuple[int, ...]], threshold: int
) -> tuple[list[int | None], int | None]:
    """Each option's count (None: hidden), and the number of people who answered (or None)."""
    choices = step.choices()
    counts: dict[int | str, int] = {
        n: sum(n in answer for answer in answers) for n in range(1, len(choices) + 1)
    }
    cells = {**counts, PEOPLE: len(answers)}
    # With one answer each, the options add up to the people: one equation to protect.
    equations: list[tuple[int | str, list[int | str]]] = (
        [] if step.multiple else [(PEOPLE, list(counts))]
    )
    hidden = suppress(cells, equations, threshold)
    people = None if PEOPLE in hidden else len(answers)
    return [None if n in hidden else counts[n] for n in counts], people


def _lines(step: Step, counts: list[int | None], threshold: int, say: Say) -> list[str]:
    return [
        say("show.line_hidden", option=option, threshold=threshold)
        if count is None
        else say("show.line", option=option, count=count)
        for option, count in zip(step.choices(), counts, strict=True)
    ]


def chart(step: Step, answers: Sequence[tuple[int, ...]], threshold: int, say: Say) -> Chart:
    """The chart of a choice step's (or feedback question's) answers, small counts hidden."""
    counts, people = shown_counts(step, answers, threshold)
    lines = _lines(step, counts, threshold, say)
    title = say("show.title", text=step.text.strip())
    total = [say("show.people", people=people)] if people is not None else []
    text = "\n".join([title, *lines, *total])
    alt = say("show.alt", text=step.text.strip(), lines="; ".join(lines))
    return Chart(_draw(step, counts, threshold, say), alt, text, f"chart-{step.id}")


def _draw(step: Step, counts: list[int | None], threshold: int, say: Say) -> bytes:
    from matplotlib.backends.backend_agg import FigureCanvasAgg
    from matplotlib.figure import Figure
    from matplotlib.ticker import MaxNLocator

    labels = [_short(option) for option in step.choices()]
    figure = Figure(figsize=(7.2, 0.5 * len(labels) + 1.4), dpi=100)
    FigureCanvasAgg(figure)
    axes = figure.add_subplot()
    top = max([c for c in counts if c is not None] + [threshold, 1])
    positions = list(range(len(labels)))[::-1]
    stub = top * 0.04
    for y, count in zip(positions, counts, strict=True):
        if count is None:
            # A short grey hatched stub: "some, too few to show", never a length to read.
            axes.barh(y, stub, color=HIDDEN, hatch="//", edgecolor="#888888")
            axes.text(stub, y, f"  {say('show.bar_hidden', threshold=threshold)}", va="center")
        else:
            axes.barh(y, count, color=BAR)
            axes.text(count, y, f"  {count}", va="center")
    axes.set_yticks(positions, labels)
    axes.set_xlim(0, top * 1.3)
    axes.xaxis.set_major_locator(MaxNLocator(integer=True))
    axes.set_xlabel(say("show.axis"))
    title = textwrap.wrap(step.text.strip(), 95, max_lines=2, placeholder=" …")
    figure.suptitle("\n".join(title), x=0.01, ha="left", fontsize=10)
    for side in ("top", "right"):
        axes.spines[side].set_visible(False)
    figure.tight_layout()
    out = io.BytesIO()
    figure.savefig(out, format="png")
    return out.getvalue()


def _short(text: str, limit: int = 34) -> str:
    return text if len(text) <= limit else text[: limit - 1].rstrip() + "…"


def summary_text(script: Script, heard: SessionHeard, threshold: int, say: Say) -> str | None:
    """A "what we heard today" summary of a session, or None when nobody took part."""
    if heard.people == 0:
        return None
    lines = [
        say("summary.header", title=script.title),
        say("summary.people", people=heard.people, replies=sum(heard.replies.values())),
    ]
    for step in script.steps:
        if heard.replies.get(step.id):
            lines.append(say("summary.step_replies", step=step.id, replies=heard.replies[step.id]))
    for step in script.steps:
        for ballot in step.ballots():
            answers = heard.answers.get(ballot.id)
            if not answers:
                continue
            counts, _ = shown_counts(ballot, answers, threshold)
            lines += ["", say("summary.ballot", text=ballot.text.strip())]
            lines += [
                say("summary.option_hidden", option=option, threshold=threshold)
                if count is None
                else say("summary.option", option=option, count=count)
                for option, count in zip(ballot.choices(), counts, strict=True)
            ]
    lines += ["", say("summary.thanks")]
    return "\n".join(lines)
