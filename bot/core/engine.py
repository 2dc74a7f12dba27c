"""The session state machine: ``step(state, event, actor, ctx) -> Transition``, with no I/O.

Every rule about steps, commands, roles and what gets captured lives here.
"""

from __future__ import annotations

from dataclasses import replace

from bot.content.models import REQUIRED_SCOPE, Script, Step
from bot.core import consent
from bot.core.actions import Action, AskChoice, Button, SendCard, SendPrivate, SendText
from bot.core.captures import (
    ResponseCaptured,
    ResponseDeleted,
    ResponseEdited,
    SessionSaved,
    VoteCaptured,
)
from bot.core.context import Actor, Context, Transition
from bot.core.effects import Invited, RoleChanged
from bot.core.events import (
    ButtonPressed,
    CommandIssued,
    Event,
    MessageDeleted,
    MessageEdited,
    MessagePosted,
    VoteCast,
)
from bot.core.ids import PersonRef
from bot.core.state import SessionState, Status

FACILITATOR_COMMANDS = frozenset(
    {"start", "next", "back", "goto", "skip", "pause", "resume", "end", "status"}
)
UNCAPTURED_KINDS = frozenset({"break"})


def step(state: SessionState | None, event: Event, actor: Actor, ctx: Context) -> Transition:
    """Apply one event to a group's session state."""
    match event:
        case CommandIssued(name=name, args=args):
            return command(state, name.lower(), args, actor, ctx)
        case ButtonPressed(payload=payload):
            words = payload.split() or [""]
            return command(state, words[0].lower(), tuple(words[1:]), actor, ctx)
        case VoteCast(step_id=step_id, options=options):
            return vote(state, step_id, options, actor, ctx)
        case MessagePosted():
            return message(state, event, actor, ctx)
        case MessageEdited(group=group) if group is not None and _consented(actor):
            edit = ResponseEdited(event.person, group, event.message_id, event.text, event.at)
            return Transition(state, captures=(edit,))
        case MessageDeleted(group=group) if group is not None:
            gone = ResponseDeleted(group, event.message_id, event.at, event.person)
            return Transition(state, captures=(gone,))
    return Transition(state)


def command(
    state: SessionState | None, name: str, args: tuple[str, ...], actor: Actor, ctx: Context
) -> Transition:
    """A command typed or pressed by ``actor``."""
    if name in consent.COMMANDS:
        return consent.handle(state, name, args, actor, ctx)
    if name == "vote":
        parsed = parse_options(args)
        return vote(state, None, parsed, actor, ctx)
    if name == "help":
        key = "help.facilitator" if actor.facilitator else "help.participant"
        return _reply(state, actor, ctx.t(key, scripts=_script_list(ctx)))
    if name == "facilitator":
        return _role(state, args, actor, ctx)
    if name not in FACILITATOR_COMMANDS:
        return _reply(state, actor, ctx.t("help.unknown_command", command=name))
    if actor.group is None or state is None:
        return _reply(state, actor, ctx.t("session.in_group", command=name))
    if not actor.facilitator:
        return _reply(state, actor, ctx.t("facilitator.refused", command=name))
    if name == "start":
        return _start(state, args, actor, ctx)
    if name == "status":
        return _reply(state, actor, _status(state, ctx))
    if not state.live:
        return _reply(state, actor, ctx.t("session.none"))
    return _navigate(state, name, args, actor, ctx)


def _start(state: SessionState, args: tuple[str, ...], actor: Actor, ctx: Context) -> Transition:
    scripts = ctx.library.scripts
    if state.live:
        title = scripts[state.script_id].title if state.script_id in scripts else state.script_id
        return _reply(state, actor, ctx.t("session.already_running", title=title))
    if not args:
        example = next(iter(sorted(scripts)), "SCRIPT")
        return _reply(
            state, actor, ctx.t("session.start_usage", example=example, scripts=_script_list(ctx))
        )
    script = scripts.get(args[0])
    if script is None:
        return _reply(
            state, actor, ctx.t("session.unknown_script", script=args[0], scripts=_script_list(ctx))
        )
    group = state.group
    started = SessionState(
        group=group,
        status=Status.RUNNING,
        session_id=f"{group.platform}-{group.chat_id}-{ctx.now:%Y%m%dT%H%M%S%f}",
        cycle_id=ctx.cycle_id,
        script_id=script.id,
        script_version=script.version,
        step_index=0,
        started_at=ctx.now,
        step_started_at=ctx.now,
    )
    join = Button(ctx.t("session.join_button"), "consent", "/consent")
    actions: list[Action] = [
        SendText(
            group,
            ctx.t(
                "session.started",
                title=script.title,
                minutes=script.estimated_minutes,
            ),
        ),
        SendText(group, ctx.t("session.join"), buttons=(join,)),
        *present(started, script, actor, ctx),
    ]
    return Transition(started, tuple(actions), (SessionSaved(started),))


