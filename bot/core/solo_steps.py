"""The steps of a self-paced dialogue: replies, answers, more, next, stop, and coming back."""

from __future__ import annotations

from dataclasses import replace

from bot.content.models import Script
from bot.core.actions import Button, SendCard, SendPrivate
from bot.core.captures import CardShown, ResponseCaptured, SoloSaved, VoteCaptured
from bot.core.context import Actor, Context, Transition
from bot.core.desk import ACTIVE, DONE, STOPPED, SoloState
from bot.core.events import MessagePosted
from bot.core.responses import chosen
from bot.core.solo_view import controls, offered, present, say
from bot.core.state import SessionState


def reply(
    state: SessionState,
    event: MessagePosted,
    solo: SoloState,
    script: Script,
    actor: Actor,
    ctx: Context,
) -> Transition:
    """A reply to the step they are at, captured like a group's (coming back, if stopped)."""
    assert state.session_id is not None
    captured = ResponseCaptured(
        session_id=state.session_id,
        person=event.person,
        group=state.group,
        step_id=script.steps[solo.step_index].id,
        message_id=event.message_id,
        text=event.text,
        at=event.at,
        reply_to=event.reply_to,
        kind=event.kind,
        language=ctx.language,
    )
    noted = replace(solo, status=ACTIVE, answered=True, updated_at=ctx.now)
    ack = SendPrivate(actor.person, ctx.t("solo.noted"), buttons=after_answer(ctx))
    return Transition(state, (ack,), (captured, SoloSaved(noted)))


def vote(
    state: SessionState,
    step_id: str | None,
    options: tuple[int, ...],
    solo: SoloState,
    script: Script,
    actor: Actor,
    ctx: Context,
    toggle: bool = False,
) -> Transition:
    """An answer to the step's question (a feedback step's, by ballot id), captured as a vote.

    A choice with one answer moves straight on to the next step.
    """
    assert state.session_id is not None
    step = script.steps[solo.step_index]
    ballots = {b.id: b for b in step.ballots()}
    wanted = step_id if step_id is not None else step.id
    ballot = ballots.get(wanted)
    if ballot is None:
        key = "feedback.vote_usage" if step.kind == "feedback" else "vote.no_question"
        if step_id is not None and step.kind != "feedback":
            key = "vote.not_open"
        return say(state, actor, ctx.t(key, id=next(iter(ballots), "")))
    picked = chosen(ballot, options, toggle, actor, ctx)
    if isinstance(picked, str):
        return say(state, actor, picked)
    choices = ballot.choices()
    vote = VoteCaptured(state.session_id, actor.person, state.group, ballot.id, picked, ctx.now)
    noted = replace(solo, status=ACTIVE, answered=True, updated_at=ctx.now)
    answer = "; ".join(choices[n - 1] for n in picked)
    thanks = ctx.t("vote.recorded", answer=answer)
    if step.kind == "choice" and not step.multiple:
        # One answer and done: straight on to the next step.
        moved = advance(state, noted, script, actor, ctx, thanks + "\n\n")
        return replace(moved, captures=(vote, *moved.captures))
    ack = SendPrivate(actor.person, thanks, buttons=after_answer(ctx))
    return Transition(state, (ack,), (vote, SoloSaved(noted)))


def more(
    state: SessionState, solo: SoloState, script: Script, actor: Actor, ctx: Context
) -> Transition:
    """Tell me more: the step's cards in full, and its self-paced explanation."""
    assert state.session_id is not None
    step = script.steps[solo.step_index]
    shows = ctx.cards(solo.content_version, ctx.language)
    cards = [shows[c] for c in step.cards if c in shows]
    actions: list[SendCard | SendPrivate] = [
        SendCard(state.group, card, actor.person, ctx.language) for card in cards
    ]
    if step.self_paced_more:
        actions.append(SendPrivate(actor.person, step.self_paced_more))
    if not actions:
        actions.append(SendPrivate(actor.person, ctx.t("solo.no_more")))
    actions.append(SendPrivate(actor.person, ctx.t("solo.then"), buttons=controls(step, solo, ctx)))
    shown = tuple(
        CardShown(state.session_id, state.group, step.id, card.id, card.version, ctx.now)
        for card in cards
    )
    return Transition(state, tuple(actions), shown)


