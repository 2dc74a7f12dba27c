"""How a facilitator steers a group's session: start, move between steps, pause, end, status.

Also what the group sees when a step opens (``present``), with the facilitator's notes.
"""

from __future__ import annotations

from dataclasses import replace

from bot.content import heard
from bot.content.models import QUESTION_SEPARATOR, Script, Step
from bot.core import schedule, support
from bot.core.actions import Action, AskChoice, OpenTopic, SendCard, SendPrivate, SendText
from bot.core.captures import CardShown, ContentUsed, SessionSaved
from bot.core.context import Actor, Context, Transition, reply
from bot.core.events import CommandIssued
from bot.core.responses import join_button
from bot.core.state import SessionState, Status


def in_new_topic(
    state: SessionState | None, event: CommandIssued, done: Transition, ctx: Context
) -> Transition:
    """A start the platform runs in a new topic: the topic is opened first, the start then.

    Only a start that succeeds here asks for a topic (a refusal stays as it is), so no empty
    topic is opened for a person who may not start a session, or for a script that is unknown.
    """
    started = done.state
    if event.group is None or started is None or not started.live:
        return done
    if state is not None and state.live:
        return done  # a session ran before this command: nothing was started
    script = ctx.script(started.script_id, started.content_version)
    title = script.title if script is not None else started.script_id or ""
    return Transition(state, (OpenTopic(event.group, title, event),))


def start(state: SessionState, args: tuple[str, ...], actor: Actor, ctx: Context) -> Transition:
    """``/start SCRIPT``: a new session of the script at its first step, if none is live."""
    scripts = ctx.library.scripts
    if state.live:
        title = scripts[state.script_id].title if state.script_id in scripts else state.script_id
        return reply(state, actor, ctx.t("session.already_running", title=title))
    if not args:
        example = next(iter(schedule.startable(ctx)), "SCRIPT")
        return reply(
            state,
            actor,
            ctx.t("session.start_usage", example=example, scripts=schedule.script_list(ctx)),
        )
    script = scripts.get(args[0])
    if script is None:
        return reply(
            state,
            actor,
            ctx.t("session.unknown_script", script=args[0], scripts=schedule.script_list(ctx)),
        )
    refused = schedule.refusal(script.id, ctx)
    if refused is not None:
        return reply(state, actor, refused)
    group = state.group
    version = ctx.library.version(script)
    started = SessionState(
        group=group,
        status=Status.RUNNING,
        session_id=f"{group.platform}-{group.chat_id}-{ctx.now:%Y%m%dT%H%M%S%f}",
        language=ctx.group_language,
        cycle_id=ctx.cycle_id,
        script_id=script.id,
        script_version=script.version,
        content_version=version.digest,
        step_index=0,
        started_at=ctx.now,
        step_started_at=ctx.now,
    )
    join = join_button(ctx.to_group())
    shown, cards = present(started, script, actor, ctx)
    actions: list[Action] = [
        SendText(
            group,
            ctx.group_t(
                "session.started",
                title=script.title,
                minutes=ctx.to_group().n("count.minutes", script.estimated_minutes),
            ),
        ),
        SendText(group, ctx.group_t("session.join"), buttons=(join,)),
        *shown,
    ]
    used = ContentUsed(version, ctx.now)
    return Transition(started, tuple(actions), (used, SessionSaved(started), *cards))


def navigate(
    state: SessionState, name: str, args: tuple[str, ...], actor: Actor, ctx: Context
) -> Transition:
    """Move a live session: next, back, skip, goto, pause, resume or end."""
    script = ctx.script(state.script_id, state.content_version)
    if name == "end" or script is None:
        return _end(state, actor, ctx)
    if name == "pause":
        if state.status is Status.PAUSED:
            return reply(state, actor, ctx.t("session.is_paused"))
        paused = replace(state, status=Status.PAUSED)
        return Transition(
            paused, (SendText(state.group, ctx.group_t("session.paused")),), (SessionSaved(paused),)
        )
    if name == "resume":
        if state.status is not Status.PAUSED:
            return reply(state, actor, ctx.t("session.not_paused"))
        resumed = replace(state, status=Status.RUNNING, step_started_at=ctx.now)
        shown, cards = present(resumed, script, actor, ctx)
        actions = (SendText(state.group, ctx.group_t("session.resumed")), *shown)
        return Transition(resumed, actions, (SessionSaved(resumed), *cards))
    if state.status is Status.PAUSED:
        return reply(state, actor, ctx.t("session.is_paused"))
    last = len(script.steps) - 1
    if name == "next":
        if state.step_index >= last:
            return _end(state, actor, ctx)
        return _move(state, state.step_index + 1, script, actor, ctx)
    if name == "skip":
        if state.step_index + 2 > last:
            return reply(state, actor, ctx.t("session.skip_last"))
        return _move(state, state.step_index + 2, script, actor, ctx)
    if name == "back":
        if state.step_index == 0:
            return reply(state, actor, ctx.t("session.first_step"))
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
        return reply(state, actor, message)
    return _move(state, target, script, actor, ctx)


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
        (SendText(state.group, ctx.group_t("session.ended")), *after.actions),
        (SessionSaved(ended), *after.captures),
        after.effects,
    )


def present(
    state: SessionState, script: Script, actor: Actor, ctx: Context
) -> tuple[tuple[Action, ...], tuple[CardShown, ...]]:
    """What the group sees for the current step, the facilitator's notes, and the cards shown.

    Each card shown is also recorded, so exports can say what people had read.
    """
    language = ctx.group_language
    current = (ctx.script(script.id, state.content_version, language) or script).steps[
        state.step_index
    ]
    group = state.group
    shows = ctx.cards(state.content_version, language)
    text = heard.fill(current.text, shows)
    actions: list[Action] = []
    if current.kind == "choice":
        choices = current.choices()
        asked = AskChoice(group, current.id, text, choices, current.multiple, language=language)
        actions.append(asked)
    else:
        actions.append(SendText(group, text))
    for ballot in current.ballots() if current.kind == "feedback" else ():
        hint = ctx.group_t("feedback.hint", id=ballot.id.rpartition(QUESTION_SEPARATOR)[2])
        choices = ballot.choices()
        actions.append(
            AskChoice(group, ballot.id, ballot.text, choices, False, hint, language=language)
        )
    cards = [shows[c] for c in current.cards if c in shows]
    actions += [SendCard(group, card, language=language) for card in cards]
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


def status(state: SessionState, ctx: Context) -> str:
    """The facilitator's ``/status``: script, state, step and minutes on it."""
    script = ctx.script(state.script_id, state.content_version)
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
