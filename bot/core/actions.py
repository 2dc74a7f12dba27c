"""Orders from the core to a platform: frozen dataclasses, imperative.

Every button carries the text command that does the same thing, so each platform can offer
a text fallback (for the console, for accessibility, for clients without buttons).
"""

from __future__ import annotations

from dataclasses import dataclass

from bot.content.models import Card
from bot.core.ids import GroupRef, PersonRef


@dataclass(frozen=True, slots=True)
class Button:
    """A button: its label, the payload the platform returns, and its text-command twin."""

    label: str
    payload: str
    command: str


@dataclass(frozen=True, slots=True)
class SendText:
    """Post text in a group."""

    group: GroupRef
    text: str
    buttons: tuple[Button, ...] = ()
    # Messages with the same slot replace each other (edited in place where the platform can).
    slot: str | None = None


@dataclass(frozen=True, slots=True)
class SendCard:
    """Show a resource card in a group."""

    group: GroupRef
    card: Card


@dataclass(frozen=True, slots=True)
class AskChoice:
    """Ask a choice question in a group; options are numbered from 1."""

    group: GroupRef
    step_id: str
    text: str
    options: tuple[str, ...]
    multiple: bool


@dataclass(frozen=True, slots=True)
class SendPrivate:
    """Send a person a private message (``group`` says which group it is about, if any)."""

    person: PersonRef
    text: str
    group: GroupRef | None = None
    buttons: tuple[Button, ...] = ()
    # Messages with the same slot replace each other (edited in place where the platform can).
    slot: str | None = None


@dataclass(frozen=True, slots=True)
class CheckAccess:
    """Check that the bot can see and say what a session needs in a group; tell the person.

    Platforms where nothing can be missing do nothing; others explain what to change.
    """

    group: GroupRef
    person: PersonRef


Action = SendText | SendCard | AskChoice | SendPrivate | CheckAccess
