"""Showing a group what it said: the words of a session's summary and of its charts.

The disclosure policy decides which counts may be shown (the service runs its audit, which
the core cannot import); that decision reaches the core as plain counts (``Disclosed``), and
here it is worded: a count from 1 to ``threshold - 1`` is said to be "fewer than" the
threshold, a count hidden only to protect another is said to be hidden. Every chart comes
with its numbers in text too, for screen readers.
"""

from __future__ import annotations

from collections.abc import Callable, Mapping
from dataclasses import dataclass

from bot.content.models import Script, Step
from bot.core.records import SessionHeard
from bot.core.text import gist

Say = Callable[..., str]


@dataclass(frozen=True, slots=True)
class Shown:
    """A question's answers as the policy lets them be shown."""

    counts: list[int | None]  # None: hidden
    small: list[bool]  # hidden and truly fewer than the threshold
    people: int | None
    people_small: bool


@dataclass(frozen=True, slots=True)
class Disclosed:
    """The policy's one decision for everything a session shows, as plain counts."""

    threshold: int
    # Who took part (None: hidden).
    people: int | None
    # Every question's answers by ballot id.
    ballots: Mapping[str, Shown]


@dataclass(frozen=True, slots=True)
class ChartWords:
    """What a chart says: its numbers in text, and the description of its picture."""

    text: str
    alt: str


def _option(say: Say, key: str, option: str, count: int | None, small: bool, t: int) -> str:
    if count is not None:
        return say(key, option=option, count=count)
    return say(f"{key}_hidden" if small else f"{key}_withheld", option=option, threshold=t)


def _lines(key: str, step: Step, shown: Shown, threshold: int, say: Say) -> list[str]:
    return [
        _option(say, key, option, count, small, threshold)
        for option, count, small in zip(step.choices(), shown.counts, shown.small, strict=True)
    ]


def chart_words(step: Step, shown: Shown, threshold: int, say: Say) -> ChartWords:
    """The words of a choice step's (or feedback question's) chart, small counts hidden."""
    lines = _lines("show.line", step, shown, threshold, say)
    title = say("show.title", text=step.text.strip())
    total = []
    if shown.people is not None:
        total = [say("show.people", people=shown.people)]
    elif shown.people_small:
        total = [say("show.people_few", threshold=threshold)]
    text = "\n".join([title, *lines, *total])
    return ChartWords(text, say("show.alt", text=step.text.strip(), lines="; ".join(lines)))


def summary_text(script: Script, heard: SessionHeard, disclosed: Disclosed, say: Say) -> str | None:
    """A "what we heard today" summary of a session, or None when nobody took part."""
    if heard.people == 0:
        return None
    threshold = disclosed.threshold
    ballots = [ballot for step in script.steps for ballot in step.ballots()]
    ballots = [ballot for ballot in ballots if heard.answers.get(ballot.id)]
    replies = sum(heard.replies.values())
    people = disclosed.people
    lines = [
        say("summary.header", title=script.title),
        say("summary.people", people=people, replies=replies)
        if people is not None
        else say("summary.people_few", threshold=threshold, replies=replies),
    ]
    for step in script.steps:
        if heard.replies.get(step.id):
            question = gist(step.text)
            lines.append(
                say("summary.step_replies", question=question, replies=heard.replies[step.id])
            )
    for ballot in ballots:
        lines += ["", say("summary.ballot", text=ballot.text.strip())]
        lines += _lines("summary.option", ballot, disclosed.ballots[ballot.id], threshold, say)
    lines += ["", say("summary.thanks")]
    return "\n".join(lines)