def advance(
    state: SessionState,
    solo: SoloState,
    script: Script,
    actor: Actor,
    ctx: Context,
    lead: str = "",
) -> Transition:
    """Next (or Skip): the following self-paced step, or the end of the dialogue."""
    later = [n for n in offered(script) if n > solo.step_index]
    if not later:
        done = replace(solo, status=DONE, updated_at=ctx.now)
        end = SendPrivate(actor.person, lead + ctx.t("solo.finished"))
        return Transition(state, (end,), (SoloSaved(done),))
    status = DONE if script.steps[later[0]].kind == "close" else ACTIVE
    moved = replace(solo, step_index=later[0], status=status, answered=False, updated_at=ctx.now)
    return Transition(state, present(moved, script, actor, ctx, lead), (SoloSaved(moved),))


def stop(state: SessionState, solo: SoloState, actor: Actor, ctx: Context) -> Transition:
    """Stop for now: their place is kept; the first time, ask whether to remind them once."""
    stopped = replace(solo, status=STOPPED, stopped_at=ctx.now, updated_at=ctx.now)
    text = ctx.t("solo.stopped")
    buttons = continue_buttons(ctx)
    delay = ctx.solo_reminder
    if solo.remind is None and delay is not None:
        hours = int(delay.total_seconds() // 3600)
        when = (
            ctx.t("solo.in_days", days=ctx.n("count.days", hours // 24))
            if hours % 24 == 0
            else ctx.t("solo.in_hours", hours=ctx.n("count.hours", hours))
        )
        text = f"{text}\n\n{ctx.t('solo.remind_ask', when=when)}"
        buttons = remind_buttons(ctx)
    return Transition(
        state, (SendPrivate(actor.person, text, buttons=buttons),), (SoloSaved(stopped),)
    )


def asking_reminder(solo: SoloState, ctx: Context) -> bool:
    """Whether the resident stopped and was asked about a reminder, and has not answered."""
    return solo.status == STOPPED and solo.remind is None and ctx.solo_reminder is not None


def yes_or_no(text: str, ctx: Context) -> bool | None:
    """A typed answer to a yes-or-no question: True, False, or None when it is neither."""
    said = " ".join(text.casefold().strip(" .!").split())
    for answer, key in ((True, "solo.yes_words"), (False, "solo.no_words")):
        if said in (w.strip() for w in ctx.t(key).casefold().split(",")):
            return answer
    return None


def remind(
    state: SessionState, solo: SoloState, wanted: bool | None, actor: Actor, ctx: Context
) -> Transition:
    """The resident's answer to the reminder question; asked again if it was neither."""
    if wanted is None:
        text = ctx.t("solo.remind_again")
        buttons = (*remind_buttons(ctx), *continue_buttons(ctx))
        return Transition(state, (SendPrivate(actor.person, text, buttons=buttons),))
    key = "solo.remind_yes" if wanted else "solo.remind_no"
    return Transition(
        state,
        (SendPrivate(actor.person, ctx.t(key), buttons=continue_buttons(ctx)),),
        (SoloSaved(replace(solo, remind=wanted, updated_at=ctx.now)),),
    )


def remind_buttons(ctx: Context) -> tuple[Button, ...]:
    """Yes or no to one reminder."""
    return (
        Button(ctx.t("solo.remind_yes_button"), "remind yes", "/remind yes"),
        Button(ctx.t("solo.remind_no_button"), "remind no", "/remind no"),
    )


def resume(
    state: SessionState | None, solo: SoloState, script: Script, actor: Actor, ctx: Context
) -> Transition:
    """The step they are at, again; coming back after stopping makes them active."""
    back = replace(solo, status=ACTIVE, updated_at=ctx.now)
    lead = ctx.t("solo.welcome_back") if solo.status == STOPPED else ""
    captures = (SoloSaved(back),) if solo.status != ACTIVE else ()
    return Transition(state, present(back, script, actor, ctx, lead), captures)


def continue_buttons(ctx: Context) -> tuple[Button, ...]:
    """The button that picks the dialogue up again."""
    return (Button(ctx.t("solo.continue_button"), "continue", "/continue"),)


def after_answer(ctx: Context) -> tuple[Button, ...]:
    """The buttons after a reply or an answer: Next, and Stop for now."""
    return (
        Button(ctx.t("solo.next_button"), "next", "/next"),
        Button(ctx.t("solo.stop_button"), "stop", "/stop"),
    )
