"""The service's effects: what a transition asks for that only storage or a platform can do.

The engine cannot read the database, so it asks with effects (``bot.core.effects``): show a
person their data (``describe``), forget one of their replies or everything, change a role,
register a group, post a live tally, count who replied. The service keeps its in-memory
bookkeeping itself and hands every effect here after the transition's actions.
"""

from __future__ import annotations

import logging
from collections.abc import Awaitable, Callable, Mapping
from datetime import datetime
from functools import partial

from bot.core import groups, profile, support
from bot.core.actions import Action, SendPrivate, SendText
from bot.core.captures import ResponseDeleted
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
from bot.core.records import Erasure, PersonData
from bot.core.state import SessionState
from bot.service.desks import Desks
from bot.service.drafts import HeardDrafts
from bot.service.roles import Roles

log = logging.getLogger(__name__)
Perform = Callable[[Action], Awaitable[None]]


class EffectRunner:
    """Carries out effects against storage, roles and desks, and tells people the outcome."""

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
        answer = answer or self.perform
        if isinstance(effect, DataRequested):
            data = await self.store.person_data(effect.person)
            await answer(SendPrivate(effect.person, describe(data, ctx)))
        elif isinstance(effect, ErasureRequested):
            await self._erase(effect.person, ctx, answer)
        elif isinstance(effect, RoleChanged):
            await self._change_role(effect, ctx)
        elif isinstance(effect, GroupRegistered):
            await self.roles.register(effect.group, ctx.now)
            log.info("group registered", extra={"group": effect.group.chat_id})
        elif isinstance(effect, ForgetRequested):
            await self._forget(effect, ctx, answer)
        elif isinstance(effect, TallyChanged):
            await self._tally(effect, ctx)
        elif isinstance(effect, SummaryRequested | ChartRequested):
            await self.desks.effect(effect, self.sessions.get(effect.group), ctx)
        elif isinstance(effect, TurnoutRequested):
            counts = await self.store.turnout(effect.session_id, effect.step_id, effect.group.whole)
            text = support.pulse(self.sessions.get(effect.group), counts, ctx)
            await answer(SendPrivate(effect.person, text, effect.group))

    async def _forget(self, request: ForgetRequested, ctx: Context, answer: Perform) -> None:
        responses = (await self.store.person_data(request.person)).responses
        if not 1 <= request.number <= len(responses):
            text = ctx.t("forget.no_such", number=request.number, count=len(responses))
        else:
            chosen = responses[request.number - 1]
            gone = ResponseDeleted(chosen.group, chosen.message_id, ctx.now, request.person)
            await self.store.apply([gone])
            text = ctx.t("forget.done_number", number=request.number, step=chosen.step_id)
        await answer(SendPrivate(request.person, text))

    async def _tally(self, change: TallyChanged, ctx: Context) -> None:
        state = self.sessions.get(change.group)
        script = ctx.script(state.script_id, state.content_version) if state else None
        index = script.index_of(change.step_id) if script else None
        if script is None or index is None:
            return
        answers = await self.store.answers(change.session_id, change.step_id)
        text = groups.tally_text(script.steps[index], answers, ctx)
        slot = f"tally:{change.session_id}:{change.step_id}"
        lead = await self.roles.lead(change.session_id)
        if change.public:
            await self.perform(SendText(change.group, text, slot=slot))
        elif lead is not None:
            await self.perform(SendPrivate(lead, text, change.group, slot=slot))

    async def erase(self, person: PersonRef, now: datetime) -> Erasure:
        """Erase everything of the person, audited by pseudonym (/withdraw and staff alike)."""
        erase = partial(self.store.erase_person, person, self.pseudonymise(person), now)
        # Drafts that quote the person lose those quotes, whoever asked for the erasure.
        erasure = await (self.drafts.erasing(person, erase) if self.drafts else erase())
        log.info("erasure done", extra={"responses": erasure.responses, "votes": erasure.votes})
        return erasure

    async def _erase(self, person: PersonRef, ctx: Context, answer: Perform) -> None:
        erasure = await self.erase(person, ctx.now)
        if erasure.responses or erasure.votes or erasure.consents:
            text = ctx.t("withdraw.done", responses=erasure.responses, votes=erasure.votes)
        else:
            text = ctx.t("withdraw.nothing")
        await answer(SendPrivate(person, text))

    async def _change_role(self, change: RoleChanged, ctx: Context) -> None:
        name = change.person.user_id
        if change.granted:
            await self.roles.grant(change.group, change.person, ctx.now)
            text = ctx.t("facilitator.granted", name=name)
        elif await self.roles.revoke(change.group, change.person):
            text = ctx.t("facilitator.revoked", name=name)
        else:
            text = ctx.t("facilitator.not_a_facilitator", name=name)
        await self.perform(SendText(change.group, text))


def describe(data: PersonData, ctx: Context) -> str:
    """What is stored about a person, in their language, for /mydata."""
    stored = (data.consents, data.responses, data.votes, data.profile, data.places)
    if not any(stored) and not data.reflections:
        return ctx.t("mydata.none")
    lines = [ctx.t("mydata.header")]
    for group, record in data.consents:
        lines.append(
            ctx.t(
                "mydata.consent",
                group=group.chat_id,
                scopes=", ".join(sorted(record.scopes)),
                version=record.version,
                when=f"{record.given_at:%Y-%m-%d}",
            )
        )
    if data.responses:
        lines.append(ctx.t("mydata.responses", count=len(data.responses)))
        for number, response in enumerate(data.responses, start=1):
            edited = ctx.t("mydata.edited") if response.edited_at else ""
            lines.append(
                ctx.t(
                    "mydata.response",
                    number=number,
                    step=response.step_id,
                    text=response.text,
                    edited=edited,
                )
            )
    if data.votes:
        lines.append(ctx.t("mydata.votes", count=len(data.votes)))
        for vote in data.votes:
            options = ", ".join(str(n) for n in vote.options)
            lines.append(ctx.t("mydata.vote", step=vote.step_id, options=options))
    lines += profile.mydata_lines(data.profile, ctx)
    for cycle, number, status in data.places:
        lines.append(ctx.t("mydata.place", cycle=cycle, number=number, status=status))
    for answers in data.reflections:
        said = " / ".join(a or "-" for a in answers)
        lines.append(ctx.t("mydata.reflection", answers=said))
    lines.append(ctx.t("mydata.footer"))
    return "\n".join(lines)
