"""Rehearsal: a facilitator runs any script alone in their private chat; nothing is stored.

They see what the group would see (the very messages, cards and questions of a session, sent
to them privately), their notes for each step, and timings against the script's plan. A
rehearsal is a session of a group that exists nowhere ("rehearsal", script id), driven by the
engine's own session rules; it lives in the service's memory only, and its transitions ask
that not even the handling of their messages is remembered.
"""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import replace

from bot.content.models import Script
from bot.core import support
from bot.core.actions import Action, CheckAccess, OpenTopic, SendPrivate
from bot.core.captures import SessionSaved
from bot.core.context import Actor, Context, Transition
from bot.core.effects import ChartRequested, RehearsalChanged
from bot.core.events import ButtonPressed, CommandIssued, Event, MessagePosted, words
from bot.core.ids import GroupRef
from bot.core.state import SessionState

COMMAND = "rehearse"
PLATFORM = "rehearsal"
STEERING = frozenset(
    {"next", "back", "goto", "skip", "pause", "resume", "end", "status", "show", "vote"}
)
Command = Callable[[SessionState | None, str, tuple[str, ...], Actor, Context], Transition]


def wants(event: Event, actor: Actor) -> bool:
    """``/rehearse`` anywhere, and a rehearsing facilitator's private steering and messages."""
    name = words(event)[0]
    if isinstance(event, CommandIssued) and name == COMMAND:
        return True
    if actor.desk.rehearsal is None or event.group is not None:
        return False
    if isinstance(event, CommandIssued | ButtonPressed):
        return name in STEERING
    return isinstance(event, MessagePosted)


def handle(
    state: SessionState | None, event: Event, actor: Actor, ctx: Context, command: Command
) -> Transition:
    """One rehearsal event: the caller's ``state`` is never touched, nothing is captured."""
    name, args = words(event)
    if event.group is not None:
        return _say(state, actor, ctx.t("rehearse.private"))
    if name == COMMAND:
        return _start(state, args, actor, ctx, command)
    current = actor.desk.rehearsal
    script = ctx.library.scripts.get(current.script_id or "") if current else None
    if current is None or script is None:
        return _say(state, actor, ctx.t("rehearse.usage", scripts=_scripts(ctx)))
    if isinstance(event, MessagePosted) or name == "vote":
        return _say(state, actor, ctx.t("rehearse.not_recorded"))
    last = current.step_index >= len(script.steps) - 1
    if name == "end" or (name == "next" and last and current.live):
        return _finish(state, current, script, actor, ctx)
    if name == "status":
        return _say(state, actor, timing(current, script, ctx))
    if name == "show":
        ballots = support.chart_ballots(current, script, args)
        if ballots is None:
            return _say(state, actor, ctx.t("show.no_choice"))
        chart = ChartRequested(current.group, None, script.id, ballots, actor.person)
        return Transition(state, effects=(chart,), remember=False)
    moved = command(current, name, args, _leading(actor, current.group), ctx)
    return _mirror(state, moved, script, actor, ctx)


def timing(current: SessionState, script: Script, ctx: Context) -> str:
    """Where the rehearsal is against the script's plan, and how long it has taken so far."""
    minutes = [s.minutes or 0 for s in script.steps]
    index = current.step_index
    started = current.started_at or ctx.now
    return ctx.t(
        "rehearse.timing",
        number=index + 1,
        count=len(script.steps),
        minutes=minutes[index] if script.steps[index].minutes else "-",
        planned=sum(minutes[: index + 1]),
        total=sum(minutes),
        elapsed=int((ctx.now - started).total_seconds() // 60),
    )


def _start(
    state: SessionState | None,
    args: tuple[str, ...],
    actor: Actor,
    ctx: Context,
    command: Command,
) -> Transition:
    if not actor.desk.facilitates:
        return _say(state, actor, ctx.t("rehearse.refused"))
    script = ctx.library.scripts.get(args[0]) if args else None
    if script is None:
        key = "rehearse.unknown" if args else "rehearse.usage"
        return _say(state, actor, ctx.t(key, script=args[0] if args else "", scripts=_scripts(ctx)))
    nowhere = SessionState(GroupRef(PLATFORM, script.id))
    # Any script may be rehearsed, whatever the open cycle offers.
    anything = replace(ctx, offered=None, group_language=ctx.language)
    started = command(nowhere, "start", (script.id,), _leading(actor, nowhere.group), anything)
    lead = SendPrivate(
        actor.person,
        ctx.t(
            "rehearse.started",
            title=script.title,
            steps=ctx.n("count.steps", len(script.steps)),
            minutes=ctx.n("count.minutes", script.estimated_minutes),
        ),
    )
    return _mirror(state, started, script, actor, ctx, (lead,))


def _finish(
    state: SessionState | None, current: SessionState, script: Script, actor: Actor, ctx: Context
) -> Transition:
    started = current.started_at or ctx.now
    done = ctx.t(
        "rehearse.done",
        title=script.title,
        minutes=ctx.n("count.minutes", sum(s.minutes or 0 for s in script.steps)),
        elapsed=ctx.n("count.minutes", int((ctx.now - started).total_seconds() // 60)),
    )
    return Transition(
        state,
        (SendPrivate(actor.person, done),),
        effects=(RehearsalChanged(actor.person, None),),
        remember=False,
    )


def _mirror(
    state: SessionState | None,
    moved: Transition,
    script: Script,
    actor: Actor,
    ctx: Context,
    lead: tuple[Action, ...] = (),
) -> Transition:
    """The engine's transition of the rehearsal, shown to the facilitator, with nothing kept."""
    shown: list[Action] = list(lead)
    for action in moved.actions:
        if isinstance(action, SendPrivate):
            shown.append(replace(action, group=None))
        elif not isinstance(action, CheckAccess | OpenTopic):
            shown.append(replace(action, person=actor.person))
    rehearsal = moved.state
    stepped = any(isinstance(c, SessionSaved) for c in moved.captures)
    if rehearsal is not None and rehearsal.live and stepped:
        shown.append(SendPrivate(actor.person, timing(rehearsal, script, ctx)))
    return Transition(
        state,
        tuple(shown),
        effects=(RehearsalChanged(actor.person, rehearsal),),
        remember=False,
    )


def _leading(actor: Actor, group: GroupRef) -> Actor:
    return replace(actor, group=group, facilitator=True, registered=True)


def _scripts(ctx: Context) -> str:
    return ", ".join(sorted(ctx.library.scripts)) or "-"


def _say(state: SessionState | None, actor: Actor, text: str) -> Transition:
    return Transition(state, (SendPrivate(actor.person, text),), remember=False)
