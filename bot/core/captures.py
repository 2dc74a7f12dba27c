"""What the core asks to be written: frozen dataclasses the service hands to storage.

Only the engine creates captures, and only for people who passed the consent gate.
"""

from __future__ import annotations

from dataclasses import dataclass
from datetime import datetime

from bot.content.version import Version
from bot.core.desk import Reflection, SoloState
from bot.core.ids import GroupRef, PersonRef
from bot.core.state import SessionState


@dataclass(frozen=True, slots=True)
class ResponseCaptured:
    """A consented reply to a step."""

    session_id: str
    person: PersonRef
    group: GroupRef
    step_id: str
    message_id: str
    text: str
    at: datetime
    reply_to: str | None = None
    kind: str = "text"
    # Set when the text was cut to the configured maximum: the length it really had.
    original_length: int | None = None
    # The language the bot speaks to its author in (None: not known).
    language: str | None = None


@dataclass(frozen=True, slots=True)
class ResponseEdited:
    """A stored reply was edited: the new text replaces the old, the old is kept as history."""

    person: PersonRef
    group: GroupRef
    message_id: str
    text: str
    at: datetime
    original_length: int | None = None


@dataclass(frozen=True, slots=True)
class ResponseDeleted:
    """A stored reply was deleted by its author: it is removed with its history."""

    group: GroupRef
    message_id: str
    at: datetime
    person: PersonRef | None = None


@dataclass(frozen=True, slots=True)
class VoteCaptured:
    """A consented answer to a choice step; a later one replaces it."""

    session_id: str
    person: PersonRef
    group: GroupRef
    step_id: str
    options: tuple[int, ...]
    at: datetime


@dataclass(frozen=True, slots=True)
class ConsentRecorded:
    """A person gave consent to these scopes for a group, to this exact consent text."""

    person: PersonRef
    group: GroupRef
    scopes: frozenset[str]
    version: str
    text_hash: str
    at: datetime
    # The language of the consent text the person read; ``text_hash`` is that text's hash.
    language: str | None = None


@dataclass(frozen=True, slots=True)
class LanguageChosen:
    """A person chose the language the bot speaks to them in.

    Stored only while the person has consent somewhere: until then the bot keeps the choice in
    memory, and storage leaves the capture out (see ``storage._languages``).
    """

    person: PersonRef
    language: str
    at: datetime


@dataclass(frozen=True, slots=True)
class SessionSaved:
    """A session's state changed and must be persisted."""

    state: SessionState


@dataclass(frozen=True, slots=True)
class ContentUsed:
    """A session started on this content version: it is kept (once) with the session."""

    version: Version
    at: datetime


@dataclass(frozen=True, slots=True)
class CardShown:
    """A resource card was shown in a session: which card, which version, at which step."""

    session_id: str
    group: GroupRef
    step_id: str
    card_id: str
    card_version: str
    at: datetime


@dataclass(frozen=True, slots=True)
class ProfileAnswered:
    """A person with the profile consent answered a profile question (None: skipped it)."""

    person: PersonRef
    question_id: str
    answer: str | None
    at: datetime


@dataclass(frozen=True, slots=True)
class ProfileDeleted:
    """A person's answer to one profile question, or all (``question_id`` None), is deleted.

    With ``unless_consented`` the answers stay while any consent of the person still has the
    profile scope (consent is per group; the answers are the person's).
    """

    person: PersonRef
    question_id: str | None = None
    unless_consented: bool = False


@dataclass(frozen=True, slots=True)
class SoloSaved:
    """A resident's place in a self-paced dialogue changed and must be persisted."""

    state: SoloState


@dataclass(frozen=True, slots=True)
class ReflectionSaved:
    """A facilitator was asked to reflect on a session, or answered (or skipped) a question."""

    person: PersonRef
    reflection: Reflection
    at: datetime


Capture = (
    ResponseCaptured
    | ResponseEdited
    | ResponseDeleted
    | VoteCaptured
    | ConsentRecorded
    | SessionSaved
    | ContentUsed
    | CardShown
    | ProfileAnswered
    | ProfileDeleted
    | SoloSaved
    | ReflectionSaved
    | LanguageChosen
)
