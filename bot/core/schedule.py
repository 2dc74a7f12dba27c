"""Rules about time: the open cycle's scripts, ``/scripts``, ``/schedule``, scheduled moments.

The scheduler only says that a moment came (``TimerFired``); what it means is decided here,
against the session as it is now, so a timer for a step the group has left changes nothing.
"""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import dataclass, replace
from datetime import UTC, datetime, timedelta, tzinfo

from bot.core import turnout
from bot.core.actions import SendPrivate, SendText
from bot.core.captures import SessionSaved
from bot.core.context import Actor, Context, Transition, reply
from bot.core.effects import SessionScheduled
from bot.core.events import TimerFired
from bot.core.ids import GroupRef
from bot.core.state import SessionState, Status

COMMANDS = frozenset({"scripts", "schedule"})
DATE_FORMAT = "%Y-%m-%d %H:%M"

Command = Callable[[SessionState | None, str, tuple[str, ...], Actor, Context], Transition]


class NoSuchLocalTime(ValueError):
    """A wall-clock time that the clocks skip over (the spring daylight-saving change)."""


def parse_local(date: str, time: str, zone: tzinfo) -> datetime:
    """``YYYY-MM-DD`` and ``HH:MM`` on the wall clocks of ``zone``, as an aware UTC time.

    A time that happens twice (autumn) means the first; one that never happens (spring) raises
    NoSuchLocalTime; any other malformed value raises ValueError.
    """
    naive = datetime.strptime(f"{date} {time}", DATE_FORMAT)
    at = naive.replace(tzinfo=zone).astimezone(UTC)
    if at.astimezone(zone).replace(tzinfo=None) != naive:
        raise NoSuchLocalTime(f"{date} {time} does not exist in {zone}")
    return at


def local(at: datetime, ctx: Context) -> str:
    """A time in the deployment's time zone, written the way the language writes times."""
    return ctx.texts.datetime(ctx.language, at.astimezone(ctx.zone))


def startable(ctx: Context) -> list[str]:
    """Ids of the scripts a facilitator may start now: the open cycle's, or all of them."""
    known = set(ctx.library.scripts)
    return sorted(known if ctx.offered is None else known & ctx.offered)


def script_list(ctx: Context) -> str:
    """The startable scripts as one line."""
    return ", ".join(startable(ctx)) or "-"


def refusal(script_id: str, ctx: Context) -> str | None:
    """Why a known script may not start now, or None when the open cycle offers it."""
    if ctx.offered is None or script_id in ctx.offered:
        return None
    if not ctx.offered:
        return ctx.t("cycle.none_open")
    return ctx.t(
        "cycle.not_offered", script=script_id, cycle=ctx.cycle_id, scripts=script_list(ctx)
    )


def handle(
    state: SessionState | None, name: str, args: tuple[str, ...], actor: Actor, ctx: Context
) -> Transition:
    """``/scripts`` (what the cycle offers) and ``/schedule SCRIPT DATE TIME``, for facilitators."""
    if not actor.facilitator:
        return reply(state, actor, ctx.t("facilitator.refused", command=name))
    if name == "scripts":
        return reply(state, actor, _scripts(ctx))
    if actor.group is None:
        return reply(state, actor, ctx.t("session.in_group", command=name))
    if not actor.registered:
        return reply(state, actor, ctx.t("groups.not_registered"))
    if not ctx.scheduling:
        return reply(state, actor, ctx.t("schedule.off"))
    tomorrow = (ctx.now + timedelta(days=1)).astimezone(ctx.zone)
    example = f"{next(iter(startable(ctx)), 'SCRIPT')} {tomorrow:%Y-%m-%d} 18:30"
    if len(args) != 3:
        return reply(state, actor, ctx.t("schedule.usage", example=example, zone=ctx.zone))
    script = ctx.library.scripts.get(args[0])
    if script is None:
        text = ctx.t("session.unknown_script", script=args[0], scripts=script_list(ctx))
        return reply(state, actor, text)
    refused = refusal(script.id, ctx)
    if refused is not None:
        return reply(state, actor, refused)
    try:
        at = parse_local(args[1], args[2], ctx.zone)
    except NoSuchLocalTime:
        return reply(state, actor, ctx.t("schedule.no_such_time", when=f"{args[1]} {args[2]}"))
    except ValueError:
        when = f"{args[1]} {args[2]}"
        return reply(state, actor, ctx.t("schedule.bad_when", when=when, example=example))
    if at <= ctx.now:
        return reply(state, actor, ctx.t("schedule.past", when=local(at, ctx)))
    done = ctx.t("schedule.done", title=script.title, when=local(at, ctx))
    scheduled = SessionScheduled(actor.group, actor.person, script.id, at)
    return Transition(state, (SendPrivate(actor.person, done, actor.group),), effects=(scheduled,))


