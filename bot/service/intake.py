"""What the service does to an event before the engine sees it, and after.

Cleaning and cutting text, limiting how fast one person may send commands, naming the message
an event came in (so a redelivered one is handled once), and marking captures of cut text.
"""

from __future__ import annotations

import logging
import math
import traceback
from collections.abc import Callable
from dataclasses import dataclass, replace
from datetime import datetime
from enum import Enum
from pathlib import Path

from bot.core import consent, engine
from bot.core.actions import SendPrivate
from bot.core.captures import Capture, ResponseCaptured, ResponseEdited
from bot.core.context import Actor, Context, Transition
from bot.core.direct import is_direct
from bot.core.events import (
    ButtonPressed,
    CommandIssued,
    Event,
    MessageEdited,
    MessagePosted,
    VoteCast,
)
from bot.core.ids import MessageRef, PersonRef
from bot.core.state import SessionState
from bot.core.text import clean_event, shorten
from bot.texts import Catalogue

log = logging.getLogger(__name__)

# How many idle people the limiter keeps before it forgets those with full allowances.
_FORGET_AFTER = 10_000
# What the limiter holds back (made once: ``A | B`` in a call makes a union each time).
_LIMITED = CommandIssued | ButtonPressed


class Verdict(Enum):
    """What to do with a command under the rate limit."""

    ALLOW = "allow"
    WARN = "warn"  # refuse it, and say why and for how long
    DROP = "drop"  # refuse it: the person was told it would be, and until when


@dataclass(slots=True)
class _Allowance:
    tokens: float
    at: datetime
    warned: bool = False


class CommandLimiter:
    """A token bucket per person: ``burst`` commands at once, refilled at ``per_minute``."""

    def __init__(self, per_minute: float, burst: int) -> None:
        self._rate = per_minute / 60.0
        self._burst = float(burst)
        self._people: dict[PersonRef, _Allowance] = {}

    def check(self, event: Event) -> Verdict:
        """Whether this command (or button press) may go ahead; other events always may.

        Time comes from the event, so a backlog delivered at once after downtime is judged by
        when it was sent, not refused for arriving together.
        """
        if not isinstance(event, _LIMITED):
            return Verdict.ALLOW
        allowance = self._people.get(event.person)
        if allowance is None:
            if len(self._people) >= _FORGET_AFTER:
                self._forget(event.at)
            allowance = self._people[event.person] = _Allowance(self._burst, event.at)
        elapsed = max((event.at - allowance.at).total_seconds(), 0.0)
        allowance.tokens = min(self._burst, allowance.tokens + elapsed * self._rate)
        allowance.at = max(allowance.at, event.at)
        if allowance.tokens >= 1.0:
            allowance.tokens -= 1.0
            allowance.warned = False
            return Verdict.ALLOW
        if allowance.warned:
            return Verdict.DROP
        allowance.warned = True
        return Verdict.WARN

    def wait(self, person: PersonRef) -> int:
        """Whole seconds until the person may send a command again (0: now)."""
        allowance = self._people.get(person)
        if allowance is None or allowance.tokens >= 1.0:
            return 0
        return math.ceil((1.0 - allowance.tokens) / self._rate)

    def _forget(self, now: datetime) -> None:
        idle = [
            person
            for person, a in self._people.items()
            if a.tokens + (now - a.at).total_seconds() * self._rate >= self._burst
        ]
        for person in idle:
            del self._people[person]


def message_of(event: Event, private_chat: Callable[[PersonRef], str]) -> MessageRef | None:
    """The platform message an event came in, if the platform gave it an id.

    A private message is keyed by ``private_chat(person)`` (a pseudonym), never by the
    platform user id, which lives only in the identity table.
    """
    if isinstance(event, MessagePosted):
        message_id: str | None = event.message_id
    elif isinstance(event, CommandIssued):
        message_id = event.message_id
    elif isinstance(event, ButtonPressed | VoteCast) and event.press_id is not None:
        # A press is no message, but its id is as unique; the prefix keeps them apart.
        message_id = f"press:{event.press_id}"
    else:
        return None
    if message_id is None:
        return None
    if event.group is not None:
        return MessageRef(event.group.platform, event.group.chat_id, message_id)
    return MessageRef(event.person.platform, private_chat(event.person), message_id)


