"""The session state machine: ``step(state, event, actor, ctx) -> Transition``, with no I/O.

Every rule about steps, commands, roles and what gets captured lives in the core; this module
is its entry point and command table. It hands each event to the module whose rules it is
about: steering a session (``bot.core.steering``), what participants say
(``bot.core.responses``), consent, groups, profiles, schedules, private work.
"""

from __future__ import annotations

from dataclasses import replace

from bot.core import (
    consent,
    groups,
    languages,
    profile,
    rehearsal,
    responses,
    schedule,
    solo,
    steering,
    support,
    turnout,
)
from bot.core.context import Actor, Context, Transition, private, reply
from bot.core.direct import is_direct
from bot.core.effects import RoleChanged
from bot.core.events import (
    ButtonPressed,
    CommandIssued,
    Event,
    MessageDeleted,
    MessageEdited,
    MessagePosted,
    TimerFired,
    VoteCast,
    words,
)
from bot.core.ids import GroupRef, PersonRef
from bot.core.state import SessionState
from bot.core.votes import typed

FACILITATOR_COMMANDS = frozenset(
    {"start", "next", "back", "goto", "skip", "pause", "resume", "end", "status", "show"}
)
# Commands no rate limit holds back: a person's say over their consent and data, help, and
# answers (a pressed answer is never limited either: losing one is worse than spam).
UNLIMITED_COMMANDS = consent.COMMANDS | {"forget", "help", "vote", profile.COMMAND}


def unlimited(event: Event, group: GroupRef | None) -> bool:
    """Whether no rate limit may hold back this command or button press.

    The commands in ``UNLIMITED_COMMANDS`` anywhere, and a self-paced dialogue's own buttons
    and commands: held back, a "Next" would leave the person's next reply under the wrong step.
    """
    name = words(event)[0]
    return name in UNLIMITED_COMMANDS or (is_direct(group) and name in solo.HANDLED)


def step(state: SessionState | None, event: Event, actor: Actor, ctx: Context) -> Transition:
    """Apply one event to a group's session state."""
    state = _within_script(state, ctx)
    # A person's private work with the bot (see bot.core.desk) comes before group rules.
    if rehearsal.wants(event, actor):
        return rehearsal.handle(state, event, actor, ctx, command)
    if support.wants(event, actor):
        return support.handle(state, event, actor, ctx)
    if solo.wants(event, actor):
        return solo.handle(state, event, actor, ctx)
    match event:
        case TimerFired():
            return schedule.fired(state, event, actor, ctx, command)
        case CommandIssued(name=name, args=args) if name.lower() in groups.COMMANDS:
            return groups.handle(state, name.lower(), args, actor, ctx, event.reply_to)
        case CommandIssued(name=name, args=args) if name.lower() == profile.COMMAND:
            return profile.handle(state, args, actor, ctx, private=event.group is None)
        case CommandIssued(name=name, args=args):
            done = command(state, name.lower(), args, actor, ctx)
            return steering.in_new_topic(state, event, done, ctx) if event.opens_topic else done
        case ButtonPressed(payload=payload) if payload.split()[:1] == [profile.COMMAND]:
            rest = tuple(payload.split()[1:])
            return profile.handle(state, rest, actor, ctx, private=event.group is None)
        case ButtonPressed(payload=payload):
            words = payload.split() or [""]
            return command(state, words[0].lower(), tuple(words[1:]), actor, ctx)
        case VoteCast(step_id=step_id, options=options, toggle=toggle):
            return responses.vote(state, step_id, options, actor, ctx, toggle)
        case MessagePosted():
            return responses.message(state, event, actor, ctx)
        case MessageEdited():
            return responses.edited(state, event, actor)
        case MessageDeleted():
            return responses.deleted(state, event)
    return Transition(state)


def command(
    state: SessionState | None, name: str, args: tuple[str, ...], actor: Actor, ctx: Context
) -> Transition:
    """A command typed or pressed by ``actor``."""
    if name in consent.COMMANDS:
        return consent.handle(state, name, args, actor, ctx)
    if name == languages.COMMAND:
        return languages.handle(state, args, actor, ctx)
    if name == "vote":
        step_id, parsed = typed(responses.current_step(state, ctx), args)
        return responses.vote(state, step_id, parsed, actor, ctx)
    if name == "help":
        alone = is_direct(actor.group) or (actor.group is None and actor.desk.solo is not None)
        key = (
            "help.facilitator"
            if actor.facilitator
            else "help.solo"
            if alone
            else "help.participant"
        )
        return reply(state, actor, ctx.t(key, scripts=schedule.script_list(ctx)))
    if name == "facilitator":
        return _role(state, args, actor, ctx)
    if name in groups.COMMANDS:
        return groups.handle(state, name, args, actor, ctx)
    if name in schedule.COMMANDS:
        return schedule.handle(state, name, args, actor, ctx)
    if name not in FACILITATOR_COMMANDS:
        return reply(state, actor, ctx.t("help.unknown_command", command=name))
    if actor.group is None or state is None:
        return reply(state, actor, ctx.t("session.in_group", command=name))
    if not actor.facilitator:
        return reply(state, actor, ctx.t("facilitator.refused", command=name))
    if name == "start":
        if not actor.registered:
            return reply(state, actor, ctx.t("groups.not_registered"))
        return steering.start(state, args, actor, ctx)
    if name == "status":
        asked = turnout.request(state, responses.current_step(state, ctx), actor)
        return Transition(state, (private(actor, steering.status(state, ctx)),), effects=asked)
    if name == "show":
        return support.show(state, args, actor, ctx)
    if not state.live:
        return reply(state, actor, ctx.t("session.none"))
    return steering.navigate(state, name, args, actor, ctx)


def _within_script(state: SessionState | None, ctx: Context) -> SessionState | None:
    # A session restored after its script lost steps resumes on the script's last step.
    script = ctx.script(state.script_id, state.content_version) if state else None
    if state is None or script is None or state.step_index < len(script.steps):
        return state
    return replace(state, step_index=len(script.steps) - 1)


def _role(
    state: SessionState | None, args: tuple[str, ...], actor: Actor, ctx: Context
) -> Transition:
    if not actor.staff:
        return reply(state, actor, ctx.t("facilitator.staff_only"))
    if actor.group is None:
        return reply(state, actor, ctx.t("session.in_group", command="facilitator"))
    if len(args) < 2 or args[0] not in ("add", "remove"):
        return reply(state, actor, ctx.t("facilitator.role_usage"))
    # After the id, the platform may add the person's name as it shows it (see the adapters).
    person = PersonRef(actor.person.platform, args[1].lstrip("@"))
    granted = args[0] == "add"
    change = RoleChanged(actor.group, person, granted, " ".join(args[2:]) or args[1])
    return Transition(state, effects=(change,))