def _navigate(
    state: SessionState, name: str, args: tuple[str, ...], actor: Actor, ctx: Context
) -> Transition:
    script = ctx.library.scripts.get(state.script_id or "")
    if name == "end" or script is None:
        return _end(state, ctx)
    if name == "pause":
        if state.status is Status.PAUSED:
            return _reply(state, actor, ctx.t("session.is_paused"))
        paused = replace(state, status=Status.PAUSED)
        return Transition(
            paused, (SendText(state.group, ctx.t("session.paused")),), (SessionSaved(paused),)
        )
    if name == "resume":
        if state.status is not Status.PAUSED:
            return _reply(state, actor, ctx.t("session.not_paused"))
        resumed = replace(state, status=Status.RUNNING, step_started_at=ctx.now)
        actions = (
            SendText(state.group, ctx.t("session.resumed")),
            *present(resumed, script, actor, ctx),
        )
        return Transition(resumed, actions, (SessionSaved(resumed),))
    if state.status is Status.PAUSED:
        return _reply(state, actor, ctx.t("session.is_paused"))
    last = len(script.steps) - 1
    if name == "next":
        if state.step_index >= last:
            return _end(state, ctx)
        return _move(state, state.step_index + 1, script, actor, ctx)
    if name == "skip":
        if state.step_index + 2 > last:
            return _reply(state, actor, ctx.t("session.skip_last"))
        return _move(state, state.step_index + 2, script, actor, ctx)
    if name == "back":
        if state.step_index == 0:
            return _reply(state, actor, ctx.t("session.first_step"))
        return _move(state, state.step_index - 1, script, actor, ctx)
    target = _step_index(script, args)
    if target is None:
        if not args:
            message = ctx.t(
                "session.goto_usage", example=script.steps[-1].id, count=len(script.steps)
            )
        else:
            message = ctx.t(
                "session.unknown_step", step=args[0], steps=", ".join(s.id for s in script.steps)
            )
        return _reply(state, actor, message)
    return _move(state, target, script, actor, ctx)


def _step_index(script: Script, args: tuple[str, ...]) -> int | None:
    if not args:
        return None
    wanted = args[0]
    if wanted.isdigit() and 1 <= int(wanted) <= len(script.steps):
        return int(wanted) - 1
    return script.index_of(wanted)


def _move(
    state: SessionState, index: int, script: Script, actor: Actor, ctx: Context
) -> Transition:
    moved = replace(state, step_index=index, step_started_at=ctx.now)
    return Transition(moved, tuple(present(moved, script, actor, ctx)), (SessionSaved(moved),))


def _end(state: SessionState, ctx: Context) -> Transition:
    ended = replace(state, status=Status.ENDED, ended_at=ctx.now)
    return Transition(
        ended, (SendText(state.group, ctx.t("session.ended")),), (SessionSaved(ended),)
    )


def present(state: SessionState, script: Script, actor: Actor, ctx: Context) -> list[Action]:
    """What the group sees for the current step, and the facilitator's private notes."""
    current = script.steps[state.step_index]
    group = state.group
    actions: list[Action] = []
    if current.kind == "choice":
        actions.append(
            AskChoice(group, current.id, current.text, current.choices(), current.multiple)
        )
    else:
        actions.append(SendText(group, current.text))
    actions += [SendCard(group, ctx.library.cards[c]) for c in current.cards]
    actions.append(SendPrivate(actor.person, _notes(state, script, current, ctx), group))
    return actions


def _notes(state: SessionState, script: Script, current: Step, ctx: Context) -> str:
    minutes = ctx.t("facilitator.minutes", minutes=current.minutes) if current.minutes else ""
    params = dict(
        number=state.step_index + 1,
        count=len(script.steps),
        step=current.id,
        kind=current.kind,
        minutes=minutes,
    )
    if current.facilitator_notes:
        return ctx.t("facilitator.notes", notes=current.facilitator_notes, **params)
    return ctx.t("facilitator.no_notes", **params)


