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
from bot.core import groups, languages, profile, showing, support
from bot.core.actions import Action, SendImage, SendPrivate, SendText
from bot.core.captures import ResponseDeleted
from bot.core.context import Actor, Context, Transition
from bot.core.desk import DONE, STOPPED, SummaryDraft
from bot.core.direct import is_direct
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
from bot.core.records import (
    Erasure,
    PersonData,
    Place,
    ResponseRecord,
    SessionHeard,
    Turnout,
    VoteRecord,
)
from bot.core.showing import Disclosed
from bot.core.solo_view import offered
from bot.core.state import SessionState
from bot.core.text import gist


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
            return Transition(None, (SendPrivate(person, erased(erasure, ctx)),))
        case RoleSet(change=change, changed=changed):
            name = change.name or change.person.user_id
            if change.granted:
                key = "facilitator.granted"
            else:
                key = "facilitator.revoked" if changed else "facilitator.not_a_facilitator"
            return Transition(None, (SendText(change.group, ctx.group_t(key, name=name)),))
        case (
            SummaryLoaded(request=asked, disclosed=None)
            | ChartsDrawn(request=asked, disclosed=None)
        ):
            # Nothing of the session may be shown: the one who asked is told so, in the group.
            say = ctx.to_group() if asked.person is None else ctx
            withheld = SendText(asked.group, say.t("show.withheld"), person=asked.person)
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
        replies = ctx.n("count.replies", len(responses))
        text = ctx.t("forget.no_such", number=number, replies=replies)
        return Transition(None, (SendPrivate(person, text),))
    chosen = responses[number - 1]
    gone = ResponseDeleted(chosen.group, chosen.message_id, ctx.now, person)
    text = ctx.t("forget.done_number", number=number, question=_question(chosen, ctx))
    return Transition(None, (SendPrivate(person, text),), (gone,))


def _tally(loaded: TallyLoaded, ctx: Context) -> Transition:
    # A public tally goes to the group, in its language; otherwise only the session's lead
    # sees it, in theirs.
    change, state, lead = loaded.change, loaded.session, loaded.lead
    if not change.public and lead is None:
        return Transition(None)
    say = ctx.to_group() if change.public or lead is None else ctx.speaking(ctx.language_of(lead))
    script = say.script(state.script_id, state.content_version, say.language) if state else None
    index = script.index_of(change.step_id) if script else None
    if script is None or index is None:
        return Transition(None)
    text = groups.tally_text(script.steps[index], loaded.answers, say)
    slot = f"tally:{change.session_id}:{change.step_id}"
    if change.public or lead is None:
        return Transition(None, (SendText(change.group, text, slot=slot),))
    return Transition(None, (SendPrivate(lead, text, change.group, slot=slot),))


def _summary(loaded: SummaryLoaded, disclosed: Disclosed, ctx: Context) -> Transition:
    # The facilitator who ended the session reviews it before the group sees it.
    asked = loaded.request
    text = showing.summary_text(loaded.script, loaded.heard, disclosed, ctx.group_t)
    if text is None:
        return Transition(None)  # nobody took part: nothing to summarise
    draft = SummaryDraft(asked.group, asked.session_id, text)
    preview = support.preview(Actor(asked.person), draft, ctx)
    return Transition(None, (preview,), effects=(SummaryChanged(asked.person, draft),))


def _charts(drawn: ChartsDrawn, disclosed: Disclosed, ctx: Context) -> tuple[Action, ...]:
    # Each picture, then its numbers in text; privately to ``person`` when the request names one.
    asked, actions = drawn.request, list[Action]()
    say = ctx.to_group() if asked.person is None else ctx
    for step, png in drawn.pictures:
        words = showing.chart_words(step, disclosed.ballots[step.id], disclosed.threshold, say.t)
        actions.append(SendImage(asked.group, png, words.alt, f"chart-{step.id}", asked.person))
        actions.append(SendText(asked.group, words.text, person=asked.person))
    return tuple(actions)


def describe(data: PersonData, ctx: Context) -> str:
    """What is stored about a person, in their language, for /mydata."""
    stored = (data.consents, data.responses, data.votes, data.profile, data.places)
    if not any(stored) and not data.reflections:
        return ctx.t("mydata.none")
    lines = [ctx.t("mydata.header")]
    if data.language is not None:
        lines.append(ctx.t("mydata.language", name=languages.name(data.language, ctx)))
    for group, record in data.consents:
        agreed = {
            "scopes": ", ".join(sorted(record.scopes)),
            "version": record.version,
            "when": ctx.texts.date(ctx.language, record.given_at),
        }
        if is_direct(group):
            lines.append(ctx.t("mydata.consent_solo", **agreed))
        else:
            where = record.group_title or ctx.t("mydata.a_group")
            lines.append(ctx.t("mydata.consent", group=where, **agreed))
    lines += _replies(data.responses, ctx)
    if data.votes:
        lines.append(ctx.t("mydata.votes", count=len(data.votes)))
        lines += [_vote(vote, ctx) for vote in data.votes]
    lines += profile.mydata_lines(data.profile, ctx)
    lines += [_place(place, ctx) for place in data.places]
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
                question=_question(response, ctx),
                text=response.text,
                edited=edited,
            )
        )
    return lines


def erased(erasure: Erasure, ctx: Context) -> str:
    """What a withdrawal erased, each kind counted in words."""
    counted = (
        ("count.replies", erasure.responses),
        ("count.answers", erasure.votes),
        ("count.profile_answers", erasure.profile),
    )
    parts = [ctx.t("withdraw.erased_line", what=ctx.n(key, n)) for key, n in counted if n]
    if parts:
        return ctx.t("withdraw.done", erased="\n".join(parts))
    if erasure.consents:
        return ctx.t("withdraw.done_consent")
    return ctx.t("withdraw.nothing")


def _ballot(record: ResponseRecord | VoteRecord, ctx: Context) -> Step | None:
    """The step (or feedback question) a stored reply or answer was given to, if still known.

    In the language of the person it is shown to.
    """
    script = ctx.script(record.script_id, record.content_version, ctx.language)
    if script is None:
        return None
    index = script.index_of(record.step_id)  # a feedback question's id is no step's
    return script.ballot(record.step_id) if index is None else script.steps[index]


def _question(record: ResponseRecord | VoteRecord, ctx: Context) -> str:
    step = _ballot(record, ctx)
    if step is None:
        return ctx.t("mydata.unknown_question")
    # What a resident alone was shown, where the step words it for them.
    alone = is_direct(record.group) and step.self_paced_text
    return gist(step.self_paced_text if alone else step.text)


def _vote(vote: VoteRecord, ctx: Context) -> str:
    """One stored answer: the question and the chosen answers, by their words."""
    step = _ballot(vote, ctx)
    choices = step.choices() if step is not None else ()
    answers = [choices[n - 1] if 0 < n <= len(choices) else str(n) for n in vote.options]
    return ctx.t("mydata.vote", question=_question(vote, ctx), answers="; ".join(answers))


def _place(place: Place, ctx: Context) -> str:
    """Where the person is in a conversation on their own, by its title and step."""
    script = ctx.script(place.script_id, place.content_version, ctx.language)
    if script is None:
        return ctx.t("mydata.place_done", title=ctx.t("mydata.unknown_conversation"))
    if place.status == DONE:
        return ctx.t("mydata.place_done", title=script.title)
    steps = offered(script)
    number = sum(1 for n in steps if n <= place.step_index)
    key = "mydata.place_stopped" if place.status == STOPPED else "mydata.place"
    return ctx.t(key, title=script.title, number=max(number, 1), count=len(steps))
