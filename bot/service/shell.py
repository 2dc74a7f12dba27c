"""Events in, consent gate, engine, storage, actions out: the one path every platform uses.

The effects a transition asks for beyond its actions are carried out by ``bot.service.effects``.
"""

from __future__ import annotations

import asyncio
import logging
from collections import Counter
from collections.abc import Awaitable, Callable, Mapping
from dataclasses import dataclass, field, replace
from datetime import UTC, datetime, timedelta
from functools import partial
from zoneinfo import ZoneInfo

from bot.content.check import Library
from bot.content.models import REQUIRED_SCOPE
from bot.content.version import Version
from bot.core import support
from bot.core.actions import Action, SendPrivate, recipient
from bot.core.answers import answering, origin_of
from bot.core.captures import ConsentRecorded, ResponseCaptured, SessionSaved
from bot.core.context import Actor, Context, Transition
from bot.core.dispatch import Dispatcher, Turn
from bot.core.effects import Effect, ErasureRequested, Invited
from bot.core.events import Event, locale_of
from bot.core.facts import PSEUDO_PLATFORMS
from bot.core.ids import GroupRef, MessageRef, Origin, PersonRef
from bot.core.ports import Platform, Store
from bot.core.records import Erasure, ErasureRequest
from bot.core.state import SessionState
from bot.service.desks import Desks
from bot.service.drafts import HeardDrafts
from bot.service.effects import EffectRunner, Perform
from bot.service.facts import Facts
from bot.service.intake import Intake, IntakeRules, Verdict, message_of
from bot.service.languages import Languages
from bot.service.roles import Roles
from bot.service.standing import Standing
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
    # The zone times are shown and typed in (the database keeps UTC).
    timezone: str = "UTC"
    # Groups that may run sessions without /register (the console's), and the platforms
    # whose group administrators facilitate by default.
    registered: frozenset[GroupRef] = frozenset()
    admins_facilitate: frozenset[str] = frozenset()
    # When a resident who stopped a self-paced dialogue may be reminded (None: never), and
    # the smallest count charts and summaries show.
    solo_reminder: timedelta | None = None
    chart_threshold: int = 3


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
        rules: IntakeRules | None = None,
        drafts: HeardDrafts | None = None,
    ) -> None:
        self.store = store
        self.library = library
        self.texts = texts
        self.policy = policy
        self.pseudonymise = pseudonymise
        self.clock = clock
        self.platforms: dict[str, Platform] = {}
        # Actions a platform failed to perform, by platform (for the metrics endpoint).
        self.platform_errors: Counter[str] = Counter()
        self.sessions: dict[GroupRef, SessionState] = {}
        self.roles = Roles(
            store,
            policy.staff,
            policy.facilitators,
            policy.registered,
            policy.admins_facilitate,
        )
        self.standing = Standing(store, pseudonymise, self.sessions)
        self.languages = Languages(store, texts.languages | library.languages, policy.language)
        self.facts = Facts(store, self.roles, self.standing, self.languages)
        # Per group, its turn and the last plain reply still to be committed (see submit).
        self._dispatch = Dispatcher()
        self.intake = Intake(rules or IntakeRules())
        # Set by the scheduler from the cycles table; until a cycle exists, the default.
        self.cycle_id = policy.cycle_id
        self.offered: frozenset[str] | None = None
        # Set while this process's scheduler runs: without it a session scheduled ahead would
        # never open, so ``/schedule`` is refused.
        self.scheduling = False
        self.zone = ZoneInfo(policy.timezone)
        # Told of every transition after it took effect (the scheduler sets timers from them),
        # but a plain reply's (see _plain), which moves no session and has no effect.
        self.observers: list[Callable[[Transition, Actor, Context], Awaitable[None]]] = []
        self.desks = Desks(store, self.roles, pseudonymise)
        self.effects = EffectRunner(
            store,
            self.roles,
            self.desks,
            self.sessions,
            self.perform,
            pseudonymise,
            policy.chart_threshold,
            drafts,
        )
        # Content versions by digest: the files' own, and those kept sessions started on. The
        # files' own are added at the first look-up they might answer: a version is of every
        # language's translations, which a library loads when first asked for.
        self._versions: dict[str, Version] = {}
        self._own_versions = False
        # The versions of a session and a desk (see _ran), by their digests.
        self._ran_by: dict[tuple[str | None, str | None], Mapping[str, Version]] = {}

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
        """Handle one event; one group's events are decided one at a time, in order.

        Returns once what the event captured is durably committed (or was already, for a
        redelivered message) and its answers are sent, so a platform may acknowledge the
        update then.
        """
        await (await self.submit(event))

    async def submit(self, event: Event) -> asyncio.Future[None]:
        """Decide an event in its group's turn and queue what it captured; its finish.

        The future returned is done once the captures are durably committed (or were already)
        and the event's answers sent, after those of the group's earlier events: a platform
        acknowledges the event then, not before. A plain reply, which changes nothing the
        next event is decided on, ends its turn once queued, so the group's next event is
        decided while it waits in the writer's batch (group commit). Any other event (a
        session moved, a consent given, an effect) is committed and answered within its turn.
        """
        key = event.group if event.group is not None else event.person
        # What ``async with`` does, without its two coroutines: this runs for every event.
        turn = self._dispatch.turn(key)
        await turn.lock.acquire()
        try:
            return await self._handle(event, turn)
        finally:
            turn.lock.release()

    async def _handle(self, raw: Event, turn: Turn, counted: bool = False) -> asyncio.Future[None]:
        # If the person is forgotten (erased) while this is decided, it is decided again
        # before its captures are queued, with nothing awaited between that look and the
        # queueing: see _forget_person. ``counted``: the rate limit has let it through.
        forgets = self.facts.forgets
        event, original_length = self.intake.admit(raw)
        person = event.person or PersonRef(event.group.platform if event.group else "", "")
        # Keyed as it came: whether a private message is routed to a self-paced dialogue
        # depends on what exists now, and a replay must find the key its first delivery left.
        arrived = message_of(event, self._private_chat)
        event, direct, desk = await self.desks.prepare(event, person, self.cycle_id)
        group = await self.facts.group(event, person, direct)
        state = (self.sessions.get(group) or SessionState(group)) if group else None
        actor = await self.facts.actor(event, person, group, state, desk)
        language = self.languages.speaks(person, actor.chosen_language, locale_of(event))
        verdict = Verdict.ALLOW if counted else self.intake.limit(event, actor)
        if verdict is not Verdict.ALLOW:
            if verdict is Verdict.WARN:
                await self._settled(turn)
                await self._answering(raw)(self.intake.slow_down(actor, self.texts, language))
            return _finished()
        running = (
            state.content_version if state else None,
            desk.solo.content_version if desk.solo else None,
        )
        ran = self._ran_by.get(running)
        if ran is None:
            ran = await self._ran(running)
        ctx = Context(
            self.library,
            self.texts,
            self.clock(),
            self.cycle_id,
            language,
            self.offered,
            self.zone,
            self.policy.solo_reminder,
            ran,
            (state.language if state else None) or self.policy.language,
            self.languages.spoken,
            self.scheduling,
        )
        gated = actor.scopes | {REQUIRED_SCOPE} if support.exempt(event, desk) else actor.scopes
        transition, coped = self.intake.step(state, event, gated, actor, ctx, original_length)
        remember = coped and transition.remember
        message = arrived if remember else None
        if _plain(transition, state):
            if self.facts.forgets != forgets and self.facts.forgotten_since(person, forgets):
                return await self._handle(raw, turn, counted=True)
            previous = turn.tail
            finish: asyncio.Future[None]
            if transition.actions:
                committed = await self.store.submit_once(message, transition.captures)
                answer = self._answering(raw)
                finish = asyncio.ensure_future(
                    self._finish(turn, previous, committed, event, transition, actor, ctx, answer)
                )
            elif (previous is None or previous.done()) and not log.isEnabledFor(logging.INFO):
                # Nothing earlier to wait for and no line to log: the commit is the finish. It
                # stays the tail, done, until the group's next event, as the turn itself stays.
                finish = await self.store.submit_quietly(message, transition.captures)
            else:  # nothing to answer: no task, only the commit, after the earlier events
                committed = await self.store.submit_once(message, transition.captures)
                finish = self._follow(turn, previous, committed, event, transition)
            turn.tail = finish
            return finish
        await self._settled(turn)
        if self.facts.forgets != forgets and self.facts.forgotten_since(person, forgets):
            return await self._handle(raw, turn, counted=True)
        if not await self._commit(transition, message):
            log.debug("redelivered event ignored", extra={"kind": type(event).__name__})
            return _finished()
        # Not for a person erased while it was committed: the lead would name them again.
        if (
            actor.facilitator
            and transition.state != state
            and not self.facts.forgotten_since(person, forgets)
        ):
            await self.roles.steered(transition, person, ctx.now)
        await self._acknowledge(event, transition, actor, ctx, self._answering(raw))
        return _finished()

    async def _finish(
        self,
        turn: Turn,
        previous: asyncio.Future[None] | None,
        committed: asyncio.Future[bool],
        event: Event,
        transition: Transition,
        actor: Actor,
        ctx: Context,
        answer: Perform,
    ) -> None:
        """After its commit and the group's earlier events, answer a plain reply."""
        try:
            if previous is not None and not previous.done():
                await asyncio.wait((previous,))
            if await committed:
                await self._acknowledge(event, transition, actor, ctx, answer, observed=False)
            else:
                log.debug("redelivered event ignored", extra={"kind": type(event).__name__})
        finally:
            if turn.tail is asyncio.current_task():
                turn.tail = None

    def _follow(
        self,
        turn: Turn,
        previous: asyncio.Future[None] | None,
        committed: asyncio.Future[bool],
        event: Event,
        transition: Transition,
    ) -> asyncio.Future[None]:
        """The finish of a plain reply with nothing to answer: its commit, after the earlier.

        ``_finish`` without a task: this is the path of nearly every reply of a busy group.
        """
        finish: asyncio.Future[None] = asyncio.get_running_loop().create_future()
        committed.add_done_callback(
            _Follow(turn, self._handled, previous, committed, finish, event, transition)
        )
        return finish

    def _handled(self, event: Event, transition: Transition) -> None:
        if log.isEnabledFor(logging.INFO):  # skip building the fields: this runs per message
            state = transition.state
            log.info(
                "event handled",
                extra={
                    "kind": type(event).__name__,
                    "group": state.group.chat_id if state else None,
                    "session": state.session_id if state else None,
                    "step": state.step_index if state else None,
                    "captures": len(transition.captures),
                },
            )

    async def _settled(self, turn: Turn) -> None:
        """Wait until the group's earlier events are committed and answered."""
        previous = turn.tail
        if previous is not None and not previous.done():
            await asyncio.wait((previous,))

    async def _acknowledge(
        self,
        event: Event,
        transition: Transition,
        actor: Actor,
        ctx: Context,
        answer: Perform,
        observed: bool = True,
    ) -> None:
        """Once a transition is committed: its answers, effects, and the observers told.

        ``observed``: False for a plain reply, of which observers are not told.
        """
        self._handled(event, transition)
        for effect in transition.effects:
            if isinstance(effect, Invited):  # remembered before it is sent: sent once
                await self.standing.invite(effect.person, effect.group, ctx.now)
        for action in transition.actions:
            await answer(action)
        for effect in transition.effects:
            await self._effect(effect, ctx, answer)
        if observed:
            for observe in self.observers:
                await observe(transition, actor, ctx)

    async def _commit(self, transition: Transition, message: MessageRef | None) -> bool:
        # Returns once committed (a platform may acknowledge the update then); False when the
        # message was handled before, and nothing of this transition may take effect.
        if transition.captures or message is not None:
            if not await self.store.apply_once(message, transition.captures):
                return False
        for capture in transition.captures:
            if isinstance(capture, ConsentRecorded):
                self.facts.consented(capture.person, capture.group, capture.scopes)
            elif isinstance(capture, SessionSaved):
                self.sessions[capture.state.group] = capture.state
        self.desks.committed(transition)
        self.languages.committed(transition.captures)
        return True

    def _private_chat(self, person: PersonRef) -> str:
        return f"private:{self.pseudonymise(person)}"

    async def perform(self, action: Action) -> None:
        """Hand an action to its platform; a platform failure is logged, never raised."""
        target = (
            action.person if isinstance(action, SendPrivate) else recipient(action) or action.group
        )
        if target.platform in PSEUDO_PLATFORMS:
            return  # a direct group or a rehearsal: no chat exists to post in
        if isinstance(action, SendPrivate) and action.group is not None:
            if action.group.platform in PSEUDO_PLATFORMS:
                action = replace(action, group=None)  # not a group a platform could name
        platform = self.platforms.get(target.platform)
        if platform is None:
            log.warning("no platform for action", extra={"platform": target.platform})
            return
        try:
            await platform.perform(action)
        except Exception:
            self.platform_errors[target.platform] += 1
            log.exception("platform could not perform %s", type(action).__name__)

    def _answering(self, raw: Event) -> Perform:
        """What says something to the person who acted, answering their event (as it came).

        Made only for an event that may be answered: a plain reply with nothing to say needs none.
        """
        return partial(self._answer, origin_of(raw))

    async def _answer(self, origin: Origin | None, action: Action) -> None:
        await self.perform(answering(origin, action))

    async def _effect(self, effect: Effect, ctx: Context, answer: Perform) -> None:
        if isinstance(effect, ErasureRequested):
            with self.facts.erasing(effect.person):
                self._forget_person(effect.person)
                await self.effects.run(effect, ctx, answer)
            return
        await self.effects.run(effect, ctx, answer)

    async def erase(
        self, person: PersonRef, now: datetime, request: ErasureRequest = "staff"
    ) -> Erasure:
        """Erase a person as ``/withdraw confirm`` does, for a request made to staff."""
        with self.facts.erasing(person):
            self._forget_person(person)
            return await self.effects.erase(person, now, request)

    async def forget_erased(
        self, pseudonyms: frozenset[str], by_staff: frozenset[str], now: datetime
    ) -> None:
        """Drop what is remembered of people erased elsewhere (by pseudonym).

        Of those ``by_staff`` erased, what was stored since is erased too: until now their
        consent was remembered here, so what they wrote meanwhile was kept.
        """
        if not pseudonyms:
            return
        known = set(self.facts.people()) | self.standing.people() | set(self.languages.people())
        for person in known:
            pseudonym = self.pseudonymise(person)
            if pseudonym in by_staff:
                await self.erase(person, now, "again")
            elif pseudonym in pseudonyms:
                self._forget_person(person)

    def _forget_person(self, person: PersonRef) -> None:
        # Forget the consent first, then queue the erasure. An event of theirs in another
        # group decided meanwhile but not yet queued (it waited for the group's earlier
        # commits, or for its session's content) is decided again without it before anything
        # is queued (see _handle); one queued before, or waiting in line for room in the
        # writer's queue, goes ahead of the erasure and is erased with it.
        self.facts.forget(person)
        self.desks.forget(person)
        self.standing.forget(person)
        self.roles.forget(person)
        self.languages.forget(person)

    async def _ran(self, running: tuple[str | None, str | None]) -> Mapping[str, Version]:
        """The content versions a session and a desk run, loaded once from where they were kept.

        Kept by the pair once every version is found, so each reply of a session has the same
        mapping (read only) without building one.
        """
        wanted = {version for version in running if version}
        missing = wanted - self._versions.keys()
        if missing and not self._own_versions:
            self._own_versions = True
            own = (self.library.version(s) for s in self.library.scripts.values())
            self._versions.update({v.digest: v for v in own})
            missing -= self._versions.keys()
        if missing:
            self._versions.update(await self.store.content_versions(missing))
        ran = {d: self._versions[d] for d in wanted if d in self._versions}
        if len(ran) == len(wanted):
            self._ran_by[running] = ran
        return ran


