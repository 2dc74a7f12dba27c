"""Support for facilitators: a pulse of the step, charts, the summary, and the reflection.

During a session the facilitator privately gets, with ``/status`` and when a step's minutes
are up, how long the group has been on the step against the script's suggestion, how many
people who agreed have replied, and a suggested next move. ``/show`` shows the group a chart
of a choice step's answers. When the session ends they review a "what we heard today"
summary before it is posted, and are asked three short reflection questions.
"""

from __future__ import annotations

from dataclasses import replace

from bot.content.models import Script
from bot.core.actions import Button, SendPrivate, SendText
from bot.core.captures import ReflectionSaved
from bot.core.context import Actor, Context, Transition
from bot.core.desk import REFLECTION_QUESTIONS, Desk, Reflection, SummaryDraft
from bot.core.effects import ChartRequested, SummaryChanged, SummaryRequested
from bot.core.events import Event, MessagePosted, words
from bot.core.records import Turnout
from bot.core.solo_view import say
from bot.core.state import SessionState, Status
from bot.core.turnout import describe

COMMANDS = frozenset({"reflect", "summary"})
QUIET_KINDS = frozenset({"message", "card", "break", "close"})


def _typing(event: Event, desk: Desk) -> bool:
    """Whether a private message is a facilitator's answer the bot asked them for."""
    if not isinstance(event, MessagePosted) or event.group is not None:
        return False
    editing = desk.summary is not None and desk.summary.editing
    return editing or (desk.reflection is not None and desk.reflection.pending is not None)


def exempt(event: Event, desk: Desk) -> bool:
    """Whether a message's words pass the consent gate without a group's consent.

    Only a facilitator's own summary text or reflection answer: the bot asked for it, said
    how it is used, and they chose to write it (Skip stores nothing).
    """
    return _typing(event, desk)


def wants(event: Event, actor: Actor) -> bool:
    """``/reflect`` and ``/summary`` in private, and the answers the bot is waiting for."""
    if event.group is not None:
        return False
    return words(event)[0] in COMMANDS or _typing(event, actor.desk)


def handle(state: SessionState | None, event: Event, actor: Actor, ctx: Context) -> Transition:
    """A reflection answer, or the facilitator's decision on the summary."""
    name, args = words(event)
    desk = actor.desk
    if isinstance(event, MessagePosted):
        if desk.summary is not None and desk.summary.editing:
            edited = replace(desk.summary, text=event.text.strip(), editing=False)
            return Transition(state, (preview(actor, edited, ctx),), effects=_draft(actor, edited))
        return _answer(state, event.text.strip(), actor, ctx)
    if name == "summary":
        return _summary(state, args, actor, ctx)
    reflection = desk.reflection
    if reflection is None or reflection.pending is None:
        return say(state, actor, ctx.t("reflect.none"))
    if args[:1] == ("skip",):
        return _answer(state, "", actor, ctx)
    return Transition(state, (ask(actor, reflection, ctx),))


def closing(ended: SessionState, actor: Actor, ctx: Context) -> Transition:
    """At a session's end: the first reflection question, and a summary to review."""
    if not actor.person.user_id or ended.session_id is None:
        return Transition(ended)  # nobody to ask (the session ended by itself)
    reflection = Reflection(ended.session_id, ended.group, ctx.now)
    summary = SummaryRequested(actor.person, ended.group, ended.session_id)
    return Transition(
        ended,
        (ask(actor, reflection, ctx, ctx.t("reflect.intro")),),
        (ReflectionSaved(actor.person, reflection, ctx.now),),
        (summary,),
    )


def ask(actor: Actor, reflection: Reflection, ctx: Context, lead: str = "") -> SendPrivate:
    """The reflection question waiting for an answer, with a button to skip it."""
    number = reflection.pending or 0
    question = ctx.t(
        f"reflect.{REFLECTION_QUESTIONS[number]}",
        number=number + 1,
        count=len(REFLECTION_QUESTIONS),
    )
    text = "\n\n".join(p for p in (lead, question) if p)
    skip = Button(ctx.t("reflect.skip_button"), "reflect skip", "/reflect skip")
    return SendPrivate(actor.person, text, buttons=(skip,))


def preview(actor: Actor, draft: SummaryDraft, ctx: Context) -> SendPrivate:
    """The summary as it would be posted, with Post, Edit and Skip."""
    buttons = tuple(
        Button(ctx.t(f"summary.{word}_button"), f"summary {word}", f"/summary {word}")
        for word in ("post", "edit", "skip")
    )
    text = f"{ctx.t('summary.review')}\n\n{draft.text}"
    return SendPrivate(actor.person, text, buttons=buttons)