def _status(state: SessionState, ctx: Context) -> str:
    script = ctx.library.scripts.get(state.script_id or "")
    if not state.live or script is None or state.step_started_at is None:
        return ctx.t("facilitator.status_none")
    elapsed = int((ctx.now - state.step_started_at).total_seconds() // 60)
    return ctx.t(
        "facilitator.status",
        title=script.title,
        version=script.version,
        state=state.status.value,
        number=state.step_index + 1,
        count=len(script.steps),
        step=script.steps[state.step_index].id,
        elapsed=elapsed,
    )


def message(
    state: SessionState | None, event: MessagePosted, actor: Actor, ctx: Context
) -> Transition:
    """A message in a group: captured if the session is running and the author consented."""
    if state is None or event.group is None or state.status is not Status.RUNNING:
        if event.group is None:
            return _reply(state, actor, ctx.t("help.private"))
        return Transition(state)
    if not _consented(actor):
        return _invite(state, actor, ctx)
    current = _current_step(state, ctx)
    if current is None or current.kind in UNCAPTURED_KINDS or state.session_id is None:
        return Transition(state)
    capture = ResponseCaptured(
        session_id=state.session_id,
        person=event.person,
        group=event.group,
        step_id=current.id,
        message_id=event.message_id,
        text=event.text,
        at=event.at,
        reply_to=event.reply_to,
        kind=event.kind,
    )
    return Transition(state, captures=(capture,))


def vote(
    state: SessionState | None,
    step_id: str | None,
    options: tuple[int, ...],
    actor: Actor,
    ctx: Context,
) -> Transition:
    """An answer to the current choice step, by button (with its step id) or by /vote."""
    current = _current_step(state, ctx) if state and state.status is Status.RUNNING else None
    if state is None or current is None or current.kind != "choice":
        key = "vote.not_open" if step_id else "vote.no_question"
        return _reply(state, actor, ctx.t(key))
    if step_id is not None and step_id != current.id:
        return _reply(state, actor, ctx.t("vote.not_open"))
    choices = current.choices()
    if not options or any(not 1 <= n <= len(choices) for n in options):
        return _reply(state, actor, ctx.t("vote.usage", count=len(choices)))
    if len(options) > 1 and not current.multiple:
        return _reply(state, actor, ctx.t("vote.one_only"))
    if not _consented(actor):
        # An explicit answer deserves a reply even if the person was invited before.
        return _invite(state, replace(actor, invited=False), ctx)
    assert state.session_id is not None
    picked = tuple(sorted(set(options)))
    capture = VoteCaptured(state.session_id, actor.person, state.group, current.id, picked, ctx.now)
    answer = "; ".join(choices[n - 1] for n in picked)
    return Transition(state, (_private(actor, ctx.t("vote.recorded", answer=answer)),), (capture,))


def parse_options(args: tuple[str, ...]) -> tuple[int, ...]:
    """Option numbers from '/vote 2', '/vote 1,3' or '/vote 1 3' (empty if any is not a number)."""
    pieces = [p for arg in args for p in arg.replace(",", " ").split()]
    if not all(p.isdigit() for p in pieces):
        return ()
    return tuple(int(p) for p in pieces)


def _role(
    state: SessionState | None, args: tuple[str, ...], actor: Actor, ctx: Context
) -> Transition:
    if not actor.staff:
        return _reply(state, actor, ctx.t("facilitator.staff_only"))
    if actor.group is None:
        return _reply(state, actor, ctx.t("session.in_group", command="facilitator"))
    if len(args) != 2 or args[0] not in ("add", "remove"):
        return _reply(state, actor, ctx.t("facilitator.role_usage"))
    person = PersonRef(actor.person.platform, args[1].lstrip("@"))
    granted = args[0] == "add"
    change = RoleChanged(actor.group, person, granted)
    return Transition(state, effects=(change,))


def _current_step(state: SessionState | None, ctx: Context) -> Step | None:
    script = ctx.library.scripts.get(state.script_id or "") if state else None
    if state is None or script is None or not 0 <= state.step_index < len(script.steps):
        return None
    return script.steps[state.step_index]


def _consented(actor: Actor) -> bool:
    return REQUIRED_SCOPE in actor.scopes


def _invite(state: SessionState, actor: Actor, ctx: Context) -> Transition:
    if actor.invited or actor.group is None:
        return Transition(state)
    invitation = SendPrivate(
        actor.person,
        ctx.t("consent.invite"),
        actor.group,
        (Button(ctx.t("session.join_button"), "consent", "/consent"),),
    )
    return Transition(state, (invitation,), effects=(Invited(actor.person, actor.group),))


def _private(actor: Actor, text: str) -> SendPrivate:
    return SendPrivate(actor.person, text, actor.group)


def _reply(state: SessionState | None, actor: Actor, text: str) -> Transition:
    return Transition(state, (_private(actor, text),))


def _script_list(ctx: Context) -> str:
    return ", ".join(sorted(ctx.library.scripts)) or "-"
