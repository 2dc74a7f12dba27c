"""Requests from the core for work only the service can do (it needs storage)."""

from __future__ import annotations

from dataclasses import dataclass
from datetime import datetime

from bot.core.ids import GroupRef, PersonRef


@dataclass(frozen=True, slots=True)
class Invited:
    """A person without consent was invited to take part in this group (once is enough)."""

    person: PersonRef
    group: GroupRef


@dataclass(frozen=True, slots=True)
class DataRequested:
    """A person asked to see what is stored about them."""

    person: PersonRef


@dataclass(frozen=True, slots=True)
class ErasureRequested:
    """A person confirmed they withdraw and want their data erased."""

    person: PersonRef


@dataclass(frozen=True, slots=True)
class RoleChanged:
    """Staff made someone a facilitator of a group, or stopped them being one."""

    group: GroupRef
    person: PersonRef
    granted: bool


@dataclass(frozen=True, slots=True)
class SessionScheduled:
    """A facilitator scheduled a session of a script for a group at a time (UTC)."""

    group: GroupRef
    person: PersonRef
    script_id: str
    at: datetime


@dataclass(frozen=True, slots=True)
class GroupRegistered:
    """Staff registered a group for dialogues (its sessions may now run)."""

    group: GroupRef


@dataclass(frozen=True, slots=True)
class ForgetRequested:
    """A person asked to remove one of their stored replies, by its number in /mydata."""

    person: PersonRef
    number: int


@dataclass(frozen=True, slots=True)
class TallyChanged:
    """A vote changed a choice step's tally: show it to the facilitator, or the group if public."""

    group: GroupRef
    session_id: str
    step_id: str
    public: bool = False


@dataclass(frozen=True, slots=True)
class TurnoutRequested:
    """A facilitator asked how many consented people have spoken at the current step."""

    person: PersonRef
    group: GroupRef
    session_id: str
    step_id: str


Effect = (
    Invited
    | DataRequested
    | ErasureRequested
    | RoleChanged
    | SessionScheduled
    | GroupRegistered
    | ForgetRequested
    | TallyChanged
    | TurnoutRequested
)
