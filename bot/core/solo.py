"""Self-paced dialogue: a resident alone in a private chat, one step at a time, at their pace.

The service routes a person's private events here, as events of the cycle's direct group
(``bot.core.direct``), when they open the cycle's invitation (``/join``) or have a self-paced
dialogue under way. Consent comes first; then the self-paced steps of the open cycle's script,
each with "Tell me more", "Skip" (or "Next") and "Stop for now" (``solo_join``,
``solo_steps``). Someone who stops half-way may be reminded once, if they said yes to that.
"""

from __future__ import annotations

from dataclasses import replace

from bot.content.scopes import REQUIRED_SCOPE
from bot.core import profile, solo_join, solo_steps
from bot.core.actions import SendPrivate
from bot.core.captures import ResponseEdited, SoloSaved
from bot.core.context import Actor, Context, Transition
from bot.core.desk import STOPPED, Desk
from bot.core.direct import BALLOT, COMMAND, NUDGE, is_direct
from bot.core.events import (
    ButtonPressed,
    CommandIssued,
    Event,
    MessageEdited,
    MessagePosted,
    TimerFired,
    VoteCast,
    words,
)
from bot.core.ids import GroupRef
from bot.core.solo_view import say
from bot.core.state import SessionState
from bot.core.text import says_nothing
from bot.core.votes import typed

HANDLED = frozenset(
    {COMMAND, "consent", "agree", "more", "next", "skip", "stop", "continue", "remind", "vote"}
)
# What moves a resident on through the dialogue (rather than about their consent).
ONWARD = frozenset({"more", "next", "skip", "stop", "continue", "remind", "vote"})


def routes(event: Event, desk: Desk) -> bool:
    """Whether a private event belongs to the self-paced dialogue (the service asks)."""
    if event.group is not None or isinstance(event, TimerFired | VoteCast):
        return False
    if isinstance(event, CommandIssued | ButtonPressed):
        if event.about is not None:
            return False
        if words(event)[0] in (COMMAND, BALLOT):
            return True
    kinds = MessagePosted | MessageEdited | CommandIssued | ButtonPressed
    return desk.solo is not None and desk.solo.open and isinstance(event, kinds)


def cycle_for(event: Event, desk: Desk, current: str) -> str:
    """The cycle whose direct group a routed event belongs to."""
    name, args = words(event)
    if name == COMMAND and args and args[0].lower() != "agree":
        return args[0].lower()
    return desk.solo.cycle_id if desk.solo is not None and desk.solo.open else current


def ballot_vote(event: Event, group: GroupRef) -> VoteCast | None:
    """A pressed answer button ("ballot STEP N [t]") as the vote it is, or None."""
    if not isinstance(event, ButtonPressed):
        return None
    name, args = words(event)
    if name != BALLOT or len(args) not in (2, 3) or not args[1].isdecimal():
        return None
    toggle = args[2:] == ("t",)
    return VoteCast(event.person, group, args[0], (int(args[1]),), event.at, toggle, event.press_id)


def wants(event: Event, actor: Actor) -> bool:
    """Whether the engine hands this event to the self-paced dialogue."""
    if not is_direct(actor.group):
        return False
    if isinstance(event, TimerFired):
        return event.kind == NUDGE
    if isinstance(event, MessagePosted | MessageEdited | VoteCast):
        return True
    return words(event)[0] in HANDLED


def handle(state: SessionState | None, event: Event, actor: Actor, ctx: Context) -> Transition:
    """One event of a resident's self-paced dialogue."""
    done = _handle(state, event, actor, ctx)
    solo = actor.desk.solo
    went_on = isinstance(event, VoteCast) or (
        isinstance(event, CommandIssued | ButtonPressed) and words(event)[0] in ONWARD
    )
    if solo is None or solo.question is None or not went_on:
        return done
    # They went on with the dialogue: the profile question no longer waits for typed words.
    saved = [c for c in done.captures if isinstance(c, SoloSaved)]
    captures = [c for c in done.captures if not isinstance(c, SoloSaved)]
    latest = saved[-1].state if saved else solo
    return replace(done, captures=(*captures, SoloSaved(replace(latest, question=None))))


def _handle(state: SessionState | None, event: Event, actor: Actor, ctx: Context) -> Transition:
    if isinstance(event, TimerFired):
        return nudged(state, event, actor, ctx)
    name, args = words(event)
    if name in (COMMAND, "consent"):
        return solo_join.join(state, args, actor, ctx)
    if name == "agree":
        return solo_join.join(state, ("agree", *args), actor, ctx)
    solo, script = actor.desk.solo, solo_join.current_script(actor, ctx)
    if solo is None or not solo.open or script is None or state is None:
        return say(state, actor, ctx.t("solo.not_started"))
    if solo.cycle_id != ctx.cycle_id or not state.live or state.session_id is None:
        return solo_join.closed(state, actor, ctx)
    if REQUIRED_SCOPE not in actor.scopes:
        return solo_join.offer(state, script, actor, ctx)
    if isinstance(event, MessagePosted):
        if says_nothing(event):
            return Transition(state)
        if solo.question is not None:
            # An answer to the bot's profile question, typed rather than pressed: never a reply.
            return profile.typed(state, event.text, actor, ctx)
        if solo_steps.asking_reminder(solo, ctx):
            # An answer to the bot's question, typed rather than pressed: never a reply.
            wanted = solo_steps.yes_or_no(event.text, ctx)
            return solo_steps.remind(state, solo, wanted, actor, ctx)
        return solo_steps.reply(state, event, solo, script, actor, ctx)
    if isinstance(event, MessageEdited):
        edit = ResponseEdited(event.person, state.group, event.message_id, event.text, event.at)
        return Transition(state, captures=(edit,))
    if isinstance(event, VoteCast):
        return solo_steps.vote(
            state, event.step_id, event.options, solo, script, actor, ctx, event.toggle
        )
    if name == "vote":
        step_id, options = typed(script.steps[solo.step_index], args)
        return solo_steps.vote(state, step_id, options, solo, script, actor, ctx)
    if name == "more":
        return solo_steps.more(state, solo, script, actor, ctx)
    if name in ("next", "skip"):
        return solo_steps.advance(state, solo, script, actor, ctx)
    if name == "stop":
        return solo_steps.stop(state, solo, actor, ctx)
    if name == "remind":
        return solo_steps.remind(state, solo, args[:1] == ("yes",), actor, ctx)
    return solo_steps.resume(state, solo, script, actor, ctx)


def nudged(state: SessionState | None, event: TimerFired, actor: Actor, ctx: Context) -> Transition:
    """The one gentle reminder, if they stopped half-way, said yes, and are still away."""
    solo, delay = actor.desk.solo, ctx.solo_reminder
    if (
        solo is None
        or delay is None
        or solo.status != STOPPED
        or not solo.remind
        or solo.reminded_at is not None
        or solo.stopped_at is None
        or solo.cycle_id != ctx.cycle_id
        # A reminder set for an earlier stop, before they came back and stopped again.
        or event.at < solo.stopped_at + delay
    ):
        return Transition(state)
    script = ctx.script(solo.script_id, solo.content_version, ctx.language)
    title = script.title if script else solo.script_id
    reminder = SendPrivate(
        actor.person, ctx.t("solo.reminder", title=title), buttons=solo_steps.continue_buttons(ctx)
    )
    return Transition(state, (reminder,), (SoloSaved(replace(solo, reminded_at=ctx.now)),))
