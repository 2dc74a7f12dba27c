"""Showing a group what it said: the disclosure decision, and the pictures of charts.

Every count goes through the disclosure policy (``exporters.disclosure``): counts from 1 to
``threshold - 1`` are hidden, and a question fewer people answered is withheld whole; the audit
must pass before a chart or summary goes out. The decision goes to the core as plain counts
(``bot.core.showing.Disclosed``), which words the summary and the charts' text. Charts are
drawn offline with matplotlib's Agg canvas (no display, no network, no global pyplot state).
matplotlib is imported when the first chart is drawn: it is about a fifth of the time every
``dialogue`` command would otherwise take to start (0.25 s here).
"""

from __future__ import annotations

import io
import textwrap
from collections.abc import Callable, Sequence

from bot.content.models import Script, Step
from bot.core.records import SessionHeard
from bot.core.showing import Disclosed, Shown
from exporters.disclosure import Disclosure, Key, Ledger

Say = Callable[..., str]
PEOPLE = "people"
EVERYONE = ("session", PEOPLE)
BAR = "#1f6f8b"
HIDDEN = "#cccccc"


def register(ledger: Ledger, step: Step, answers: Sequence[tuple[int, ...]]) -> Key:
    """Put a question's answers in ``ledger``; the key of the people who answered."""
    people = ledger.count((step.id, PEOPLE), len(answers))
    cells = [
        ledger.count((step.id, str(n)), sum(n in answer for answer in answers))
        for n in range(1, len(step.choices()) + 1)
    ]
    # With one answer each, the options add up to the people.
    ledger.table(people, cells, adds_up=not step.multiple)
    return people


def read(disclosure: Disclosure, step: Step) -> Shown:
    """A registered question's answers, read through the settled policy."""
    keys = [(step.id, str(n)) for n in range(1, len(step.choices()) + 1)]
    people = (step.id, PEOPLE)
    return Shown(
        [disclosure.value(k) for k in keys],
        [disclosure.is_small(k) for k in keys],
        disclosure.value(people),
        disclosure.is_small(people),
    )


def session_disclosure(script: Script, heard: SessionHeard, threshold: int) -> Disclosure:
    """One decision for everything a session shows: its summary and every chart of /show.

    All of the session's counts (who took part, every question's answers) are settled
    together, so a count hidden in the summary is hidden in every chart and the other way
    round. Raises ``DisclosureError`` when the audit finds a hidden count given away.
    """
    ledger = Ledger(threshold)
    ledger.count(EVERYONE, heard.people)
    for step in script.steps:
        for ballot in step.ballots():
            register(ledger, ballot, heard.answers.get(ballot.id, []))
    disclosure = ledger.settle()
    disclosure.check(f"What “{script.title}” shows")
    return disclosure


def disclosed(script: Script, heard: SessionHeard, threshold: int) -> Disclosed:
    """The session's one decision (``session_disclosure``) as the counts the core words.

    Raises ``DisclosureError`` when the audit finds a hidden count given away.
    """
    disclosure = session_disclosure(script, heard, threshold)
    every = [ballot for step in script.steps for ballot in step.ballots()]
    ballots = {ballot.id: read(disclosure, ballot) for ballot in every}
    return Disclosed(threshold, disclosure.value(EVERYONE), ballots)


def draw(step: Step, shown: Shown, threshold: int, say: Say) -> bytes:
    """The picture of a question's answers as ``shown``: a hidden count is a grey stub."""
    from matplotlib.backends.backend_agg import FigureCanvasAgg
    from matplotlib.figure import Figure
    from matplotlib.ticker import MaxNLocator

    labels = [_short(option) for option in step.choices()]
    figure = Figure(figsize=(7.2, 0.5 * len(labels) + 1.4), dpi=100)
    FigureCanvasAgg(figure)
    axes = figure.add_subplot()
    counts = shown.counts
    top = max([c for c in counts if c is not None] + [threshold, 1])
    positions = list(range(len(labels)))[::-1]
    stub = top * 0.04
    for y, count, small in zip(positions, counts, shown.small, strict=True):
        if count is None:
            # A short grey hatched stub: hidden, never a length to read.
            axes.barh(y, stub, color=HIDDEN, hatch="//", edgecolor="#888888")
            label = say("show.bar_hidden" if small else "show.bar_withheld", threshold=threshold)
            axes.text(stub, y, f"  {label}", va="center")
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
