"""Requests from the core for work only the service can do (it needs storage)."""

from __future__ import annotations

from dataclasses import dataclass
from datetime import datetime

from bot.core.desk import SummaryDraft
from bot.core.ids import GroupRef, PersonRef
from bot.core.state import SessionState


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
    # How the platform names the person, for the group's notice; never stored.
    name: str = ""


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
    # The group's name as its platform shows it, to name it to people (None: not known).
    title: str | None = None


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


@dataclass(frozen=True, slots=True)
class RehearsalChanged:
    """A facilitator's rehearsal moved on (or ended: None); it lives in memory only."""

    person: PersonRef
    rehearsal: SessionState | None


@dataclass(frozen=True, slots=True)
class SummaryRequested:
    """A session ended: draft its "what we heard today" summary for the facilitator to review."""

    person: PersonRef
    group: GroupRef
    session_id: str


@dataclass(frozen=True, slots=True)
class SummaryChanged:
    """The summary waiting for the facilitator's review changed (None: posted or skipped)."""

    person: PersonRef
    draft: SummaryDraft | None


@dataclass(frozen=True, slots=True)
class ChartRequested:
    """Show a chart of the answers to these choice steps (ballot ids) of a session.

    To ``person`` privately when set (a rehearsal, which has no session and no answers),
    otherwise to the group.
    """

    group: GroupRef
    session_id: str | None
    script_id: str
    ballots: tuple[str, ...]
    person: PersonRef | None = None
    # The content version the session runs, whose labels the chart shows.
    version: str | None = None


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
    | RehearsalChanged
    | SummaryRequested
    | SummaryChanged
    | ChartRequested
)
