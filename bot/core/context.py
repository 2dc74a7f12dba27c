"""What the engine is told besides the event: who is acting, the content, the time."""

from __future__ import annotations

from dataclasses import dataclass, field
from datetime import UTC, datetime, tzinfo

from bot.content.check import Library
from bot.core.actions import Action
from bot.core.captures import Capture
from bot.core.effects import Effect
from bot.core.ids import GroupRef, PersonRef
from bot.core.records import ProfileAnswer
from bot.core.state import SessionState
from bot.texts import Catalogue


@dataclass(frozen=True, slots=True)
class Actor:
    """The person behind an event, as the service knows them, for the group in question."""

    person: PersonRef
    group: GroupRef | None = None
    scopes: frozenset[str] = frozenset()
    facilitator: bool = False
    staff: bool = False
    invited: bool = False
    # Whether staff registered the group for dialogues (only registered groups run sessions).
    registered: bool = True
    # The person's current answer to the step a vote is about, for toggling options.
    current_vote: tuple[int, ...] = ()
    # The person's stored profile answers (filled in for /profile only).
    profile: tuple[ProfileAnswer, ...] = ()


@dataclass(frozen=True, slots=True)
class Context:
    """Content, messages, deployment language and the current time (the engine has no clock)."""

    library: Library
    texts: Catalogue
    now: datetime
    cycle_id: str
    language: str = "en"
    # Scripts the open cycle offers; None while no cycle was ever created (every script).
    offered: frozenset[str] | None = None
    zone: tzinfo = UTC

    def t(self, key: str, **params: object) -> str:
        """A message from the catalogue in the deployment's language."""
        return self.texts.get(self.language, key, **params)


@dataclass(frozen=True, slots=True)
class Transition:
    """What one event leads to: the new state, what to say, what to store, what else to do."""

    state: SessionState | None
    actions: tuple[Action, ...] = ()
    captures: tuple[Capture, ...] = ()
    effects: tuple[Effect, ...] = field(default=())
