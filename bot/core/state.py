"""The state of one group's session: plain data, persisted at every change."""

from __future__ import annotations

from dataclasses import dataclass
from datetime import datetime
from enum import StrEnum

from bot.core.ids import GroupRef


class Status(StrEnum):
    """Where a session is in its life."""

    NOT_STARTED = "not_started"
    RUNNING = "running"
    PAUSED = "paused"
    ENDED = "ended"


@dataclass(frozen=True, slots=True)
class SessionState:
    """One group's session: which script, which step, since when."""

    group: GroupRef
    status: Status = Status.NOT_STARTED
    session_id: str | None = None
    cycle_id: str | None = None
    script_id: str | None = None
    script_version: str | None = None
    step_index: int = 0
    started_at: datetime | None = None
    step_started_at: datetime | None = None
    ended_at: datetime | None = None
    # The content version it runs (bot.content.version): its labels, whatever the files say.
    content_version: str | None = None
    # The language its group posts are in (None: the deployment's).
    language: str | None = None

    @property
    def live(self) -> bool:
        """Whether a session is under way (running or paused)."""
        return self.status in (Status.RUNNING, Status.PAUSED)