def mark_cut(transition: Transition, message_id: str, original_length: int) -> Transition:
    """The transition with its captures of a cut message marked with the original length."""

    def marked(capture: Capture) -> Capture:
        if isinstance(capture, ResponseCaptured | ResponseEdited) and (
            capture.message_id == message_id
        ):
            return replace(capture, original_length=original_length)
        return capture

    return replace(transition, captures=tuple(marked(c) for c in transition.captures))


def was_cut_and_kept(transition: Transition) -> bool:
    """Whether the transition stores a reply (or edit) that was cut."""
    return any(
        isinstance(c, ResponseCaptured | ResponseEdited) and c.original_length is not None
        for c in transition.captures
    )


@dataclass(frozen=True)
class IntakeRules:
    """Limits on what comes in (from the [capture] and [limits] settings)."""

    max_message_chars: int = 20000
    commands_per_minute: float = 20.0
    command_burst: int = 8


class Intake:
    """The service's door: cleans, cuts and rate-limits events, and guards the engine."""

    def __init__(self, rules: IntakeRules) -> None:
        self.rules = rules
        self.limiter = CommandLimiter(rules.commands_per_minute, rules.command_burst)

    def admit(self, event: Event) -> tuple[Event, int | None]:
        """The cleaned (and perhaps cut) event, and its original length if it was cut."""
        return shorten(clean_event(event), self.rules.max_message_chars)

    def limit(self, event: Event, actor: Actor) -> Verdict:
        """Whether the actor may go ahead.

        Facilitators and staff steer sessions unlimited, and nobody is ever held back from
        what ``engine.unlimited`` names (their rights, help, answers, a self-paced dialogue).
        """
        if not isinstance(event, _LIMITED):  # most events: no limit to look at
            return Verdict.ALLOW
        if actor.facilitator or actor.staff or engine.unlimited(event, actor.group):
            return Verdict.ALLOW
        return self.limiter.check(event)

    def step(
        self,
        state: SessionState | None,
        event: Event,
        scopes: frozenset[str],
        actor: Actor,
        ctx: Context,
        original_length: int | None,
    ) -> tuple[Transition, bool]:
        """The engine's transition for the gated event, and whether the engine coped.

        A failure becomes a polite reply; the event is then not marked handled, so a platform
        that delivers it again (after a fix) gets it handled.
        """
        try:
            transition = engine.step(state, consent.gate(event, scopes), actor, ctx)
        except Exception as exc:
            # Type and place only: the message of an exception can quote what was typed.
            frame = traceback.extract_tb(exc.__traceback__)[-1]
            log.error(
                "the engine failed on an event at %s:%s",
                Path(frame.filename).name,
                frame.lineno,
                extra={"kind": type(exc).__name__},
            )
            in_group = actor.group is not None and not is_direct(actor.group)
            sorry = ctx.t("capture.failed" if in_group else "capture.failed_private")
            return Transition(state, (SendPrivate(actor.person, sorry, actor.group),)), False
        if original_length is None or not isinstance(event, MessagePosted | MessageEdited):
            return transition, True
        transition = mark_cut(transition, event.message_id, original_length)
        if not was_cut_and_kept(transition):
            return transition, True
        limit = self.rules.max_message_chars
        notice = SendPrivate(actor.person, ctx.t("capture.truncated", limit=limit), actor.group)
        return replace(transition, actions=(*transition.actions, notice)), True

    def slow_down(self, actor: Actor, texts: Catalogue, language: str) -> SendPrivate:
        """The one polite word to a person sending commands too fast.

        It says for how long their commands are ignored (those sent meanwhile get no other
        answer) and what always works.
        """
        seconds = max(self.limiter.wait(actor.person), 1)
        wait = texts.plural(language, "count.seconds", seconds)
        text = texts.get(language, "limits.slow_down", seconds=wait)
        return SendPrivate(actor.person, text, actor.group)
