"""Facts that platforms report to the core: frozen dataclasses, past tense.

A platform adapter maps its native updates to these and nothing else. ``group`` is ``None``
when a person writes to the bot privately.
"""

from __future__ import annotations

from dataclasses import dataclass
from datetime import datetime

from bot.core.ids import GroupRef, PersonRef


@dataclass(frozen=True, slots=True)
class MessagePosted:
    """A person posted a message (``kind`` is "text", or e.g. "sticker" with empty text)."""

    person: PersonRef
    group: GroupRef | None
    message_id: str
    text: str
    at: datetime
    reply_to: str | None = None
    kind: str = "text"
    # The language the person's platform is set to (a locale such as "bn-BD"), if it says.
    locale: str | None = None


@dataclass(frozen=True, slots=True)
class MessageEdited:
    """A person edited one of their messages."""

    person: PersonRef
    group: GroupRef | None
    message_id: str
    text: str
    at: datetime


@dataclass(frozen=True, slots=True)
class MessageDeleted:
    """A message was deleted (the platform may not say by whom)."""

    group: GroupRef | None
    message_id: str
    at: datetime
    person: PersonRef | None = None


@dataclass(frozen=True, slots=True)
class CommandIssued:
    """A person issued a command such as ``/next`` or ``/agree participate``."""

    person: PersonRef
    group: GroupRef | None
    name: str
    args: tuple[str, ...]
    at: datetime
    message_id: str | None = None
    # A private command about a group (e.g. consent through a link the group was given).
    about: GroupRef | None = None
    # The message the command replied to, if any (``/forget`` as a reply).
    reply_to: str | None = None
    # The platform says the person administers the group (a fact; the service decides roles).
    by_admin: bool = False
    # The platform's handle for answering this command (a Discord interaction's token).
    token: str | None = None
    # The platform runs a session started here in a new topic it opens (a Discord thread).
    opens_topic: bool = False
    # The language the person's platform is set to (a locale such as "bn-BD"), if it says.
    locale: str | None = None


@dataclass(frozen=True, slots=True)
class ButtonPressed:
    """A person pressed a button whose payload the core produced earlier."""

    person: PersonRef
    group: GroupRef | None
    payload: str
    at: datetime
    # For a button pressed in private: the group the message with the button was about.
    about: GroupRef | None = None
    # The platform's id of this press, so a redelivered press is handled once.
    press_id: str | None = None
    # The platform's handle for answering this press (a callback query id, an interaction's
    # token); replies name it, so the platform keeps nothing between the press and its answer.
    token: str | None = None
    # The language the person's platform is set to (a locale such as "bn-BD"), if it says.
    locale: str | None = None


@dataclass(frozen=True, slots=True)
class VoteCast:
    """A person answered a choice step (1-based option numbers)."""

    person: PersonRef
    group: GroupRef
    step_id: str
    options: tuple[int, ...]
    at: datetime
    # Flip these options in the person's current answer instead of replacing it (multiple).
    toggle: bool = False
    # The platform's id of this press, so a redelivered press is handled once.
    press_id: str | None = None
    # The platform's handle for answering this press (a callback query id, an interaction's
    # token); replies name it, so the platform keeps nothing between the press and its answer.
    token: str | None = None
    # The language the person's platform is set to (a locale such as "bn-BD"), if it says.
    locale: str | None = None


TIMER_KINDS = ("step", "open", "remind", "missed", "close", "nudge")


@dataclass(frozen=True, slots=True)
class TimerFired:
    """A scheduled moment came; the engine decides what it means (stale timers mean nothing).

    ``kind`` is one of TIMER_KINDS: a step's time is up ("step"), a scheduled session is due
    ("open"), one is coming ("remind") or could not open in time ("missed"), or the session's
    cycle closed ("close"), or a resident who stopped a self-paced dialogue may be reminded
    ("nudge", ``person`` the resident). ``person`` is who to tell privately (the lead
    facilitator), if known.
    """

    group: GroupRef
    kind: str
    at: datetime
    person: PersonRef | None = None
    session_id: str | None = None
    step_index: int | None = None
    step_started_at: datetime | None = None
    script_id: str | None = None
    due: datetime | None = None


Event = (
    MessagePosted
    | MessageEdited
    | MessageDeleted
    | CommandIssued
    | ButtonPressed
    | VoteCast
    | TimerFired
)


# Events that carry the person's locale (made once: ``A | B`` in a call makes a union each time).
_LOCALED = MessagePosted | CommandIssued | ButtonPressed | VoteCast


def locale_of(event: Event) -> str | None:
    """The locale the platform reported for the person behind ``event``, if any."""
    if isinstance(event, _LOCALED):
        return event.locale
    return None


def words(event: Event) -> tuple[str, tuple[str, ...]]:
    """A typed command's or pressed button's name (lower case) and arguments; else ("", ())."""
    if isinstance(event, CommandIssued):
        return event.name.lower(), event.args
    if isinstance(event, ButtonPressed):
        said = event.payload.split() or [""]
        return said[0].lower(), tuple(said[1:])
    return "", ()
