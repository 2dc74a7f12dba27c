"""Events in, consent gate, engine, storage, actions out: the one path every platform uses."""

from __future__ import annotations

import logging
from collections.abc import Callable
from dataclasses import dataclass, field
from datetime import UTC, datetime

from bot.content.check import Library
from bot.core import consent, engine
from bot.core.actions import Action, SendPrivate, SendText
from bot.core.captures import ConsentRecorded, SessionSaved
from bot.core.context import Actor, Context, Transition
from bot.core.dispatch import Dispatcher
from bot.core.effects import DataRequested, Effect, ErasureRequested, Invited, RoleChanged
from bot.core.events import Event
from bot.core.ids import GroupRef, PersonRef
from bot.core.ports import Platform, Store
from bot.core.records import PersonData
from bot.core.state import SessionState
from bot.texts import Catalogue

log = logging.getLogger(__name__)


def utcnow() -> datetime:
    """The current time in UTC."""
    return datetime.now(UTC)


@dataclass(frozen=True)
class Policy:
    """Who may do what, which cycle new sessions join, and the language to speak."""

    staff: frozenset[PersonRef] = frozenset()
    facilitators: dict[GroupRef, frozenset[PersonRef]] = field(default_factory=dict)
    cycle_id: str = "default"
    language: str = "en"


