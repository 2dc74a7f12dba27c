"""The service's side of people's private work with the bot (see ``bot.core.desk``).

It loads what the engine needs to know about a person's private chat (their self-paced
dialogue, an open reflection, whether they facilitate), keeps what lives in memory only (a
rehearsal, a summary under review), routes a resident's private events to their cycle's
direct group, and does the work only storage or a chart can do: summaries and charts.
"""

from __future__ import annotations

import hashlib
import logging
from collections.abc import Awaitable, Callable
from dataclasses import replace
from typing import TypeVar

from bot.content.models import Script
from bot.core import direct, solo, support
from bot.core.actions import Action, SendImage, SendText
from bot.core.captures import ReflectionSaved, SoloSaved
from bot.core.context import Actor, Context, Transition
from bot.core.desk import Desk, SummaryDraft
from bot.core.effects import ChartRequested, RehearsalChanged, SummaryChanged, SummaryRequested
from bot.core.events import CommandIssued, Event, MessageEdited, MessagePosted, TimerFired
from bot.core.ids import GroupRef, PersonRef
from bot.core.ports import Store
from bot.core.records import SessionHeard
from bot.core.state import SessionState
from bot.service import show
from bot.service.roles import Roles
from exporters.disclosure import Disclosure, DisclosureError

log = logging.getLogger(__name__)

V = TypeVar("V")
# People whose desks are kept loaded; past this the memory starts afresh (reloads are cheap).
_KEEP = 10_000


class Desks:
    """Desks by person: loaded from the store, updated from what the engine decided."""

    def __init__(
        self,
        store: Store,
        roles: Roles,
        pseudonymise: Callable[[PersonRef], str],
        perform: Callable[[Action], Awaitable[None]],
        threshold: int,
    ) -> None:
        """``threshold``: counts from 1 to threshold - 1 are hidden in charts and summaries."""
        self.store = store
        self.roles = roles
        self.pseudonymise = pseudonymise
        self.perform = perform
        self.threshold = threshold
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
            return event, None, Desk()
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

    async def effect(
        self, effect: SummaryRequested | ChartRequested, state: SessionState | None, ctx: Context
    ) -> None:
        """Draft a session's summary for review, or draw the charts asked for."""
        if isinstance(effect, SummaryRequested):
            await self._summary(effect, state, ctx)
        else:
            await self._charts(effect, ctx)

    async def _summary(
        self, request: SummaryRequested, state: SessionState | None, ctx: Context
    ) -> None:
        script = ctx.script(state.script_id, state.content_version) if state else None
        if script is None:
            return
        heard = await self.store.heard(request.session_id)
        disclosure = await self._decided(script, heard, request, ctx, "summary not drafted")
        if disclosure is None:
            return
        text = show.summary_text(script, heard, disclosure, ctx.t)
        if text is None:
            log.info("nothing heard to summarise", extra={"session": request.session_id})
            return
        draft = SummaryDraft(request.group, request.session_id, text)
        self._summaries[request.person] = draft
        await self.perform(support.preview(Actor(request.person), draft, ctx))

    async def _decided(
        self,
        script: Script,
        heard: SessionHeard,
        request: SummaryRequested | ChartRequested,
        ctx: Context,
        refused: str,
    ) -> Disclosure | None:
        """The session's one disclosure decision; None once the person is told it is withheld."""
        try:
            return show.session_disclosure(script, heard, self.threshold)
        except DisclosureError as failed:
            # The reason names counts, never people: it is for staff, in the log.
            log.warning("%s: %s", refused, failed, extra={"session": request.session_id})
            await self.perform(
                SendText(request.group, ctx.t("show.withheld"), person=request.person)
            )
            return None

    async def _charts(self, request: ChartRequested, ctx: Context) -> None:
        script = ctx.script(request.script_id, request.version)
        if script is None:
            return
        heard = (
            await self.store.heard(request.session_id)
            if request.session_id is not None
            else SessionHeard(0, {}, {})
        )
        # The summary's decision too: a count hidden in one is hidden in the other.
        disclosure = await self._decided(script, heard, request, ctx, "charts not posted")
        if disclosure is None:
            return
        for ballot_id in request.ballots:
            ballot = script.ballot(ballot_id)
            if ballot is None:
                continue
            drawn = show.chart(ballot, disclosure, ctx.t)
            await self.perform(
                SendImage(request.group, drawn.png, drawn.alt, drawn.name, request.person)
            )
            await self.perform(SendText(request.group, drawn.text, person=request.person))

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