def show(state: SessionState, args: tuple[str, ...], actor: Actor, ctx: Context) -> Transition:
    """``/show [STEP]``: a chart of a choice step's answers for the group (the latest one)."""
    script = ctx.script(state.script_id, state.content_version)
    if not state.live or state.session_id is None or script is None:
        return say(state, actor, ctx.t("session.none"))
    ballots = chart_ballots(state, script, args)
    if ballots is None:
        return say(state, actor, ctx.t("show.no_choice"))
    return Transition(
        state,
        effects=(
            ChartRequested(
                state.group, state.session_id, script.id, ballots, version=state.content_version
            ),
        ),
    )


def chart_ballots(
    state: SessionState, script: Script, args: tuple[str, ...]
) -> tuple[str, ...] | None:
    """The answers a chart shows: of the step named, else the latest one asked so far."""
    if args:
        wanted = args[0]
        number = int(wanted) - 1 if wanted.isdecimal() and wanted.isascii() else None
        index = number if number is not None else script.index_of(wanted)
        indexes = [index] if index is not None and 0 <= index < len(script.steps) else []
    else:
        indexes = list(range(min(state.step_index, len(script.steps) - 1), -1, -1))
    for index in indexes:
        ballots = tuple(b.id for b in script.steps[index].ballots())
        if ballots:
            return ballots
    return None


def pulse(state: SessionState | None, turnout: Turnout, ctx: Context) -> str:
    """The counts of who replied, the time on the step, and a suggested next move."""
    counts = describe(turnout, ctx)
    script = ctx.script(state.script_id, state.content_version) if state else None
    if state is None or script is None or state.step_started_at is None or not state.live:
        return counts
    step = script.steps[min(state.step_index, len(script.steps) - 1)]
    elapsed = int((ctx.now - state.step_started_at).total_seconds() // 60)
    minutes = step.minutes
    if minutes:
        time = ctx.t("pulse.time", elapsed=elapsed, minutes=minutes)
    else:
        time = ctx.t("pulse.time_untimed", elapsed=elapsed)
    over = minutes is not None and elapsed >= minutes
    replied, consented = turnout.replied, turnout.consented
    if state.status is Status.PAUSED:
        move = ctx.t("pulse.paused")
    elif step.kind in QUIET_KINDS:
        move = ctx.t("pulse.read_over" if over else "pulse.read")
    elif consented == 0:
        move = ctx.t("pulse.invite")
    elif replied >= consented:
        move = ctx.t("pulse.all", replied=replied, consented=consented)
    elif minutes is None:
        move = ctx.t("pulse.untimed", replied=replied, consented=consented)
    elif not over:
        left = ctx.n("count.minutes", minutes - elapsed)
        move = ctx.t("pulse.more_time", replied=replied, consented=consented, left=left)
    else:
        key = "pulse.over_quiet" if 2 * replied < consented else "pulse.over"
        planned = ctx.n("count.minutes", minutes)
        move = ctx.t(key, replied=replied, consented=consented, minutes=planned)
    return "\n".join((counts, time, move))


def _answer(state: SessionState | None, text: str, actor: Actor, ctx: Context) -> Transition:
    reflection = actor.desk.reflection
    if reflection is None or reflection.pending is None:
        return say(state, actor, ctx.t("reflect.none"))
    answers = list(reflection.answers)
    answers[reflection.pending] = text
    answered = replace(reflection, answers=tuple(answers))
    saved = ReflectionSaved(actor.person, answered, ctx.now)
    if answered.pending is None:
        return Transition(state, (SendPrivate(actor.person, ctx.t("reflect.thanks")),), (saved,))
    return Transition(state, (ask(actor, answered, ctx),), (saved,))


def _summary(
    state: SessionState | None, args: tuple[str, ...], actor: Actor, ctx: Context
) -> Transition:
    draft = actor.desk.summary
    if draft is None:
        return say(state, actor, ctx.t("summary.none"))
    word = args[0].lower() if args else ""
    if word == "post":
        posted = SendText(draft.group, draft.text)
        done = SendPrivate(actor.person, ctx.t("summary.posted"))
        return Transition(state, (posted, done), effects=_draft(actor, None))
    if word == "skip":
        done = SendPrivate(actor.person, ctx.t("summary.skipped"))
        return Transition(state, (done,), effects=_draft(actor, None))
    if word == "edit" and len(args) > 1:
        edited = replace(draft, text=" ".join(args[1:]), editing=False)
        return Transition(state, (preview(actor, edited, ctx),), effects=_draft(actor, edited))
    if word == "edit":
        editing = replace(draft, editing=True)
        asked = SendPrivate(actor.person, ctx.t("summary.send_text"))
        return Transition(state, (asked,), effects=_draft(actor, editing))
    return Transition(state, (preview(actor, draft, ctx),))


def _draft(actor: Actor, draft: SummaryDraft | None) -> tuple[SummaryChanged]:
    return (SummaryChanged(actor.person, draft),)
