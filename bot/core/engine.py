"""The session state machine: ``step(state, event, actor, ctx) -> Transition``, with no I/O.

Every rule about steps, commands, roles and what gets captured lives here.
"""

from __future__ import annotations

from dataclasses import replace

from bot.content import heard
from bot.content.models import QUESTION_SEPARATOR, REQUIRED_SCOPE, Script, Step
from bot.core import consent, groups, profile, rehearsal, schedule, solo, support, turnout
from bot.core.actions import Action, AskChoice, Button, SendCard, SendPrivate, SendText
from bot.core.captures import (
    CardShown,
    ResponseCaptured,
    ResponseDeleted,
    ResponseEdited,
    SessionSaved,
    VoteCaptured,
)
from bot.core.context import Actor, Context, Transition
from bot.core.effects import Invited, RoleChanged, TallyChanged
from bot.core.events import (
    ButtonPressed,
    CommandIssued,
    Event,
    MessageDeleted,
    MessageEdited,
    MessagePosted,
    TimerFired,
    VoteCast,
)
from bot.core.ids import PersonRef
from bot.core.state import SessionState, Status
from bot.core.votes import typed

FACILITATOR_COMMANDS = frozenset(
    {"start", "next", "back", "goto", "skip", "pause", "resume", "end", "status", "show"}
)
UNCAPTURED_KINDS = frozenset({"break"})


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
            return command(state, name.lower(), args, actor, ctx)
        case ButtonPressed(payload=payload) if payload.split()[:1] == [profile.COMMAND]:
            rest = tuple(payload.split()[1:])
            return profile.handle(state, rest, actor, ctx, private=event.group is None)
        case ButtonPressed(payload=payload):
            words = payload.split() or [""]
            return command(state, words[0].lower(), tuple(words[1:]), actor, ctx)
        case VoteCast(step_id=step_id, options=options, toggle=toggle):
            return vote(state, step_id, options, actor, ctx, toggle)
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
        step_id, parsed = typed(_current_step(state, ctx), args)
        return vote(state, step_id, parsed, actor, ctx)
    if name == "help":
        key = "help.facilitator" if actor.facilitator else "help.participant"
        return _reply(state, actor, ctx.t(key, scripts=_script_list(ctx)))
    if name == "facilitator":
        return _role(state, args, actor, ctx)
    if name in groups.COMMANDS:
        return groups.handle(state, name, args, actor, ctx)
    if name in schedule.COMMANDS:
        return schedule.handle(state, name, args, actor, ctx)
    if name not in FACILITATOR_COMMANDS:
        return _reply(state, actor, ctx.t("help.unknown_command", command=name))
    if actor.group is None or state is None:
        return _reply(state, actor, ctx.t("session.in_group", command=name))
    if not actor.facilitator:
        return _reply(state, actor, ctx.t("facilitator.refused", command=name))
    if name == "start":
        if not actor.registered:
            return _reply(state, actor, ctx.t("groups.not_registered"))
        return _start(state, args, actor, ctx)
    if name == "status":
        asked = turnout.request(state, _current_step(state, ctx), actor)
        return Transition(state, (_private(actor, _status(state, ctx)),), effects=asked)
    if name == "show":
        return support.show(state, args, actor, ctx)
    if not state.live:
        return _reply(state, actor, ctx.t("session.none"))
    return _navigate(state, name, args, actor, ctx)


def _start(state: SessionState, args: tuple[str, ...], actor: Actor, ctx: Context) -> Transition:
    scripts = ctx.library.scripts
    if state.live:
        title = scripts[state.script_id].title if state.script_id in scripts else state.script_id
        return _reply(state, actor, ctx.t("session.already_running", title=title))
    if not args:
        example = next(iter(schedule.startable(ctx)), "SCRIPT")
        return _reply(
            state, actor, ctx.t("session.start_usage", example=example, scripts=_script_list(ctx))
        )
    script = scripts.get(args[0])
    if script is None:
        return _reply(
            state, actor, ctx.t("session.unknown_script", script=args[0], scripts=_script_list(ctx))
        )
    refused = schedule.refusal(script.id, ctx)
    if refused is not None:
        return _reply(state, actor, refused)
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
    shown, cards = present(started, script, actor, ctx)
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
        *shown,
    ]
    return Transition(started, tuple(actions), (SessionSaved(started), *cards))


def _navigate(
    state: SessionState, name: str, args: tuple[str, ...], actor: Actor, ctx: Context
) -> Transition:
    script = ctx.library.scripts.get(state.script_id or "")
    if name == "end" or script is None:
        return _end(state, actor, ctx)
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
        shown, cards = present(resumed, script, actor, ctx)
        actions = (SendText(state.group, ctx.t("session.resumed")), *shown)
        return Transition(resumed, actions, (SessionSaved(resumed), *cards))
    if state.status is Status.PAUSED:
        return _reply(state, actor, ctx.t("session.is_paused"))
    last = len(script.steps) - 1
    if name == "next":
        if state.step_index >= last:
            return _end(state, actor, ctx)
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


