"""The service's effects: what a transition asks for that only storage or a platform can do.

The engine cannot read the database, so it asks with effects (``bot.core.effects``). Here each
is read (a person's data, their replies, turnout, a tally's answers) or done (an erasure, a role
change, a registration) and its outcome handed back to the engine as a result event
(``bot.core.results``), whose transition is stored and performed: what people are told, and
by which rule, is decided in the core. Summaries and charts need the disclosure audit and a
plotting library, so ``bot.service.desks`` draws them. The service keeps its in-memory
bookkeeping itself and hands every effect here after the transition's actions.
"""

from __future__ import annotations

import logging
from collections.abc import Awaitable, Callable, Mapping
from datetime import datetime
from functools import partial

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
from bot.core.records import Erasure
from bot.core.results import Result
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
        drafts: HeardDrafts | None = None,
    ) -> None:
        """Effects with what they need.

        ``sessions``: the service's live sessions by group, read when an effect needs one;
        ``drafts``: the "what we heard" drafts a withdrawal takes the person out of.
        """
        self.store = store
        self.roles = roles
        self.desks = desks
        self.sessions = sessions
        self.perform = perform
        self.pseudonymise = pseudonymise
        self.drafts = drafts

    async def run(self, effect: Effect, ctx: Context, answer: Perform | None = None) -> None:
        """Carry out one effect; others need nothing here (the service keeps them in memory).

        ``answer`` performs what is said to the person whose event asked for the effect.
        """
        if isinstance(effect, SummaryRequested | ChartRequested):
            await self.desks.effect(effect, self.sessions.get(effect.group), ctx)
            return
        outcome = await self._outcome(effect, ctx)
        if outcome is None:
            return
        transition = results.settle(outcome, ctx)
        if transition.captures:
            await self.store.apply(transition.captures)
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
            case GroupRegistered(group=group):
                await self.roles.register(group, ctx.now)
                log.info("group registered", extra={"group": group.chat_id})
        return None

    async def erase(self, person: PersonRef, now: datetime) -> Erasure:
        """Erase everything of the person, audited by pseudonym (/withdraw and staff alike)."""
        erase = partial(self.store.erase_person, person, self.pseudonymise(person), now)
        # Drafts that quote the person lose those quotes, whoever asked for the erasure.
        erasure = await (self.drafts.erasing(person, erase) if self.drafts else erase())
        log.info("erasure done", extra={"responses": erasure.responses, "votes": erasure.votes})
        return erasure
