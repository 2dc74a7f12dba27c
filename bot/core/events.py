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


@dataclass(frozen=True, slots=True)
class ButtonPressed:
    """A person pressed a button whose payload the core produced earlier."""

    person: PersonRef
    group: GroupRef | None
    payload: str
    at: datetime


@dataclass(frozen=True, slots=True)
class VoteCast:
    """A person answered a choice step (1-based option numbers)."""

    person: PersonRef
    group: GroupRef
    step_id: str
    options: tuple[int, ...]
    at: datetime


Event = MessagePosted | MessageEdited | MessageDeleted | CommandIssued | ButtonPressed | VoteCast
