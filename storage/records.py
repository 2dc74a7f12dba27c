"""Plain frozen values the repository returns; callers never see ORM objects or rows."""

from __future__ import annotations

from collections.abc import Mapping
from dataclasses import dataclass
from datetime import datetime

from bot.core.ids import GroupRef, PersonRef
from bot.core.records import ConsentRecord, Erasure, PersonData, ResponseRecord, VoteRecord

__all__ = [
    "AuditEntry",
    "ConsentRecord",
    "Erasure",
    "ParticipantRow",
    "PersonData",
    "ResponseRecord",
    "ResponseRow",
    "VoteRecord",
    "VoteRow",
]


@dataclass(frozen=True, slots=True)
class AuditEntry:
    """One audit log entry; ``detail`` never holds platform ids or participant text."""

    id: int
    at: datetime
    kind: str
    detail: Mapping[str, object]


@dataclass(frozen=True, slots=True)
class ResponseRow:
    """A reply with its context, for exporters (which pseudonymise ``person``)."""

    response_id: int
    person: PersonRef
    group: GroupRef
    group_title: str | None
    session_id: str
    cycle_id: str | None
    script_id: str | None
    script_version: str | None
    step_id: str
    message_id: str
    text: str
    kind: str
    reply_to: str | None
    posted_at: datetime
    edited_at: datetime | None
    # The content version the person answered (None: from before versions were kept).
    content_version: str | None = None
    # The language the bot spoke to the person in (None: from before languages were kept).
    language: str | None = None


@dataclass(frozen=True, slots=True)
class VoteRow:
    """A vote with its context, for exporters."""

    vote_id: int
    person: PersonRef
    group: GroupRef
    group_title: str | None
    session_id: str
    cycle_id: str | None
    script_id: str | None
    script_version: str | None
    step_id: str
    options: tuple[int, ...]
    cast_at: datetime
    # The content version the person answered (None: from before versions were kept).
    content_version: str | None = None


@dataclass(frozen=True, slots=True)
class ParticipantRow:
    """A person's consent in one group, for exporters."""

    person: PersonRef
    group: GroupRef
    group_title: str | None
    scopes: frozenset[str]
    consent_version: str
    text_hash: str
    given_at: datetime


def encode_options(options: tuple[int, ...]) -> str:
    """Store vote options as "1,3"."""
    return ",".join(str(option) for option in options)


def decode_options(stored: str) -> tuple[int, ...]:
    """Read vote options stored as "1,3"."""
    return tuple(int(part) for part in stored.split(",") if part)
