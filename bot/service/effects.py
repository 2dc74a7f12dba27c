"""The service's effects: what a transition asks for that only storage or a platform can do.

The engine cannot read the database, so it asks with effects (``bot.core.effects``). Here each
is read (a person's data, their replies, turnout, a tally's answers) or done (an erasure, a role
change, a registration) and its outcome handed back to the engine as a result event
(``bot.core.results``), whose transition is stored and performed: what people are told, and
by which rule, is decided in the core. For summaries and charts the service runs the
disclosure audit (``bot.service.show``) and draws the pictures; the core words them. The
service keeps its in-memory bookkeeping itself and hands every effect here after the
transition's actions.
"""

from __future__ import annotations

import logging
from collections.abc import Awaitable, Callable, Mapping
from datetime import datetime
from functools import partial

from bot.content.models import Script
from bot.core import results
from bot.core.actions import Action
from bot.core.context import Context
from bot.core.effects import (
    ChartRequested,
    DataRequested,
    Effect,
    ErasureRequested,
    ForgetRequested,
    GroupRegistered,
    RoleChanged,
    SummaryRequested,
    TallyChanged,
    TurnoutRequested,
)
from bot.core.ids import GroupRef, PersonRef
from bot.core.ports import Store
from bot.core.records import Erasure, ErasureRequest, SessionHeard
from bot.core.results import Result
from bot.core.showing import Disclosed
from bot.core.state import SessionState
from bot.service.desks import Desks
from bot.service.drafts import HeardDrafts
from bot.service.roles import Roles

log = logging.getLogger(__name__)

Perform = Callable[[Action], Awaitable[None]]


class EffectRunner:
    """Reads or does what an effect asks, then stores and performs what the engine makes of it."""

    def __init__(
        self,
        store: Store,
        roles: Roles,
        desks: Desks,
        sessions: Mapping[GroupRef, SessionState],
        perform: Perform,
        pseudonymise: Callable[[PersonRef], str],
        threshold: int,
        drafts: HeardDrafts | None = None,
    ) -> None:
        """Effects with what they need.

        ``sessions``: the service's live sessions by group, read when an effect needs one;
        ``threshold``: counts from 1 to threshold - 1 are hidden in charts and summaries;
        ``drafts``: the "what we heard" drafts a withdrawal takes the person out of.
        """
        self.store = store
        self.roles = roles
        self.desks = desks
        self.sessions = sessions
        self.perform = perform
        self.pseudonymise = pseudonymise
        self.threshold = threshold
        self.drafts = drafts

    async def run(self, effect: Effect, ctx: Context, answer: Perform | None = None) -> None:
        """Carry out one effect; others need nothing here (the service keeps them in memory).

        ``answer`` performs what is said to the person whose event asked for the effect.
        """
        outcome = await self._outcome(effect, ctx)
        if outcome is None:
            return
        transition = results.settle(outcome, ctx)
        if transition.captures:
            await self.store.apply(transition.captures)
        self.desks.committed(transition)
        send = answer if answer is not None and results.answers_asker(outcome) else self.perform
        for action in transition.actions:
            await send(action)

    async def _outcome(self, effect: Effect, ctx: Context) -> Result | None:
        # Reads and writes only: what follows from them is the engine's to say.
        match effect:
            case DataRequested(person=person):
                return results.DataLoaded(person, await self.store.person_data(person))
            case ForgetRequested(person=person):
                replies = (await self.store.person_data(person)).responses
                return results.RepliesLoaded(effect, replies)
            case TurnoutRequested(session_id=session_id, step_id=step_id, group=group):
                counts = await self.store.turnout(session_id, step_id, group.whole)
                return results.TurnoutCounted(effect, counts, self.sessions.get(group))
            case TallyChanged(session_id=session_id, step_id=step_id, group=group):
                answers = tuple(await self.store.answers(session_id, step_id))
                lead = await self.roles.lead(session_id)
                return results.TallyLoaded(effect, answers, lead, self.sessions.get(group))
            case ErasureRequested(person=person):
                return results.Erased(person, await self.erase(person, ctx.now))
            case RoleChanged(group=group, person=person, granted=True):
                await self.roles.grant(group, person, ctx.now)
                return results.RoleSet(effect, True)
            case RoleChanged(group=group, person=person):
                return results.RoleSet(effect, await self.roles.revoke(group, person))
            case GroupRegistered(group=group, title=title):
                await self.roles.register(group, ctx.now, title)
                log.info("group registered", extra={"group": group.chat_id})
            case SummaryRequested(group=group, session_id=session_id):
                state = self.sessions.get(group)
                # In the group's language: the summary is drafted for the group to read.
                script = (
                    ctx.script(state.script_id, state.content_version, ctx.group_language)
                    if state
                    else None
                )
                if script is None:
                    return None
                heard = await self.store.heard(session_id)
                disclosed = self._disclosed(script, heard, session_id, "summary not drafted")
                return results.SummaryLoaded(effect, script, heard, disclosed)
            case ChartRequested():
                return await self._charts(effect, ctx)
        return None

    async def _charts(self, request: ChartRequested, ctx: Context) -> Result | None:
        script = ctx.script(request.script_id, request.version)
        if script is None:
            return None
        session_id = request.session_id
        heard = await self.store.heard(session_id) if session_id else SessionHeard(0, {}, {})
        # The summary's decision too: a count hidden in one is hidden in the other.
        disclosed = self._disclosed(script, heard, session_id, "charts not posted")
        if disclosed is None:
            return results.ChartsDrawn(request, None, ())
        from bot.service import show  # imported when first asked for (see _disclosed)

        steps = [step for step in map(script.ballot, request.ballots) if step is not None]
        shown = disclosed.ballots
        pictures = tuple(
            (step, show.draw(step, shown[step.id], self.threshold, ctx.t)) for step in steps
        )
        return results.ChartsDrawn(request, disclosed, pictures)

    def _disclosed(
        self, script: Script, heard: SessionHeard, session_id: str | None, refused: str
    ) -> Disclosed | None:
        # The session's one disclosure decision; None when its audit fails. The audit's code is
        # imported when a summary or a chart first asks for it, not while the bot starts.
        from bot.service import show
        from exporters.disclosure import DisclosureError

        try:
            return show.disclosed(script, heard, self.threshold)
        except DisclosureError as failed:
            # The reason names counts, never people: it is for staff, in the log.
            log.warning("%s: %s", refused, failed, extra={"session": session_id})
            return None

    async def erase(
        self, person: PersonRef, now: datetime, request: ErasureRequest = "person"
    ) -> Erasure:
        """Erase everything of the person, audited by pseudonym (/withdraw and staff alike)."""
        pseudonym = self.pseudonymise(person)
        erase = partial(self.store.erase_person, person, pseudonym, now, request)
        # Drafts that quote the person lose those quotes, whoever asked for the erasure.
        erasure = await (self.drafts.erasing(person, erase) if self.drafts else erase())
        log.info("erasure done", extra={"responses": erasure.responses, "votes": erasure.votes})
        return erasure
