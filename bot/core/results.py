"""What the service read or did for an effect, handed back to the engine as a result event.

The engine cannot read the database, so it asks with effects (``bot.core.effects``); the
service reads what an effect needs (or does the write only it can do) and hands the outcome
back here. ``settle`` decides what follows, by the same rules and in the same words as the
rest of the core: who sees a tally, which reply ``/forget 2`` means, what ``/mydata`` says.
"""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass

from bot.content.models import Script, Step
from bot.core import groups, profile, showing, support
from bot.core.actions import Action, SendImage, SendPrivate, SendText
from bot.core.captures import ResponseDeleted
from bot.core.context import Actor, Context, Transition
from bot.core.desk import SummaryDraft
from bot.core.effects import (
    ChartRequested,
    ForgetRequested,
    RoleChanged,
    SummaryChanged,
    SummaryRequested,
    TallyChanged,
    TurnoutRequested,
)
from bot.core.ids import PersonRef
from bot.core.records import Erasure, PersonData, ResponseRecord, SessionHeard, Turnout
from bot.core.showing import Disclosed
from bot.core.state import SessionState


@dataclass(frozen=True, slots=True)
class DataLoaded:
    """What is stored about a person who asked to see it."""

    person: PersonRef
    data: PersonData


@dataclass(frozen=True, slots=True)
class RepliesLoaded:
    """The stored replies of a person who asked to remove one, in ``/mydata``'s order."""

    request: ForgetRequested
    responses: tuple[ResponseRecord, ...]


@dataclass(frozen=True, slots=True)
class TurnoutCounted:
    """The counts of who replied, for a facilitator who asked."""

    request: TurnoutRequested
    counts: Turnout
    # The session asked about, as the service holds it (None: it is gone).
    session: SessionState | None


@dataclass(frozen=True, slots=True)
class TallyLoaded:
    """Everyone's current answers to a choice step whose tally changed, and the session's lead."""

    change: TallyChanged
    answers: tuple[tuple[int, ...], ...]
    lead: PersonRef | None
    # The session whose step it is, as the service holds it (None: it is gone).
    session: SessionState | None


@dataclass(frozen=True, slots=True)
class Erased:
    """A person's data was erased, as they asked; how much of it there was."""

    person: PersonRef
    erasure: Erasure


@dataclass(frozen=True, slots=True)
class RoleSet:
    """A facilitator role was granted or revoked; ``changed`` False: there was none to revoke."""

    change: RoleChanged
    changed: bool


@dataclass(frozen=True, slots=True)
class SummaryLoaded:
    """What an ended session heard, and what the disclosure policy lets its summary show.

    ``disclosed`` None: the policy's audit failed, and nothing of the session may be shown.
    """

    request: SummaryRequested
    script: Script
    heard: SessionHeard
    disclosed: Disclosed | None


@dataclass(frozen=True, slots=True)
class ChartsDrawn:
    """The charts asked for, each question with its picture, drawn by the policy's decision.

    ``disclosed`` None: the policy's audit failed, and nothing was drawn.
    """

    request: ChartRequested
    disclosed: Disclosed | None
    pictures: tuple[tuple[Step, bytes], ...]


Result = (
    DataLoaded
    | RepliesLoaded
    | TurnoutCounted
    | TallyLoaded
    | Erased
    | RoleSet
    | SummaryLoaded
    | ChartsDrawn
)


def answers_asker(result: Result) -> bool:
    """Whether what follows ``result`` answers the event that asked for it.

    A tally and a role change are news for the lead or the group, not a reply to the vote or
    command that led to them; a summary to review and charts come after what answered the
    command that ended or showed the session. The rest answer the person who asked.
    """
    return not isinstance(result, TallyLoaded | RoleSet | SummaryLoaded | ChartsDrawn)


def settle(result: Result, ctx: Context) -> Transition:
    """What follows from an effect's outcome: what to say and store (no session changes)."""
    match result:
        case DataLoaded(person=person, data=data):
            return Transition(None, (SendPrivate(person, describe(data, ctx)),))
        case RepliesLoaded():
            return _forget(result, ctx)
        case TurnoutCounted(request=asked, counts=counts, session=session):
            text = support.pulse(session, counts, ctx)
            return Transition(None, (SendPrivate(asked.person, text, asked.group),))
        case TallyLoaded():
            return _tally(result, ctx)
        case Erased(person=person, erasure=erasure):
            if erasure.responses or erasure.votes or erasure.consents:
                text = ctx.t("withdraw.done", responses=erasure.responses, votes=erasure.votes)
            else:
                text = ctx.t("withdraw.nothing")
            return Transition(None, (SendPrivate(person, text),))
        case RoleSet(change=change, changed=changed):
            name = change.person.user_id
            if change.granted:
                key = "facilitator.granted"
            else:
                key = "facilitator.revoked" if changed else "facilitator.not_a_facilitator"
            return Transition(None, (SendText(change.group, ctx.t(key, name=name)),))
        case (
            SummaryLoaded(request=asked, disclosed=None)
            | ChartsDrawn(request=asked, disclosed=None)
        ):
            # Nothing of the session may be shown: the one who asked is told so, in the group.
            withheld = SendText(asked.group, ctx.t("show.withheld"), person=asked.person)
            return Transition(None, (withheld,))
        case SummaryLoaded(disclosed=Disclosed() as disclosed):
            return _summary(result, disclosed, ctx)
        case ChartsDrawn(disclosed=Disclosed() as disclosed):
            return Transition(None, _charts(result, disclosed, ctx))
    return Transition(None)


