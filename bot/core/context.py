"""What the engine is told besides the event: who is acting, the content, the time."""

from __future__ import annotations

from collections.abc import Mapping
from dataclasses import dataclass, field
from datetime import UTC, datetime, timedelta, tzinfo

from bot.content.check import Library
from bot.content.models import Card, Script
from bot.content.version import Version
from bot.core.actions import Action, SendPrivate
from bot.core.captures import Capture
from bot.core.desk import Desk
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
    # What the person is doing in their private chat (filled in for private events only).
    desk: Desk = field(default_factory=Desk)


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
    # How long after someone stops a self-paced dialogue half-way they may be reminded, once.
    solo_reminder: timedelta | None = None
    # The content versions that sessions in view started on, by digest, as the database keeps
    # them: a session runs on its own version even after the files changed.
    ran: Mapping[str, Version] = field(default_factory=dict)

    def script(self, script_id: str | None, version: str | None) -> Script | None:
        """The script a session runs: its own version if known, else the files' current one."""
        kept = self.ran.get(version or "")
        if kept is not None and kept.script.id == script_id:
            return kept.script
        return self.library.scripts.get(script_id or "")

    def cards(self, version: str | None) -> Mapping[str, Card]:
        """The cards a session of ``version`` shows: the version's own, else the files'."""
        kept = self.ran.get(version or "")
        return self.library.cards if kept is None else {**self.library.cards, **kept.cards}

    def t(self, key: str, **params: object) -> str:
        """A message from the catalogue in the deployment's language."""
        return self.texts.get(self.language, key, **params)

    def n(self, key: str, count: int, **params: object) -> str:
        """A message with a count, in the form the count needs (``key.one`` or ``key.other``)."""
        return self.texts.plural(self.language, key, count, **params)


@dataclass(frozen=True, slots=True)
class Transition:
    """What one event leads to: the new state, what to say, what to store, what else to do."""

    state: SessionState | None
    actions: tuple[Action, ...] = ()
    captures: tuple[Capture, ...] = ()
    effects: tuple[Effect, ...] = field(default=())
    # False: nothing of this event is stored, not even that its message was handled (a
    # rehearsal, which must leave no trace in the database).
    remember: bool = True


def private(actor: Actor, text: str) -> SendPrivate:
    """``text`` to ``actor`` alone, about the group they act in."""
    return SendPrivate(actor.person, text, actor.group)


def reply(state: SessionState | None, actor: Actor, text: str) -> Transition:
    """The state unchanged, and ``text`` to ``actor`` alone."""
    return Transition(state, (private(actor, text),))
