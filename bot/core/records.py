"""What is stored about a person, as the store reports it (for /mydata and erasure)."""

from __future__ import annotations

from dataclasses import dataclass
from datetime import datetime
from typing import Literal

from bot.core.ids import GroupRef


@dataclass(frozen=True, slots=True)
class ConsentRecord:
    """What a person agreed to in one group, to which consent text, and when."""

    scopes: frozenset[str]
    version: str
    text_hash: str
    given_at: datetime
    # The language of the consent text they read (None: from before languages).
    language: str | None = None
    # The group's name, as staff or the platform gave it when it was registered (None: unknown).
    group_title: str | None = None


@dataclass(frozen=True, slots=True)
class ResponseRecord:
    """One of a person's stored replies, as shown to that person."""

    group: GroupRef
    session_id: str
    step_id: str
    message_id: str
    text: str
    posted_at: datetime
    edited_at: datetime | None
    earlier_versions: int
    # The script its session ran, and the content version (to name the question it answers).
    script_id: str | None = None
    content_version: str | None = None


@dataclass(frozen=True, slots=True)
class VoteRecord:
    """One of a person's stored votes, as shown to that person."""

    group: GroupRef
    session_id: str
    step_id: str
    options: tuple[int, ...]
    cast_at: datetime
    # The script its session ran, and the content version (to name the question and answers).
    script_id: str | None = None
    content_version: str | None = None


@dataclass(frozen=True, slots=True)
class ProfileAnswer:
    """A person's answer to one profile question; ``answer`` None means they skipped it."""

    question_id: str
    answer: str | None
    answered_at: datetime


@dataclass(frozen=True, slots=True)
class Place:
    """Where a person is in a self-paced dialogue: its script, the step's index and status."""

    cycle: str
    script_id: str
    content_version: str | None
    step_index: int
    status: str


@dataclass(frozen=True, slots=True)
class Turnout:
    """Who has spoken in a session, as counts only (for a facilitator's /status)."""

    # People who agreed to take part in the group's chat.
    consented: int
    # Of them, people with a reply or an answer at the current step.
    replied: int
    # Of them, people with no reply and no answer in the session yet.
    silent: int


@dataclass(frozen=True, slots=True)
class PersonData:
    """Everything stored about one person; empty when the person is unknown."""

    consents: tuple[tuple[GroupRef, ConsentRecord], ...] = ()
    responses: tuple[ResponseRecord, ...] = ()
    votes: tuple[VoteRecord, ...] = ()
    profile: tuple[ProfileAnswer, ...] = ()
    # Places in self-paced dialogues, and session reflections (each as its three answers,
    # None not answered).
    places: tuple[Place, ...] = ()
    reflections: tuple[tuple[str | None, ...], ...] = ()
    # The language they chose, if they chose one.
    language: str | None = None


# Who asked for an erasure: the person, in the chat (``/withdraw confirm``); staff, from the
# command line (``dialogue person erase``, a restore's replay); or staff again: a running bot
# erasing what the person wrote after staff erased them, before it learned of it.
ErasureRequest = Literal["person", "staff", "again"]


@dataclass(frozen=True, slots=True)
class Erasure:
    """How many rows of each kind an erasure removed."""

    responses: int
    votes: int
    consents: int
    # Answers to the profile questions (skipped ones included).
    profile: int = 0


@dataclass(frozen=True, slots=True)
class SessionHeard:
    """What a session heard, as counts (for its "what we heard today" summary)."""

    # People who replied or answered, among those who agreed to take part.
    people: int
    # Replies by step id.
    replies: dict[str, int]
    # Everyone's current answer by choice step (or feedback question) id, without who.
    answers: dict[str, list[tuple[int, ...]]]