def _forget(loaded: RepliesLoaded, ctx: Context) -> Transition:
    # Numbered as /mydata numbers them, from 1.
    person, number, responses = loaded.request.person, loaded.request.number, loaded.responses
    if not 1 <= number <= len(responses):
        text = ctx.t("forget.no_such", number=number, count=len(responses))
        return Transition(None, (SendPrivate(person, text),))
    chosen = responses[number - 1]
    gone = ResponseDeleted(chosen.group, chosen.message_id, ctx.now, person)
    text = ctx.t("forget.done_number", number=number, step=chosen.step_id)
    return Transition(None, (SendPrivate(person, text),), (gone,))


def _tally(loaded: TallyLoaded, ctx: Context) -> Transition:
    # A public tally goes to the group; otherwise only the session's lead sees it.
    change, state = loaded.change, loaded.session
    script = ctx.script(state.script_id, state.content_version) if state else None
    index = script.index_of(change.step_id) if script else None
    if script is None or index is None:
        return Transition(None)
    text = groups.tally_text(script.steps[index], loaded.answers, ctx)
    slot = f"tally:{change.session_id}:{change.step_id}"
    if change.public:
        return Transition(None, (SendText(change.group, text, slot=slot),))
    if loaded.lead is not None:
        return Transition(None, (SendPrivate(loaded.lead, text, change.group, slot=slot),))
    return Transition(None)


def _summary(loaded: SummaryLoaded, disclosed: Disclosed, ctx: Context) -> Transition:
    # The facilitator who ended the session reviews it before the group sees it.
    asked = loaded.request
    text = showing.summary_text(loaded.script, loaded.heard, disclosed, ctx.t)
    if text is None:
        return Transition(None)  # nobody took part: nothing to summarise
    draft = SummaryDraft(asked.group, asked.session_id, text)
    preview = support.preview(Actor(asked.person), draft, ctx)
    return Transition(None, (preview,), effects=(SummaryChanged(asked.person, draft),))


def _charts(drawn: ChartsDrawn, disclosed: Disclosed, ctx: Context) -> tuple[Action, ...]:
    # Each picture, then its numbers in text; privately to ``person`` when the request names one.
    asked, actions = drawn.request, list[Action]()
    for step, png in drawn.pictures:
        words = showing.chart_words(step, disclosed.ballots[step.id], disclosed.threshold, ctx.t)
        actions.append(SendImage(asked.group, png, words.alt, f"chart-{step.id}", asked.person))
        actions.append(SendText(asked.group, words.text, person=asked.person))
    return tuple(actions)


def describe(data: PersonData, ctx: Context) -> str:
    """What is stored about a person, in their language, for /mydata."""
    stored = (data.consents, data.responses, data.votes, data.profile, data.places)
    if not any(stored) and not data.reflections:
        return ctx.t("mydata.none")
    lines = [ctx.t("mydata.header")]
    for group, record in data.consents:
        lines.append(
            ctx.t(
                "mydata.consent",
                group=group.chat_id,
                scopes=", ".join(sorted(record.scopes)),
                version=record.version,
                when=ctx.texts.date(ctx.language, record.given_at),
            )
        )
    lines += _replies(data.responses, ctx)
    if data.votes:
        lines.append(ctx.t("mydata.votes", count=len(data.votes)))
        for vote in data.votes:
            options = ", ".join(str(n) for n in vote.options)
            lines.append(ctx.t("mydata.vote", step=vote.step_id, options=options))
    lines += profile.mydata_lines(data.profile, ctx)
    for cycle, number, status in data.places:
        lines.append(ctx.t("mydata.place", cycle=cycle, number=number, status=status))
    for answers in data.reflections:
        said = " / ".join(a or "-" for a in answers)
        lines.append(ctx.t("mydata.reflection", answers=said))
    lines.append(ctx.t("mydata.footer"))
    return "\n".join(lines)


def _replies(responses: Sequence[ResponseRecord], ctx: Context) -> list[str]:
    if not responses:
        return []
    lines = [ctx.t("mydata.responses", count=len(responses))]
    for number, response in enumerate(responses, start=1):
        edited = ctx.t("mydata.edited") if response.edited_at else ""
        lines.append(
            ctx.t(
                "mydata.response",
                number=number,
                step=response.step_id,
                text=response.text,
                edited=edited,
            )
        )
    return lines