def _within_script(state: SessionState | None, ctx: Context) -> SessionState | None:
    # A session restored after its script lost steps resumes on the script's last step.
    script = ctx.library.scripts.get(state.script_id or "") if state else None
    if state is None or script is None or state.step_index < len(script.steps):
        return state
    return replace(state, step_index=len(script.steps) - 1)


def _step_index(script: Script, args: tuple[str, ...]) -> int | None:
    if not args:
        return None
    wanted = args[0]
    if wanted.isdecimal() and wanted.isascii() and 1 <= int(wanted) <= len(script.steps):
        return int(wanted) - 1
    return script.index_of(wanted)


def _move(
    state: SessionState, index: int, script: Script, actor: Actor, ctx: Context
) -> Transition:
    moved = replace(state, step_index=index, step_started_at=ctx.now)
    shown, cards = present(moved, script, actor, ctx)
    return Transition(moved, shown, (SessionSaved(moved), *cards))


def _end(state: SessionState, actor: Actor, ctx: Context) -> Transition:
    ended = replace(state, status=Status.ENDED, ended_at=ctx.now)
    after = support.closing(ended, actor, ctx)
    return Transition(
        ended,
        (SendText(state.group, ctx.t("session.ended")), *after.actions),
        (SessionSaved(ended), *after.captures),
        after.effects,
    )


def present(
    state: SessionState, script: Script, actor: Actor, ctx: Context
) -> tuple[tuple[Action, ...], tuple[CardShown, ...]]:
    """What the group sees for the current step, the facilitator's notes, and the cards shown.

    Each card shown is also recorded, so exports can say what people had read.
    """
    current = script.steps[state.step_index]
    group = state.group
    text = heard.fill(current.text, ctx.library.cards)
    actions: list[Action] = []
    if current.kind == "choice":
        actions.append(AskChoice(group, current.id, text, current.choices(), current.multiple))
    else:
        actions.append(SendText(group, text))
    for ballot in current.ballots() if current.kind == "feedback" else ():
        hint = ctx.t("feedback.hint", id=ballot.id.rpartition(QUESTION_SEPARATOR)[2])
        actions.append(AskChoice(group, ballot.id, ballot.text, ballot.choices(), False, hint))
    cards = [ctx.library.cards[c] for c in current.cards]
    actions += [SendCard(group, card) for card in cards]
    actions.append(SendPrivate(actor.person, _notes(state, script, current, ctx), group))
    shown = tuple(
        CardShown(state.session_id, group, current.id, card.id, card.version, ctx.now)
        for card in cards
        if state.session_id is not None
    )
    return tuple(actions), shown


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
    toggle: bool = False,
) -> Transition:
    """An answer to the current choice step, by button (with its step id) or by /vote.

    A toggle flips the options given in the person's current answer (multiple choice).
    """
    current = _current_step(state, ctx) if state and state.status is Status.RUNNING else None
    if state is None or current is None or current.kind not in ("choice", "feedback"):
        key = "vote.not_open" if step_id else "vote.no_question"
        return _reply(state, actor, ctx.t(key))
    # A feedback step asks several questions: each is a ballot of its own ("STEP.QUESTION").
    ballot = next((b for b in current.ballots() if b.id == (step_id or current.id)), None)
    if ballot is None:
        asked = step_id is None or step_id.startswith(f"{current.id}{QUESTION_SEPARATOR}")
        if current.kind == "feedback" and asked:
            first = current.ballots()[0].id.rpartition(QUESTION_SEPARATOR)[2]
            return _reply(state, actor, ctx.t("feedback.vote_usage", id=first))
        return _reply(state, actor, ctx.t("vote.not_open"))
    choices = ballot.choices()
    if not options or any(not 1 <= n <= len(choices) for n in options):
        return _reply(state, actor, ctx.t("vote.usage", count=len(choices)))
    if toggle and ballot.multiple:
        options = tuple(sorted(set(actor.current_vote) ^ set(options)))
        if not options:
            return _reply(state, actor, ctx.t("vote.keep_one"))
    if len(options) > 1 and not ballot.multiple:
        return _reply(state, actor, ctx.t("vote.one_only"))
    if not _consented(actor):
        # An explicit answer deserves a reply even if the person was invited before.
        return _invite(state, replace(actor, invited=False), ctx)
    assert state.session_id is not None
    picked = tuple(sorted(set(options)))
    capture = VoteCaptured(state.session_id, actor.person, state.group, ballot.id, picked, ctx.now)
    answer = "; ".join(choices[n - 1] for n in picked)
    tally = TallyChanged(state.group, state.session_id, ballot.id, current.tally == "group")
    thanks = _private(actor, ctx.t("vote.recorded", answer=answer))
    return Transition(state, (thanks,), (capture,), (tally,))


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
    return schedule.script_list(ctx)
