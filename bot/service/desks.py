"""The service's side of people's private work with the bot (see ``bot.core.desk``).

It loads what the engine needs to know about a person's private chat (their self-paced
dialogue, an open reflection, whether they facilitate), keeps what lives in memory only (a
rehearsal, a summary under review), and routes a resident's private events to their cycle's
direct group.
"""

from __future__ import annotations

import hashlib
import logging
from collections.abc import Callable
from dataclasses import replace
from typing import TypeVar

from bot.core import direct, solo
from bot.core.captures import ReflectionSaved, SoloSaved
from bot.core.context import Transition
from bot.core.desk import Desk, SummaryDraft
from bot.core.effects import RehearsalChanged, SummaryChanged
from bot.core.events import CommandIssued, Event, MessageEdited, MessagePosted, TimerFired
from bot.core.ids import GroupRef, PersonRef
from bot.core.ports import Store
from bot.core.state import SessionState
from bot.service.roles import Roles

log = logging.getLogger(__name__)

V = TypeVar("V")
# People whose desks are kept loaded; past this the memory starts afresh (reloads are cheap).
_KEEP = 10_000
# The desk of every group event (frozen: one serves them all).
_NO_DESK = Desk()


class Desks:
    """Desks by person: loaded from the store, updated from what the engine decided."""

    def __init__(
        self,
        store: Store,
        roles: Roles,
        pseudonymise: Callable[[PersonRef], str],
    ) -> None:
        """``pseudonymise`` keys a person's private message ids (see ``prepare``)."""
        self.store = store
        self.roles = roles
        self.pseudonymise = pseudonymise
        self._loaded: dict[PersonRef, Desk] = {}
        self._rehearsals: dict[PersonRef, SessionState] = {}
        self._summaries: dict[PersonRef, SummaryDraft] = {}

    async def prepare(
        self, event: Event, person: PersonRef, cycle_id: str
    ) -> tuple[Event, GroupRef | None, Desk]:
        """The event as the engine should see it, the direct group it belongs to, the desk.

        Group events need no desk. A resident's private event that belongs to a self-paced
        dialogue goes to the cycle's direct group, its message ids made unique per person
        (private chats number their messages from 1 for everyone), a pressed answer as a vote.
        """
        nudge = isinstance(event, TimerFired) and event.kind == direct.NUDGE
        if event.group is not None and not nudge:
            return event, None, _NO_DESK
        desk = await self.desk(person)
        if nudge or not solo.routes(event, desk):
            return event, None, desk
        group = direct.direct_group(solo.cycle_for(event, desk, cycle_id))
        voted = solo.ballot_vote(event, group)
        if voted is not None:
            return voted, group, desk
        return self._keyed(event, person), group, desk

    async def desk(self, person: PersonRef) -> Desk:
        """What the person is doing privately, loaded once and kept up to date."""
        loaded = self._loaded.get(person)
        if loaded is None:
            if len(self._loaded) >= _KEEP:
                self._loaded.clear()
            loaded = await self.store.desk(person)
            configured = any(person in named for named in self.roles.facilitators.values())
            facilitates = loaded.facilitates or configured or self.roles.is_staff(person)
            loaded = self._loaded[person] = replace(loaded, facilitates=facilitates)
        return replace(
            loaded,
            rehearsal=self._rehearsals.get(person),
            summary=self._summaries.get(person),
        )

    def committed(self, transition: Transition) -> None:
        """Keep loaded desks in step with what was just stored, and the memory-only parts."""
        for capture in transition.captures:
            if isinstance(capture, SoloSaved):
                self._update(capture.state.person, solo=capture.state)
            elif isinstance(capture, ReflectionSaved):
                reflection = capture.reflection if capture.reflection.pending is not None else None
                self._update(capture.person, reflection=reflection)
        for effect in transition.effects:
            if isinstance(effect, RehearsalChanged):
                _keep(self._rehearsals, effect.person, effect.rehearsal)
            elif isinstance(effect, SummaryChanged):
                _keep(self._summaries, effect.person, effect.draft)

    def forget(self, person: PersonRef) -> None:
        """Forget everything about a person (they withdrew)."""
        for kept in (self._loaded, self._rehearsals, self._summaries):
            kept.pop(person, None)

    def _keyed(self, event: Event, person: PersonRef) -> Event:
        if isinstance(event, MessagePosted):
            reply_to = self._key(person, event.reply_to) if event.reply_to else None
            return replace(event, message_id=self._key(person, event.message_id), reply_to=reply_to)
        if isinstance(event, MessageEdited):
            return replace(event, message_id=self._key(person, event.message_id))
        if isinstance(event, CommandIssued):
            message_id = self._key(person, event.message_id) if event.message_id else None
            reply_to = self._key(person, event.reply_to) if event.reply_to else None
            return replace(event, message_id=message_id, reply_to=reply_to)
        return event

    def _key(self, person: PersonRef, message_id: str) -> str:
        # Unique across people, stable for redeliveries, and no platform id: a hash of the
        # person's keyed pseudonym and the message's id in their private chat.
        seed = f"{self.pseudonymise(person)}/{message_id}".encode()
        return hashlib.sha256(seed).hexdigest()[:24]

    def _update(self, person: PersonRef, **changes: object) -> None:
        loaded = self._loaded.get(person)
        if loaded is not None:
            self._loaded[person] = replace(loaded, **changes)  # type: ignore[arg-type]


def _keep(kept: dict[PersonRef, V], person: PersonRef, value: V | None) -> None:
    if value is None:
        kept.pop(person, None)
    else:
        kept[person] = value
