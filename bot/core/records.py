"""What is stored about a person, as the store reports it (for /mydata and erasure)."""

from __future__ import annotations

from dataclasses import dataclass
from datetime import datetime

from bot.core.ids import GroupRef


@dataclass(frozen=True, slots=True)
class ConsentRecord:
    """What a person agreed to in one group, to which consent text, and when."""

    scopes: frozenset[str]
    version: str
    text_hash: str
    given_at: datetime


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


@dataclass(frozen=True, slots=True)
class VoteRecord:
    """One of a person's stored votes, as shown to that person."""

    group: GroupRef
    session_id: str
    step_id: str
    options: tuple[int, ...]
    cast_at: datetime


@dataclass(frozen=True, slots=True)
class PersonData:
    """Everything stored about one person; empty when the person is unknown."""

    consents: tuple[tuple[GroupRef, ConsentRecord], ...] = ()
    responses: tuple[ResponseRecord, ...] = ()
    votes: tuple[VoteRecord, ...] = ()


@dataclass(frozen=True, slots=True)
class Erasure:
    """How many rows of each kind an erasure removed."""

    responses: int
    votes: int
    consents: int
