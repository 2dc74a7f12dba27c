"""Orders from the core to a platform: frozen dataclasses, imperative.

Every button carries the text command that does the same thing, so each platform can offer
a text fallback (for the console, for accessibility, for clients without buttons).
"""

from __future__ import annotations

from dataclasses import dataclass

from bot.content.models import Card
from bot.core.events import CommandIssued
from bot.core.ids import GroupRef, Origin, PersonRef


@dataclass(frozen=True, slots=True)
class Button:
    """A button: its label, the payload the platform returns, and its text-command twin."""

    label: str
    payload: str
    command: str
    # Pressed in a group, it leads to the person's private chat about that group (consent).
    private: bool = False


@dataclass(frozen=True, slots=True)
class SendText:
    """Post text in a group."""

    group: GroupRef
    text: str
    buttons: tuple[Button, ...] = ()
    # Messages with the same slot replace each other (edited in place where the platform can).
    slot: str | None = None
    # Set: show it to this person privately, as the group would see it (a rehearsal).
    person: PersonRef | None = None


@dataclass(frozen=True, slots=True)
class SendCard:
    """Show a resource card in a group (or privately to ``person``, as the group would)."""

    group: GroupRef
    card: Card
    person: PersonRef | None = None
    # The language its own labels are rendered in (None: the deployment's).
    language: str | None = None


@dataclass(frozen=True, slots=True)
class AskChoice:
    """Ask a choice question in a group; options are numbered from 1."""

    group: GroupRef
    step_id: str
    text: str
    options: tuple[str, ...]
    multiple: bool
    # How to answer without buttons, when '/vote N' is not it (a feedback question).
    hint: str = ""
    # Set: show it to this person privately, as the group would see it (a rehearsal).
    person: PersonRef | None = None
    # The language its own labels are rendered in (None: the deployment's).
    language: str | None = None


@dataclass(frozen=True, slots=True)
class SendPrivate:
    """Send a person a private message (``group`` says which group it is about, if any)."""

    person: PersonRef
    text: str
    group: GroupRef | None = None
    buttons: tuple[Button, ...] = ()
    # Messages with the same slot replace each other (edited in place where the platform can).
    slot: str | None = None
    # The event or button press this answers (filled by ``bot.core.answers``).
    answers: Origin | None = None
    # It invites the person to consent to ``group``: where a platform can, answering a press
    # opens the private consent chat at once.
    asks_consent: bool = False


@dataclass(frozen=True, slots=True)
class CheckAccess:
    """Check that the bot can see and say what a session needs in a group; tell the person.

    Platforms where nothing can be missing do nothing; others explain what to change.
    """

    group: GroupRef
    person: PersonRef
    # The command this answers (filled by ``bot.core.answers``).
    answers: Origin | None = None


@dataclass(frozen=True, slots=True)
class SendImage:
    """Show a picture (a PNG) in a group, or privately to ``person``; ``alt`` describes it.

    ``name`` is a short file name for it (letters, digits, dashes), without ".png".
    """

    group: GroupRef
    png: bytes
    alt: str
    name: str = "image"
    person: PersonRef | None = None


@dataclass(frozen=True, slots=True)
class OpenTopic:
    """Open a new topic in a group for a session titled ``title``, then handle ``then`` there.

    ``then`` is the command that asked for it (with its group, the platform puts the topic's).
    """

    group: GroupRef
    title: str
    then: CommandIssued


Action = SendText | SendCard | AskChoice | SendPrivate | CheckAccess | SendImage | OpenTopic


def recipient(action: Action) -> PersonRef | None:
    """The person an action goes to privately, or None when it goes to its group."""
    if isinstance(action, CheckAccess):
        return None  # it names whom to tell, but it is about the group
    if isinstance(action, OpenTopic):
        return None
    return action.person