def _scripts(ctx: Context) -> str:
    lines = [
        f"- {sid}: {ctx.library.scripts[sid].title} "
        f"({ctx.library.scripts[sid].estimated_minutes} min)"
        for sid in startable(ctx)
    ]
    if ctx.offered is None:
        return "\n".join([ctx.t("cycle.scripts_any"), *lines])
    if not lines:
        return ctx.t("cycle.none_open")
    return "\n".join([ctx.t("cycle.scripts", cycle=ctx.cycle_id), *lines])


def fired(
    state: SessionState | None, event: TimerFired, actor: Actor, ctx: Context, command: Command
) -> Transition:
    """What a scheduled moment means for the group's session now."""
    if state is None:
        return Transition(state)
    lead = replace(actor, facilitator=True)
    script = ctx.library.scripts.get(event.script_id or state.script_id or "")
    title = script.title if script else (event.script_id or "")
    when = local(event.due or event.at, ctx)
    if event.kind == "open":
        if state.live:
            return _tell(state, event, ctx.t("schedule.busy", title=title))
        return _quiet(event, command(state, "start", (event.script_id or "",), lead, ctx))
    if event.kind == "remind":
        return _tell(state, event, ctx.t("schedule.reminder", title=title, when=when))
    if event.kind == "missed":
        return _tell(state, event, ctx.t("schedule.missed", title=title, when=when))
    if not state.live or (event.session_id is not None and event.session_id != state.session_id):
        return Transition(state)
    if event.kind == "close":
        ended = replace(state, status=Status.ENDED, ended_at=ctx.now)
        polite = SendText(state.group, ctx.group_t("cycle.session_closed"))
        return Transition(ended, (polite,), (SessionSaved(ended),))
    if event.kind != "step" or state.status is not Status.RUNNING or script is None:
        return Transition(state)
    if (state.step_index, state.step_started_at) != (event.step_index, event.step_started_at):
        return Transition(state)
    if not 0 <= state.step_index < len(script.steps):
        return Transition(state)
    current = script.steps[state.step_index]
    if current.auto_advance:
        return _quiet(event, command(state, "next", (), lead, ctx))
    warning = ctx.t(
        "timer.warning",
        minutes=ctx.n("count.minutes", current.minutes or 0),
        number=state.step_index + 1,
        step=current.id,
    )
    told = _tell(state, event, warning)
    if event.person is None:
        return told
    # With the time check, how many have replied and what to do next (see core.support).
    asked = turnout.request(state, current, replace(actor, person=event.person))
    return replace(told, effects=asked)


@dataclass(frozen=True, slots=True)
class StepTimer:
    """When the current step's suggested minutes are up (stale once the step changes)."""

    group: GroupRef
    session_id: str
    step_index: int
    step_started_at: datetime
    due: datetime


def step_timer(state: SessionState, ctx: Context) -> StepTimer | None:
    """The timer a running session's current step needs, if the step suggests minutes."""
    if (
        state.status is not Status.RUNNING
        or state.session_id is None
        or state.step_started_at is None
    ):
        return None
    script = ctx.script(state.script_id, state.content_version)
    if script is None or not 0 <= state.step_index < len(script.steps):
        return None
    minutes = script.steps[state.step_index].minutes
    if minutes is None:
        return None
    due = state.step_started_at + timedelta(minutes=minutes)
    return StepTimer(state.group, state.session_id, state.step_index, state.step_started_at, due)


def _tell(state: SessionState, event: TimerFired, text: str) -> Transition:
    if event.person is None:
        return Transition(state)
    return Transition(state, (SendPrivate(event.person, text, event.group),))


def _quiet(event: TimerFired, transition: Transition) -> Transition:
    # With no one to tell, private replies (notes, refusals) have no recipient.
    if event.person is not None:
        return transition
    public = tuple(a for a in transition.actions if not isinstance(a, SendPrivate))
    return replace(transition, actions=public)
