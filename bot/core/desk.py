"""What a person is doing in their private chat with the bot, besides group sessions.

A resident's self-paced dialogue (``SoloState``, persisted), a facilitator's rehearsal (a
session of no group, kept in memory only: nothing of it is stored), the reflection a
facilitator is asked for after a session (persisted) and the "what we heard today" summary
waiting for their review (memory). The service fills in ``Actor.desk`` for private events.
"""

from __future__ import annotations

from dataclasses import dataclass
from datetime import datetime

from bot.core.ids import GroupRef, PersonRef
from bot.core.state import SessionState

ACTIVE = "active"
STOPPED = "stopped"
DONE = "done"
SOLO_STATUSES = (ACTIVE, STOPPED, DONE)
# The three reflection questions, in the order they are asked (and their export columns).
REFLECTION_QUESTIONS = ("went_well", "was_hard", "to_change")


@dataclass(frozen=True, slots=True)
class SoloState:
    """A resident's place in one cycle's self-paced dialogue."""

    person: PersonRef
    cycle_id: str
    script_id: str
    script_version: str
    step_index: int
    status: str
    updated_at: datetime
    # Whether they replied or answered at the current step (then "Next" rather than "Skip").
    answered: bool = False
    stopped_at: datetime | None = None
    # Whether they want one reminder if they stop half-way (None: not asked yet).
    remind: bool | None = None
    reminded_at: datetime | None = None
    # The content version it runs (bot.content.version); None for progress from before them.
    content_version: str | None = None
    # The profile question asked in their private chat and not answered yet: what they type
    # next answers it, and is never a reply to the step.
    question: str | None = None

    @property
    def open(self) -> bool:
        """Whether the dialogue is under way (being answered, or stopped for now)."""
        return self.status in (ACTIVE, STOPPED)


@dataclass(frozen=True, slots=True)
class Reflection:
    """A facilitator's reflection on a session: one answer per question ("" skipped)."""

    session_id: str
    group: GroupRef
    asked_at: datetime
    answers: tuple[str | None, ...] = (None,) * len(REFLECTION_QUESTIONS)

    @property
    def pending(self) -> int | None:
        """The number (from 0) of the question waiting for an answer, or None when done."""
        return next((n for n, answer in enumerate(self.answers) if answer is None), None)


@dataclass(frozen=True, slots=True)
class SummaryDraft:
    """A "what we heard today" summary waiting for the facilitator to post, edit or skip."""

    group: GroupRef
    session_id: str
    text: str
    editing: bool = False


@dataclass(frozen=True, slots=True)
class Desk:
    """A person's private work with the bot, as the service knows it now."""

    solo: SoloState | None = None
    # A rehearsal is a session of a group that does not exist ("rehearsal", script id).
    rehearsal: SessionState | None = None
    reflection: Reflection | None = None
    summary: SummaryDraft | None = None
    # Whether the person facilitates some group (or is staff): they may rehearse.
    facilitates: bool = False
