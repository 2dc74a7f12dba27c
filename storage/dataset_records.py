"""Rows the dataset reads return: plain frozen values, no ORM objects."""

from __future__ import annotations

from dataclasses import dataclass
from datetime import datetime

from bot.core.ids import GroupRef, PersonRef


@dataclass(frozen=True, slots=True)
class CycleRow:
    """A cycle: its sessions, and its title and dates when it is managed as a cycle."""

    cycle_id: str
    sessions: int
    first_started_at: datetime | None
    title: str | None = None
    opens_at: datetime | None = None

    @property
    def began(self) -> datetime | None:
        """When the cycle began: when it opened, else its first session."""
        return self.opens_at or self.first_started_at


@dataclass(frozen=True, slots=True)
class ProfileAnswerRow:
    """A person's answer to a profile question (None: skipped)."""

    person: PersonRef
    question_id: str
    answer: str | None
    answered_at: datetime


@dataclass(frozen=True, slots=True)
class SessionRow:
    """A session with its group, for exports."""

    session_id: str
    cycle_id: str | None
    group: GroupRef
    group_title: str | None
    script_id: str | None
    script_version: str | None
    status: str
    step_index: int
    started_at: datetime | None
    ended_at: datetime | None
    # The content version it ran (None: a session from before versions were kept).
    content_version: str | None = None


@dataclass(frozen=True, slots=True)
class StepVisitRow:
    """A step put in front of a group, and when."""

    session_id: str
    step_index: int
    started_at: datetime


@dataclass(frozen=True, slots=True)
class CardExposureRow:
    """A card shown in a session."""

    session_id: str
    group: GroupRef
    step_id: str
    card_id: str
    card_version: str
    shown_at: datetime


@dataclass(frozen=True, slots=True)
class ExportRecord:
    """One export as recorded when it was made."""

    export_id: int
    started_at: datetime
    completed_at: datetime | None
    cycle_id: str | None
    profile: str
    made_by: str


@dataclass(frozen=True, slots=True)
class ErasureNotice:
    """A pseudonym held by an export whose person withdrew after it was made."""

    export: ExportRecord
    pseudonym: str
    erased_at: datetime
