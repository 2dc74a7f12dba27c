"""What the engine is told besides the event: who is acting, the content, the time."""

from __future__ import annotations

from collections.abc import Mapping
from dataclasses import dataclass, field, replace
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
    # The language the person chose (kept in memory until they consent; None: never chose).
    # What they are spoken to in is ``Context.language``, which falls back past this.
    chosen_language: str | None = None


@dataclass(frozen=True, slots=True)
class Context:
    """Content, messages, languages and the current time (the engine has no clock).

    Two languages: ``language`` is the one of the person the event is about (the actor, or
    whom a timer tells), which everything said to them privately is in (``t``); and
    ``group_language``, the one of the session of the group in view, which posts in the group
    are in (``group_t``). ``to_group()`` and ``speaking(language)`` give a context whose ``t``
    speaks another audience's language, for helpers that word text for it.
    """

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
    # The language of the group's session (its own, else the deployment's: new sessions' one).
    group_language: str = "en"
    # The languages of other people the service knows, for what is sent to them privately.
    people_languages: Mapping[PersonRef, str] = field(default_factory=dict)
    # Whether a scheduler runs beside the engine, to open a session scheduled ahead.
    scheduling: bool = True

    def script(
        self, script_id: str | None, version: str | None, language: str | None = None
    ) -> Script | None:
        """The script a session runs: its own version if known, else the files' current one.

        In ``language`` (or along its fallback chain) if given, else in the script's own.
        """
        kept = self.ran.get(version or "")
        if kept is not None and kept.script.id == script_id:
            if language is None:
                return kept.script
            return kept.script_in(language, self.library.language)
        if language is None:
            return self.library.scripts.get(script_id or "")
        return self.library.script_in(script_id or "", language)

    def cards(self, version: str | None, language: str | None = None) -> Mapping[str, Card]:
        """The cards a session of ``version`` shows: the version's own, else the files'.

        In ``language`` (or along its fallback chain) if given, else in their own.
        """
        kept = self.ran.get(version or "")
        if language is None:
            return self.library.cards if kept is None else {**self.library.cards, **kept.cards}
        source = self.library.language
        shown = {
            c: self.library.card_in(c, language) or card for c, card in self.library.cards.items()
        }
        if kept is not None:
            shown |= {
                c: kept.card_in(c, language, source) or card for c, card in kept.cards.items()
            }
        return shown

    @property
    def languages(self) -> tuple[str, ...]:
        """The languages a person may choose: those the bot has messages or content in."""
        return tuple(sorted(self.texts.languages | self.library.languages))

    def t(self, key: str, **params: object) -> str:
        """A message from the catalogue in the language of the person the event is about."""
        return self.texts.get(self.language, key, **params)

    def group_t(self, key: str, **params: object) -> str:
        """A message for everyone in the group, in the language of the group's session."""
        return self.texts.get(self.group_language, key, **params)

    def language_of(self, person: PersonRef) -> str:
        """The language ``person`` is spoken to in (the group's when the bot does not know)."""
        return self.people_languages.get(person, self.group_language)

    def speaking(self, language: str) -> Context:
        """This context, its ``t`` speaking ``language`` (for text made for someone else)."""
        return replace(self, language=language)

    def to_group(self) -> Context:
        """This context, its ``t`` speaking the group's language (for text the group reads)."""
        return self.speaking(self.group_language)

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