class _Follow:
    """Settles a plain reply's finish once its commit and the group's earlier events are done.

    A callable object, not a closure that names itself to wait again: such a closure is a
    reference cycle that keeps every reply's event and captures alive until the cyclic
    collector runs, and makes it run (and walk them) about once a thousand replies.
    """

    __slots__ = (
        "turn",
        "handled",
        "previous",
        "committed",
        "finish",
        "event",
        "transition",
    )

    def __init__(
        self,
        turn: Turn,
        handled: Callable[[Event, Transition], None],
        previous: asyncio.Future[None] | None,
        committed: asyncio.Future[bool],
        finish: asyncio.Future[None],
        event: Event,
        transition: Transition,
    ) -> None:
        self.turn, self.handled, self.previous = turn, handled, previous
        self.committed, self.finish = committed, finish
        self.event, self.transition = event, transition

    def __call__(self, _: object) -> None:
        previous, finish, committed = self.previous, self.finish, self.committed
        if previous is not None and not previous.done():
            previous.add_done_callback(self)
            return
        if self.turn.tail is finish:
            self.turn.tail = None
        if finish.done():  # whoever awaited it was cancelled; the commit stands
            return
        if committed.cancelled():
            finish.cancel()
        elif (error := committed.exception()) is not None:
            finish.set_exception(error)
        else:
            if committed.result():
                self.handled(self.event, self.transition)
            else:
                log.debug("redelivered event ignored", extra={"kind": type(self.event).__name__})
            finish.set_result(None)


def _plain(transition: Transition, before: SessionState | None) -> bool:
    """Whether a transition only captures replies: nothing the next event is decided on moves.

    Such an event need not hold its group's turn while its captures are committed.
    """
    if not transition.captures or transition.state is not before or transition.effects:
        return False
    for capture in transition.captures:  # a loop, not all() over a generator: once per event
        if type(capture) is not ResponseCaptured:
            return False
    return True


def _finished() -> asyncio.Future[None]:
    done: asyncio.Future[None] = asyncio.get_running_loop().create_future()
    done.set_result(None)
    return done