class Service:
    """Handles each event: gate, engine, persist, then perform the actions."""

    def __init__(
        self,
        store: Store,
        library: Library,
        texts: Catalogue,
        policy: Policy,
        pseudonymise: Callable[[PersonRef], str],
        clock: Callable[[], datetime] = utcnow,
    ) -> None:
        self.store = store
        self.library = library
        self.texts = texts
        self.policy = policy
        self.pseudonymise = pseudonymise
        self.clock = clock
        self.platforms: dict[str, Platform] = {}
        self.sessions: dict[GroupRef, SessionState] = {}
        self._scopes: dict[tuple[PersonRef, GroupRef], frozenset[str]] = {}
        self._granted: dict[GroupRef, frozenset[PersonRef]] = {}
        self._invited: set[tuple[PersonRef, GroupRef]] = set()
        self._last_group: dict[PersonRef, GroupRef] = {}
        self._dispatch = Dispatcher()

    def attach(self, platform: Platform) -> None:
        """Route actions for ``platform.name`` to this platform."""
        self.platforms[platform.name] = platform

    async def resume(self) -> None:
        """Pick up sessions that were running when the bot last stopped."""
        for state in await self.store.live_sessions():
            self.sessions[state.group] = state
            log.info(
                "session resumed",
                extra={
                    "group": state.group.chat_id,
                    "session": state.session_id,
                    "step": state.step_index,
                },
            )

    async def handle(self, event: Event) -> None:
        """Handle one event; one group's events are handled one at a time, in order."""
        key = event.group if event.group is not None else event.person
        async with self._dispatch.turn(key):
            await self._handle(event)

    async def _handle(self, event: Event) -> None:
        person = event.person or PersonRef(event.group.platform if event.group else "", "")
        if event.group is not None and event.person is not None:
            self._last_group[person] = event.group
        group = event.group or self._last_group.get(person)
        scopes = await self._consent_scopes(person, group)
        actor = Actor(
            person=person,
            group=group,
            scopes=scopes,
            facilitator=await self._is_facilitator(person, group),
            staff=person in self.policy.staff,
            invited=(person, group) in self._invited,
        )
        state = (self.sessions.get(group) or SessionState(group)) if group else None
        ctx = Context(
            self.library, self.texts, self.clock(), self.policy.cycle_id, self.policy.language
        )
        transition = engine.step(state, consent.gate(event, scopes), actor, ctx)
        await self._commit(transition)
        log.info(
            "event handled",
            extra={
                "kind": type(event).__name__,
                "group": group.chat_id if group else None,
                "session": transition.state.session_id if transition.state else None,
                "step": transition.state.step_index if transition.state else None,
                "captures": len(transition.captures),
            },
        )
        for action in transition.actions:
            await self.perform(action)
        for effect in transition.effects:
            await self._effect(effect, ctx)

    async def _commit(self, transition: Transition) -> None:
        if transition.captures:
            await self.store.apply(transition.captures)
        for capture in transition.captures:
            if isinstance(capture, ConsentRecorded):
                self._scopes[(capture.person, capture.group)] = capture.scopes
            elif isinstance(capture, SessionSaved):
                self.sessions[capture.state.group] = capture.state

    async def perform(self, action: Action) -> None:
        """Hand an action to its platform; a platform failure is logged, never raised."""
        target = action.person if isinstance(action, SendPrivate) else action.group
        platform = self.platforms.get(target.platform)
        if platform is None:
            log.warning("no platform for action", extra={"platform": target.platform})
            return
        try:
            await platform.perform(action)
        except Exception:
            log.exception("platform could not perform %s", type(action).__name__)

    async def _effect(self, effect: Effect, ctx: Context) -> None:
        if isinstance(effect, Invited):
            self._invited.add((effect.person, effect.group))
        elif isinstance(effect, DataRequested):
            data = await self.store.person_data(effect.person)
            await self.perform(SendPrivate(effect.person, describe(data, ctx)))
        elif isinstance(effect, ErasureRequested):
            await self._erase(effect.person, ctx)
        elif isinstance(effect, RoleChanged):
            await self._change_role(effect, ctx)

    async def _erase(self, person: PersonRef, ctx: Context) -> None:
        erasure = await self.store.erase_person(person, self.pseudonymise(person), ctx.now)
        for key in [k for k in self._scopes if k[0] == person]:
            del self._scopes[key]
        self._invited = {k for k in self._invited if k[0] != person}
        if erasure.responses or erasure.votes or erasure.consents:
            text = ctx.t("withdraw.done", responses=erasure.responses, votes=erasure.votes)
        else:
            text = ctx.t("withdraw.nothing")
        log.info("erasure done", extra={"responses": erasure.responses, "votes": erasure.votes})
        await self.perform(SendPrivate(person, text))

    async def _change_role(self, change: RoleChanged, ctx: Context) -> None:
        self._granted.pop(change.group, None)
        name = change.person.user_id
        if change.granted:
            await self.store.grant_facilitator(change.group, change.person, ctx.now)
            text = ctx.t("facilitator.granted", name=name)
        elif await self.store.revoke_facilitator(change.group, change.person):
            text = ctx.t("facilitator.revoked", name=name)
        else:
            text = ctx.t("facilitator.not_a_facilitator", name=name)
        await self.perform(SendText(change.group, text))

    async def _consent_scopes(self, person: PersonRef, group: GroupRef | None) -> frozenset[str]:
        if group is None:
            return frozenset()
        key = (person, group)
        if key not in self._scopes:
            record = await self.store.consent(person, group)
            self._scopes[key] = record.scopes if record else frozenset()
        return self._scopes[key]

    async def _is_facilitator(self, person: PersonRef, group: GroupRef | None) -> bool:
        if person in self.policy.staff:
            return True
        if group is None:
            return False
        if person in self.policy.facilitators.get(group, frozenset()):
            return True
        if group not in self._granted:
            self._granted[group] = await self.store.facilitators(group)
        return person in self._granted[group]


def describe(data: PersonData, ctx: Context) -> str:
    """What is stored about a person, in their language, for /mydata."""
    if not (data.consents or data.responses or data.votes):
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
        for response in data.responses:
            edited = ctx.t("mydata.edited") if response.edited_at else ""
            lines.append(
                ctx.t("mydata.response", step=response.step_id, text=response.text, edited=edited)
            )
    if data.votes:
        lines.append(ctx.t("mydata.votes", count=len(data.votes)))
        for vote in data.votes:
            options = ", ".join(str(n) for n in vote.options)
            lines.append(ctx.t("mydata.vote", step=vote.step_id, options=options))
    lines.append(ctx.t("mydata.footer"))
    return "\n".join(lines)
