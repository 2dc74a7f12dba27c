"""What participants say in a running session: messages, votes, edits and deletions.

Each becomes a capture, but only for people who agreed to take part; anyone else is invited
(once per chat) instead, and told each time an answer of theirs was not recorded.
"""

from __future__ import annotations

from bot.content.models import QUESTION_SEPARATOR, Step
from bot.content.scopes import REQUIRED_SCOPE
from bot.core.actions import Button, SendPrivate
from bot.core.captures import ResponseCaptured, ResponseDeleted, ResponseEdited, VoteCaptured
from bot.core.context import Actor, Context, Transition, private, reply
from bot.core.effects import Invited, TallyChanged
from bot.core.events import MessageDeleted, MessageEdited, MessagePosted
from bot.core.state import SessionState, Status
from bot.core.text import says_nothing

UNCAPTURED_KINDS = frozenset({"break"})


def message(
    state: SessionState | None, event: MessagePosted, actor: Actor, ctx: Context
) -> Transition:
    """A message in a group: captured if the session is running and the author consented."""
    if state is None or event.group is None or state.status is not Status.RUNNING:
        if event.group is None:
            return reply(state, actor, ctx.t("help.private"))
        return Transition(state)
    if not consented(actor):
        return _invite(state, actor, ctx)
    current = current_step(state, ctx)
    if current is None or current.kind in UNCAPTURED_KINDS or state.session_id is None:
        return Transition(state)
    if says_nothing(event):
        return Transition(state)
    # By position, in the fields' order: this runs for every reply, and a frozen dataclass
    # called with keywords costs about half as much again.
    capture = ResponseCaptured(
        state.session_id,
        event.person,
        event.group,
        current.id,
        event.message_id,
        event.text,
        event.at,
        event.reply_to,
        event.kind,
        None,  # original_length: set by the service if it cut the text
        ctx.language,
    )
    return Transition(state, (), (capture,))


def edited(state: SessionState | None, event: MessageEdited, actor: Actor) -> Transition:
    """A message edited in a group: the new words are captured if the author consented."""
    if event.group is None or not consented(actor):
        return Transition(state)
    edit = ResponseEdited(event.person, event.group, event.message_id, event.text, event.at)
    return Transition(state, captures=(edit,))


def deleted(state: SessionState | None, event: MessageDeleted) -> Transition:
    """A message deleted in a group: whatever was captured of it goes too."""
    if event.group is None:
        return Transition(state)
    gone = ResponseDeleted(event.group, event.message_id, event.at, event.person)
    return Transition(state, captures=(gone,))


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
    current = current_step(state, ctx) if state and state.status is Status.RUNNING else None
    if state is None or current is None or current.kind not in ("choice", "feedback"):
        key = "vote.not_open" if step_id else "vote.no_question"
        return reply(state, actor, ctx.t(key))
    # A feedback step asks several questions: each is a ballot of its own ("STEP.QUESTION").
    ballot = next((b for b in current.ballots() if b.id == (step_id or current.id)), None)
    if ballot is None:
        asked = step_id is None or step_id.startswith(f"{current.id}{QUESTION_SEPARATOR}")
        if current.kind == "feedback" and asked:
            first = current.ballots()[0].id.rpartition(QUESTION_SEPARATOR)[2]
            return reply(state, actor, ctx.t("feedback.vote_usage", id=first))
        return reply(state, actor, ctx.t("vote.not_open"))
    picked = chosen(ballot, options, toggle, actor, ctx)
    if isinstance(picked, str):
        return reply(state, actor, picked)
    if not consented(actor):
        return _not_recorded(state, actor, ctx)
    assert state.session_id is not None
    # The answers by their words in the voter's language (the same options, in the same order).
    theirs = ctx.script(state.script_id, state.content_version, ctx.language)
    choices = ((theirs and theirs.ballot(ballot.id)) or ballot).choices()
    capture = VoteCaptured(state.session_id, actor.person, state.group, ballot.id, picked, ctx.now)
    answer = "; ".join(choices[n - 1] for n in picked)
    tally = TallyChanged(state.group, state.session_id, ballot.id, current.tally == "group")
    thanks = private(actor, ctx.t("vote.recorded", answer=answer))
    return Transition(state, (thanks,), (capture,), (tally,))


def chosen(
    ballot: Step, options: tuple[int, ...], toggle: bool, actor: Actor, ctx: Context
) -> tuple[int, ...] | str:
    """The answers a vote on ``ballot`` stands for, sorted; or what to tell a wrong vote.

    A toggle flips the options given in the person's current answer (multiple choice).
    """
    choices = ballot.choices()
    if not options or any(not 1 <= n <= len(choices) for n in options):
        return ctx.t("vote.usage", count=len(choices))
    if toggle and ballot.multiple:
        options = tuple(sorted(set(actor.current_vote) ^ set(options)))
        if not options:
            return ctx.t("vote.keep_one")
    if len(options) > 1 and not ballot.multiple:
        return ctx.t("vote.one_only")
    return tuple(sorted(set(options)))


def current_step(state: SessionState | None, ctx: Context) -> Step | None:
    """The step the session is at, if its script is still there."""
    script = ctx.script(state.script_id, state.content_version) if state else None
    if state is None or script is None or not 0 <= state.step_index < len(script.steps):
        return None
    return script.steps[state.step_index]


def consented(actor: Actor) -> bool:
    """Whether the person agreed to take part, so what they say may be captured."""
    return REQUIRED_SCOPE in actor.scopes


def _invite(state: SessionState, actor: Actor, ctx: Context) -> Transition:
    if actor.invited or actor.group is None:
        return Transition(state)
    invitation = SendPrivate(
        actor.person, ctx.t("consent.invite"), actor.group, (join_button(ctx),), asks_consent=True
    )
    return Transition(state, (invitation,), effects=(Invited(actor.person, actor.group),))


def _not_recorded(state: SessionState, actor: Actor, ctx: Context) -> Transition:
    """An answer from someone without consent: told each time it was not recorded, and how.

    Only the first time does it stand for their invitation, so a message later brings none.
    """
    note = SendPrivate(
        actor.person,
        ctx.t("vote.not_consented"),
        actor.group,
        (join_button(ctx),),
        asks_consent=True,
    )
    invited = () if actor.invited or actor.group is None else (Invited(actor.person, actor.group),)
    return Transition(state, (note,), effects=invited)


def join_button(ctx: Context) -> Button:
    """The button that leads to consent; pressed in a group, to the private chat about it."""
    return Button(ctx.t("session.join_button"), "consent", "/consent", private=True)
