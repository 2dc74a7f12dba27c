"""The pure engine, driven with the shipped script, cards, consent text and message catalogue.

Each test is a table of (state, event, actor) -> expected transition. Participant-facing text is
compared with the catalogue, never with English written here, so rewording a message does not
break a test but showing the wrong message does.
"""

from __future__ import annotations

import hashlib
import re
from dataclasses import replace
from datetime import UTC, datetime, timedelta
from typing import Any

import pytest

from bot.content.check import Library, load_library
from bot.content.models import SCOPES, Script, Step
from bot.core import consent, engine
from bot.core.actions import AskChoice, Button, SendCard, SendPrivate, SendText
from bot.core.captures import (
    CardShown,
    ConsentRecorded,
    ContentUsed,
    ReflectionSaved,
    ResponseCaptured,
    ResponseDeleted,
    ResponseEdited,
    SessionSaved,
    VoteCaptured,
)
from bot.core.context import Actor, Context, Transition
from bot.core.desk import Reflection
from bot.core.effects import (
    DataRequested,
    ErasureRequested,
    Invited,
    RoleChanged,
    SummaryRequested,
    TurnoutRequested,
)
from bot.core.events import (
    ButtonPressed,
    CommandIssued,
    Event,
    MessageDeleted,
    MessageEdited,
    MessagePosted,
    VoteCast,
)
from bot.core.ids import GroupRef, PersonRef
from bot.core.state import SessionState, Status
from bot.texts import Catalogue
from tests.support.cli import ROOT

SCRIPT_ID = "health-data-intro"
NOW = datetime(2025, 3, 4, 18, 30, tzinfo=UTC)
GROUP = GroupRef("console", "g")
FRAN = PersonRef("console", "fran")  # the group's facilitator
ALICE = PersonRef("console", "alice")  # a participant
PARTICIPATE = frozenset({"participate"})


# --- the world the engine runs in ------------------------------------------------------------


@pytest.fixture(scope="session")
def library() -> Library:
    return load_library(ROOT)


@pytest.fixture(scope="session")
def ctx(library: Library) -> Context:
    return Context(library, Catalogue.load(), NOW, cycle_id="default")


@pytest.fixture(scope="session")
def script(library: Library) -> Script:
    return library.scripts[SCRIPT_ID]


def facilitator(group: GroupRef | None = GROUP) -> Actor:
    return Actor(FRAN, group, PARTICIPATE, facilitator=True)


def participant(
    scopes: frozenset[str] = PARTICIPATE, *, invited: bool = False, group: GroupRef | None = GROUP
) -> Actor:
    return Actor(ALICE, group, scopes, invited=invited)


def staff() -> Actor:
    return Actor(PersonRef("console", "sam"), GROUP, staff=True)


def cmd(name: str, *args: str, actor: Actor | None = None) -> CommandIssued:
    who = actor or facilitator()
    return CommandIssued(who.person, who.group, name, args, NOW)


def said(text: str = "I worry about who sees it", message_id: str = "m1") -> MessagePosted:
    return MessagePosted(ALICE, GROUP, message_id, text, NOW, reply_to="m0")


def started(ctx: Context) -> SessionState:
    """A session as /start leaves it: running, at the first step."""
    state = engine.step(SessionState(GROUP), cmd("start", SCRIPT_ID), facilitator(), ctx).state
    assert state is not None
    return state


def at(ctx: Context, step_id: str, status: Status = Status.RUNNING) -> SessionState:
    """A started session moved to ``step_id`` with ``status``."""
    index = ctx.library.scripts[SCRIPT_ID].index_of(step_id)
    assert index is not None, step_id
    return replace(started(ctx), step_index=index, status=status)


def step_of(ctx: Context, state: SessionState | None) -> Step:
    assert state is not None
    return ctx.library.scripts[SCRIPT_ID].steps[state.step_index]


def only_private(transition: Transition, actor: Actor) -> str:
    """The text of the one private message a transition sends, checking it goes to ``actor``."""
    assert len(transition.actions) == 1, transition.actions
    (reply,) = transition.actions
    assert isinstance(reply, SendPrivate)
    assert reply.person == actor.person
    return reply.text


def assert_refused(transition: Transition, before: SessionState | None, actor: Actor) -> str:
    """Nothing changes, nothing is stored or done; one private reply to the actor is returned."""
    assert transition.state == before
    assert transition.captures == ()
    assert transition.effects == ()
    return only_private(transition, actor)


def test_the_shipped_script_is_the_one_these_tables_describe(script: Script) -> None:
    # The tables below name steps by id, by 1-based number and by their options; if the script
    # is edited, update them together.
    kinds = {s.id: s.kind for s in script.steps}
    assert len(script.steps) == 17
    assert (script.steps[0].id, script.steps[11].id, script.steps[-1].id) == (
        "welcome",
        "trust-scale",
        "close",
    )
    assert kinds["break"] == "break" and kinds["first-thoughts"] == "prompt"
    assert len(script.steps[script.index_of("research-comfort") or 0].options) == 6


# --- /start ----------------------------------------------------------------------------------


@pytest.mark.parametrize(
    "before",
    [
        pytest.param(SessionState(GROUP), id="fresh-group"),
        pytest.param(
            SessionState(
                GROUP,
                Status.ENDED,
                "old",
                "c0",
                SCRIPT_ID,
                "0.9",
                7,
                NOW - timedelta(days=7),
                NOW - timedelta(days=7),
                NOW - timedelta(days=7),
            ),
            id="after-an-ended-session",
        ),
    ],
)
def test_start_by_a_facilitator_opens_a_running_session_at_the_first_step(
    before: SessionState, ctx: Context, script: Script
) -> None:
    actor = facilitator()
    result = engine.step(before, cmd("start", SCRIPT_ID), actor, ctx)

    state = result.state
    assert state is not None
    assert state.status is Status.RUNNING
    assert state.step_index == 0
    assert state.session_id and state.session_id != "old"
    assert (state.cycle_id, state.script_id, state.script_version) == (
        "default",
        SCRIPT_ID,
        script.version,
    )
    assert state.started_at == state.step_started_at == NOW
    assert state.ended_at is None
    ran = ctx.library.version(script)
    assert state.content_version == ran.digest
    assert result.captures == (ContentUsed(ran, NOW), SessionSaved(state))
    assert result.effects == ()

    welcome, join, first, notes = result.actions
    assert welcome == SendText(
        GROUP,
        ctx.t(
            "session.started",
            title=script.title,
            minutes=ctx.n("count.minutes", script.estimated_minutes),
        ),
    )
    assert isinstance(join, SendText) and join.group == GROUP
    assert join.text == ctx.t("session.join")
    assert [b.command for b in join.buttons] == ["/consent"]
    assert join.buttons[0].label == ctx.t("session.join_button")
    assert first == SendText(GROUP, script.steps[0].text)
    assert isinstance(notes, SendPrivate)
    assert (notes.person, notes.group) == (actor.person, GROUP)
    assert script.steps[0].facilitator_notes in notes.text
    assert notes.text.startswith(
        ctx.t(
            "facilitator.notes",
            number=1,
            count=len(script.steps),
            step=script.steps[0].id,
            kind=script.steps[0].kind,
            minutes=ctx.t("facilitator.minutes", minutes=script.steps[0].minutes),
            notes="",
        )
    )


def test_only_the_facilitator_gets_private_messages_when_a_session_starts(ctx: Context) -> None:
    result = engine.step(SessionState(GROUP), cmd("start", SCRIPT_ID), facilitator(), ctx)
    private = [a for a in result.actions if isinstance(a, SendPrivate)]
    assert [p.person for p in private] == [FRAN]


def _scripts(ctx: Context) -> str:
    return ", ".join(sorted(ctx.library.scripts))


START_REFUSALS: dict[str, tuple[str, str, tuple[str, ...], str, dict[str, Any]]] = {
    "by-a-participant": ("fresh", "participant", (SCRIPT_ID,), "facilitator.refused", {}),
    "unknown-script": (
        "fresh",
        "facilitator",
        ("nope",),
        "session.unknown_script",
        {"script": "nope"},
    ),
    "no-script-named": ("fresh", "facilitator", (), "session.start_usage", {"example": SCRIPT_ID}),
    "while-running": ("running", "facilitator", (SCRIPT_ID,), "session.already_running", {}),
    "while-paused": ("paused", "facilitator", (SCRIPT_ID,), "session.already_running", {}),
}


@pytest.mark.parametrize(
    ("before", "actor", "args", "key", "params"), START_REFUSALS.values(), ids=START_REFUSALS
)
def test_start_is_refused_politely_and_changes_nothing(
    before: str,
    actor: str,
    args: tuple[str, ...],
    key: str,
    params: dict[str, Any],
    ctx: Context,
    script: Script,
) -> None:
    state = {
        "fresh": SessionState(GROUP),
        "running": started(ctx),
        "paused": replace(started(ctx), status=Status.PAUSED),
    }[before]
    who = facilitator() if actor == "facilitator" else participant()
    result = engine.step(state, cmd("start", *args, actor=who), who, ctx)
    expected = ctx.t(key, command="start", title=script.title, scripts=_scripts(ctx), **params)
    assert assert_refused(result, state, who) == expected


def test_unknown_script_reply_lists_the_scripts_that_exist(ctx: Context) -> None:
    result = engine.step(SessionState(GROUP), cmd("start", "nope"), facilitator(), ctx)
    text = only_private(result, facilitator())
    for script_id in ctx.library.scripts:
        assert script_id in text


# --- moving through the script ---------------------------------------------------------------


def _last(ctx: Context) -> str:
    return ctx.library.scripts[SCRIPT_ID].steps[-1].id


RUN, PAUSE, END = Status.RUNNING, Status.PAUSED, Status.ENDED
MOVES: dict[str, tuple[str, Status, str, tuple[str, ...], str, Status]] = {
    "next": ("welcome", RUN, "next", (), "what-is-data", RUN),
    "back": ("first-thoughts", RUN, "back", (), "what-is-data", RUN),
    "goto-by-id": ("welcome", RUN, "goto", ("trust-scale",), "trust-scale", RUN),
    "goto-by-number": ("welcome", RUN, "goto", ("12",), "trust-scale", RUN),
    "goto-1-is-the-first-step": ("close", RUN, "goto", ("1",), "welcome", RUN),
    "goto-last-number": ("welcome", RUN, "goto", ("17",), "close", RUN),
    "skip-jumps-over-the-next-step": ("welcome", RUN, "skip", (), "first-thoughts", RUN),
    "pause": ("first-thoughts", RUN, "pause", (), "first-thoughts", PAUSE),
    "resume": ("first-thoughts", PAUSE, "resume", (), "first-thoughts", RUN),
    "end": ("first-thoughts", RUN, "end", (), "first-thoughts", END),
    "end-while-paused": ("first-thoughts", PAUSE, "end", (), "first-thoughts", END),
    "next-on-last-step-ends": ("close", RUN, "next", (), "close", END),
    "commands-ignore-case": ("welcome", RUN, "NEXT", (), "what-is-data", RUN),
}


@pytest.mark.parametrize(
    ("from_step", "status", "command", "args", "to_step", "to_status"), MOVES.values(), ids=MOVES
)
def test_facilitator_moves_the_session_and_every_change_is_saved(
    from_step: str,
    status: Status,
    command: str,
    args: tuple[str, ...],
    to_step: str,
    to_status: Status,
    ctx: Context,
) -> None:
    before = at(ctx, from_step, status)
    later = replace(ctx, now=NOW + timedelta(minutes=5))
    result = engine.step(before, cmd(command, *args), facilitator(), later)

    state = result.state
    assert state is not None
    assert step_of(ctx, state).id == to_step
    assert state.status is to_status
    assert (state.session_id, state.script_id, state.started_at) == (
        before.session_id,
        before.script_id,
        before.started_at,
    )
    saved, *shown = result.captures
    assert saved == SessionSaved(state)
    presented = step_of(ctx, state).cards if to_status is Status.RUNNING else ()
    session_id = state.session_id or ""
    if to_status is Status.ENDED:
        # The facilitator is asked to reflect, and gets a summary to review (test_support).
        reflection = Reflection(session_id, GROUP, later.now)
        assert shown == [ReflectionSaved(facilitator().person, reflection, later.now)]
        assert result.effects == (SummaryRequested(facilitator().person, GROUP, session_id),)
    else:
        assert shown == [
            CardShown(session_id, GROUP, to_step, card, "1", later.now) for card in presented
        ]
        assert result.effects == ()
    group_texts = [a.text for a in result.actions if isinstance(a, SendText)]
    if to_status is Status.ENDED:
        assert state.ended_at == later.now
        assert group_texts == [ctx.t("session.ended")]
    elif to_status is Status.PAUSED:
        assert group_texts == [ctx.t("session.paused")]
        assert state.step_started_at == before.step_started_at
    else:
        # The group is shown the step it is now on; the clock for the step restarts.
        assert state.step_started_at == later.now
        current = step_of(ctx, state)
        shown = [
            a
            for a in result.actions
            if (isinstance(a, SendText) and a.text == current.text)
            or (isinstance(a, AskChoice) and a.step_id == current.id)
        ]
        assert len(shown) == 1
        if command == "resume":
            assert group_texts[0] == ctx.t("session.resumed")


NAVIGATION_REFUSALS: dict[str, tuple[str, Status, str, tuple[str, ...], str, dict[str, Any]]] = {
    "back-on-first-step": ("welcome", RUN, "back", (), "session.first_step", {}),
    "next-while-paused": ("first-thoughts", PAUSE, "next", (), "session.is_paused", {}),
    "back-while-paused": ("first-thoughts", PAUSE, "back", (), "session.is_paused", {}),
    "skip-while-paused": ("first-thoughts", PAUSE, "skip", (), "session.is_paused", {}),
    "goto-while-paused": ("first-thoughts", PAUSE, "goto", ("close",), "session.is_paused", {}),
    "pause-while-paused": ("first-thoughts", PAUSE, "pause", (), "session.is_paused", {}),
    "resume-while-running": ("first-thoughts", RUN, "resume", (), "session.not_paused", {}),
    "goto-unknown-id": (
        "welcome",
        RUN,
        "goto",
        ("nowhere",),
        "session.unknown_step",
        {"step": "nowhere"},
    ),
    "goto-zero": ("welcome", RUN, "goto", ("0",), "session.unknown_step", {"step": "0"}),
    "goto-past-the-end": ("welcome", RUN, "goto", ("18",), "session.unknown_step", {"step": "18"}),
    "goto-negative": ("welcome", RUN, "goto", ("-1",), "session.unknown_step", {"step": "-1"}),
    "goto-without-a-step": ("welcome", RUN, "goto", (), "session.goto_usage", {}),
    "skip-on-second-to-last": (
        "feedback",
        RUN,
        "skip",
        (),
        "session.skip_last",
        {},
    ),
    "skip-on-last": ("close", RUN, "skip", (), "session.skip_last", {}),
    "next-after-end": ("first-thoughts", END, "next", (), "session.none", {}),
    "resume-after-end": ("first-thoughts", END, "resume", (), "session.none", {}),
}


@pytest.mark.parametrize(
    ("from_step", "status", "command", "args", "key", "params"),
    NAVIGATION_REFUSALS.values(),
    ids=NAVIGATION_REFUSALS,
)
def test_navigation_that_cannot_happen_is_refused_and_nothing_is_saved(
    from_step: str,
    status: Status,
    command: str,
    args: tuple[str, ...],
    key: str,
    params: dict[str, Any],
    ctx: Context,
    script: Script,
) -> None:
    before = at(ctx, from_step, status)
    result = engine.step(before, cmd(command, *args), facilitator(), ctx)
    expected = ctx.t(
        key,
        steps=", ".join(s.id for s in script.steps),
        example=_last(ctx),
        count=len(script.steps),
        **params,
    )
    assert assert_refused(result, before, facilitator()) == expected


NEEDS_A_SESSION: dict[str, tuple[str, str, str, str]] = {
    "next-before-start": ("fresh", "facilitator", "next", "session.none"),
    "end-before-start": ("fresh", "facilitator", "end", "session.none"),
    "next-by-a-participant": ("running", "participant", "next", "facilitator.refused"),
    "end-by-a-participant": ("running", "participant", "end", "facilitator.refused"),
    "status-by-a-participant": ("running", "participant", "status", "facilitator.refused"),
    "next-in-private-without-a-group": ("running", "private", "next", "session.in_group"),
}


@pytest.mark.parametrize(
    ("before", "actor", "command", "key"), NEEDS_A_SESSION.values(), ids=NEEDS_A_SESSION
)
def test_session_commands_need_a_session_a_group_and_a_facilitator(
    before: str, actor: str, command: str, key: str, ctx: Context
) -> None:
    state = SessionState(GROUP) if before == "fresh" else started(ctx)
    who = {
        "facilitator": facilitator(),
        "participant": participant(),
        "private": facilitator(group=None),
    }[actor]
    passed = None if actor == "private" else state
    result = engine.step(passed, cmd(command, actor=who), who, ctx)
    assert assert_refused(result, passed, who) == ctx.t(key, command=command)


def test_status_tells_the_facilitator_where_the_session_is(ctx: Context, script: Script) -> None:
    before = at(ctx, "trust-scale")
    later = replace(ctx, now=before.step_started_at + timedelta(minutes=3, seconds=30))
    result = engine.step(before, cmd("status"), facilitator(), later)
    # Who has spoken is counted in storage: the engine asks for it (see test_profile_storage).
    assert result.effects == (TurnoutRequested(FRAN, GROUP, str(before.session_id), "trust-scale"),)
    assert (result.state, result.captures) == (before, ())
    assert only_private(result, facilitator()) == ctx.t(
        "facilitator.status",
        title=script.title,
        version=script.version,
        state="running",
        number=12,
        count=len(script.steps),
        step="trust-scale",
        elapsed=3,
    )


def test_status_without_a_session_says_so(ctx: Context) -> None:
    result = engine.step(SessionState(GROUP), cmd("status"), facilitator(), ctx)
    assert only_private(result, facilitator()) == ctx.t("facilitator.status_none")


# --- what each kind of step shows ------------------------------------------------------------


@pytest.mark.parametrize(
    "step_id",
    ["what-is-data", "own-care", "wider-uses", "your-choices", "benefits-and-risks"],
)
def test_card_steps_show_each_card_they_name_in_order(step_id: str, ctx: Context) -> None:
    result = engine.step(at(ctx, "welcome"), cmd("goto", step_id), facilitator(), ctx)
    current = step_of(ctx, result.state)
    assert current.kind == "card"
    cards = [a for a in result.actions if isinstance(a, SendCard)]
    assert [c.card.id for c in cards] == list(current.cards)
    assert all(c.group == GROUP for c in cards)
    assert all(c.card == ctx.library.cards[c.card.id] for c in cards)
    assert SendText(GROUP, current.text) in result.actions


@pytest.mark.parametrize(
    ("step_id", "options", "multiple"),
    [
        pytest.param(
            "research-comfort",
            (
                "Very comfortable",
                "Fairly comfortable",
                "Not very comfortable",
                "Not at all comfortable",
                "It depends on who uses it and why",
                "Not sure",
            ),
            False,
            id="single-choice",
        ),
        pytest.param(
            "trust-scale",
            ("1 Not at all", "2", "3", "4", "5 Completely"),
            False,
            id="scale-becomes-numbered-points-with-end-labels",
        ),
        pytest.param("conditions", None, True, id="multiple-choice"),
    ],
)
def test_choice_steps_ask_the_question_with_their_choices(
    step_id: str, options: tuple[str, ...] | None, multiple: bool, ctx: Context
) -> None:
    result = engine.step(at(ctx, "welcome"), cmd("goto", step_id), facilitator(), ctx)
    current = step_of(ctx, result.state)
    asks = [a for a in result.actions if isinstance(a, AskChoice)]
    expected = AskChoice(
        GROUP, step_id, current.text, options or current.options, multiple, language="en"
    )
    assert asks == [expected]
    assert not any(isinstance(a, SendText) for a in result.actions)


@pytest.mark.parametrize(
    "step_id", ["welcome", "first-thoughts", "break", "research-comfort", "close"]
)
def test_each_step_sends_its_facilitator_notes_privately_to_the_facilitator(
    step_id: str, ctx: Context, script: Script
) -> None:
    result = engine.step(at(ctx, "what-is-data"), cmd("goto", step_id), facilitator(), ctx)
    current = step_of(ctx, result.state)
    private = [a for a in result.actions if isinstance(a, SendPrivate)]
    assert len(private) == 1
    assert private[0].person == FRAN
    assert private[0].text == ctx.t(
        "facilitator.notes",
        number=script.index_of(step_id) + 1,  # type: ignore[operator]
        count=len(script.steps),
        step=step_id,
        kind=current.kind,
        minutes=ctx.t("facilitator.minutes", minutes=current.minutes),
        notes=current.facilitator_notes,
    )
    # The notes are never posted to the group.
    assert not any(
        current.facilitator_notes in getattr(a, "text", "")
        for a in result.actions
        if not isinstance(a, SendPrivate)
    )


# --- capturing replies -----------------------------------------------------------------------


def test_a_consented_reply_to_a_prompt_is_captured_once_with_its_step(ctx: Context) -> None:
    before = at(ctx, "first-thoughts")
    event = said("It should stay with my GP", "m42")
    result = engine.step(before, event, participant(), ctx)
    assert result.state == before
    assert result.actions == ()
    assert result.effects == ()
    assert result.captures == (
        ResponseCaptured(
            session_id=before.session_id or "",
            person=ALICE,
            group=GROUP,
            step_id="first-thoughts",
            message_id="m42",
            text="It should stay with my GP",
            at=NOW,
            reply_to="m0",
            language="en",
        ),
    )


@pytest.mark.parametrize(
    "step_id",
    [
        pytest.param("welcome", id="message-step"),
        pytest.param("wider-uses", id="card-step"),
        pytest.param("research-comfort", id="choice-step"),
        pytest.param("close", id="close-step"),
    ],
)
def test_consented_replies_are_captured_on_every_step_but_breaks(
    step_id: str, ctx: Context
) -> None:
    result = engine.step(at(ctx, step_id), said(), participant(), ctx)
    assert [type(c) for c in result.captures] == [ResponseCaptured]
    assert result.captures[0].step_id == step_id  # type: ignore[union-attr]


@pytest.mark.parametrize(
    ("state", "actor"),
    [
        pytest.param("break", "consented", id="during-a-break"),
        pytest.param("paused", "consented", id="while-paused"),
        pytest.param("not-started", "consented", id="before-any-session"),
        pytest.param("ended", "consented", id="after-the-end"),
        pytest.param("paused", "not-consented", id="not-consented-while-paused"),
        pytest.param("not-started", "not-consented", id="not-consented-before-any-session"),
        pytest.param("running", "invited-not-consented", id="not-consented-already-invited"),
        pytest.param("running", "quote-only", id="quote-without-participate-already-invited"),
    ],
)
def test_messages_that_must_not_be_captured_lead_to_nothing(
    state: str, actor: str, ctx: Context
) -> None:
    before = {
        "break": at(ctx, "break"),
        "paused": at(ctx, "first-thoughts", Status.PAUSED),
        "not-started": SessionState(GROUP),
        "ended": at(ctx, "first-thoughts", Status.ENDED),
        "running": at(ctx, "first-thoughts"),
    }[state]
    who = {
        "consented": participant(),
        "not-consented": participant(frozenset()),
        "invited-not-consented": participant(frozenset(), invited=True),
        "quote-only": participant(frozenset({"quote"}), invited=True),
    }[actor]
    event = consent.gate(said(), who.scopes)
    assert engine.step(before, event, who, ctx) == Transition(before)


@pytest.mark.parametrize(
    "scopes",
    [
        pytest.param(frozenset(), id="no-consent"),
        pytest.param(frozenset({"quote", "profile"}), id="optional-scopes-only"),
    ],
)
def test_a_person_without_participate_is_invited_once_privately_and_not_captured(
    scopes: frozenset[str], ctx: Context
) -> None:
    before = at(ctx, "first-thoughts")
    who = participant(scopes)
    result = engine.step(before, consent.gate(said(), scopes), who, ctx)
    assert result.state == before
    assert result.captures == ()
    assert result.effects == (Invited(ALICE, GROUP),)
    (invitation,) = result.actions
    assert invitation == SendPrivate(
        ALICE,
        ctx.t("consent.invite"),
        GROUP,
        (Button(ctx.t("session.join_button"), "consent", "/consent", private=True),),
        asks_consent=True,
    )


def test_a_private_message_to_the_bot_gets_the_private_help_and_is_not_captured(
    ctx: Context,
) -> None:
    event = MessagePosted(ALICE, None, "p1", "hello bot", NOW)
    result = engine.step(None, event, participant(group=None), ctx)
    assert result.captures == ()
    assert only_private(result, participant()) == ctx.t("help.private")


# --- the consent gate ------------------------------------------------------------------------

GATED_EVENTS: list[Any] = [
    pytest.param(said("my private words"), id="posted"),
    pytest.param(MessageEdited(ALICE, GROUP, "m1", "my private words", NOW), id="edited"),
]


@pytest.mark.parametrize("event", GATED_EVENTS)
@pytest.mark.parametrize(
    "scopes",
    [
        pytest.param(frozenset(), id="none"),
        pytest.param(frozenset({"quote", "profile", "followup"}), id="all-but-participate"),
    ],
)
def test_the_gate_strips_the_words_of_people_without_participate(
    event: MessagePosted | MessageEdited, scopes: frozenset[str]
) -> None:
    gated = consent.gate(event, scopes)
    assert gated.text == ""  # type: ignore[union-attr]
    assert replace(gated, text=event.text) == event  # type: ignore[arg-type]


@pytest.mark.parametrize("event", GATED_EVENTS)
@pytest.mark.parametrize(
    "scopes",
    [
        pytest.param(PARTICIPATE, id="participate"),
        pytest.param(frozenset(SCOPES), id="everything"),
    ],
)
def test_the_gate_leaves_consented_words_intact(
    event: MessagePosted | MessageEdited, scopes: frozenset[str]
) -> None:
    assert consent.gate(event, scopes) == event


@pytest.mark.parametrize(
    "event",
    [
        pytest.param(MessageDeleted(GROUP, "m1", NOW, ALICE), id="deleted"),
        pytest.param(cmd("agree", "participate", actor=participant()), id="command"),
        pytest.param(VoteCast(ALICE, GROUP, "research-comfort", (2,), NOW), id="vote"),
    ],
)
def test_the_gate_passes_events_without_words_unchanged(event: Event) -> None:
    assert consent.gate(event, frozenset()) == event


@pytest.mark.parametrize(
    "event",
    [
        pytest.param(said("SECRET words"), id="posted"),
        pytest.param(MessageEdited(ALICE, GROUP, "m1", "SECRET words", NOW), id="edited"),
    ],
)
def test_non_consenting_words_never_reach_a_capture_an_action_or_an_effect(
    event: Event, ctx: Context
) -> None:
    who = participant(frozenset({"quote"}))
    result = engine.step(at(ctx, "first-thoughts"), consent.gate(event, who.scopes), who, ctx)
    assert "SECRET" not in repr(result)


# --- edits and deletions ---------------------------------------------------------------------


@pytest.mark.parametrize(
    "status",
    [Status.RUNNING, Status.PAUSED, Status.ENDED],
    ids=lambda s: s.value,
)
def test_a_consented_edit_updates_the_stored_reply(status: Status, ctx: Context) -> None:
    before = at(ctx, "first-thoughts", status)
    event = MessageEdited(ALICE, GROUP, "m1", "on second thoughts", NOW)
    result = engine.step(before, event, participant(), ctx)
    assert result == Transition(
        before, captures=(ResponseEdited(ALICE, GROUP, "m1", "on second thoughts", NOW),)
    )


@pytest.mark.parametrize(
    ("group", "scopes"),
    [
        pytest.param(GROUP, frozenset(), id="not-consented"),
        pytest.param(None, PARTICIPATE, id="private-message"),
    ],
)
def test_other_edits_lead_to_nothing(
    group: GroupRef | None, scopes: frozenset[str], ctx: Context
) -> None:
    before = at(ctx, "first-thoughts")
    event = consent.gate(MessageEdited(ALICE, group, "m1", "changed", NOW), scopes)
    assert engine.step(before, event, participant(scopes), ctx) == Transition(before)


@pytest.mark.parametrize(
    "person", [pytest.param(ALICE, id="author-known"), pytest.param(None, id="author-unknown")]
)
def test_a_deleted_message_deletes_the_stored_reply(person: PersonRef | None, ctx: Context) -> None:
    before = at(ctx, "first-thoughts")
    event = MessageDeleted(GROUP, "m1", NOW, person)
    result = engine.step(before, event, participant(frozenset()), ctx)
    assert result == Transition(before, captures=(ResponseDeleted(GROUP, "m1", NOW, person),))


# --- votes -----------------------------------------------------------------------------------


@pytest.mark.parametrize(
    ("step_id", "event_args", "options", "answer"),
    [
        pytest.param("research-comfort", ("2",), (2,), "Fairly comfortable", id="single"),
        pytest.param("research-comfort", ("6",), (6,), "Not sure", id="last-option"),
        pytest.param("trust-scale", ("1",), (1,), "1 Not at all", id="scale-low-end-label"),
        pytest.param("trust-scale", ("3",), (3,), "3", id="scale-middle"),
        pytest.param(
            "conditions",
            ("1,3",),
            (1, 3),
            "There is a clear benefit to the public; An independent group checks how it is used",
            id="multiple-comma",
        ),
        pytest.param(
            "conditions",
            ("3", "1", "3"),
            (1, 3),
            "There is a clear benefit to the public; An independent group checks how it is used",
            id="multiple-spaces-sorted-deduplicated",
        ),
    ],
)
def test_a_vote_on_the_open_question_is_captured_and_acknowledged_by_label(
    step_id: str, event_args: tuple[str, ...], options: tuple[int, ...], answer: str, ctx: Context
) -> None:
    before = at(ctx, step_id)
    result = engine.step(before, cmd("vote", *event_args, actor=participant()), participant(), ctx)
    assert result.state == before
    assert result.captures == (
        VoteCaptured(before.session_id or "", ALICE, GROUP, step_id, options, NOW),
    )
    assert only_private(result, participant()) == ctx.t("vote.recorded", answer=answer)


def test_a_vote_button_for_the_open_question_is_captured(ctx: Context) -> None:
    before = at(ctx, "research-comfort")
    event = VoteCast(ALICE, GROUP, "research-comfort", (4,), NOW)
    result = engine.step(before, event, participant(), ctx)
    assert result.captures == (
        VoteCaptured(before.session_id or "", ALICE, GROUP, "research-comfort", (4,), NOW),
    )
    assert only_private(result, participant()) == ctx.t(
        "vote.recorded", answer="Not at all comfortable"
    )


def _vote(*args: str) -> Event:
    return cmd("vote", *args, actor=participant())


def _button(step_id: str, option: int = 1) -> Event:
    return VoteCast(ALICE, GROUP, step_id, (option,), NOW)


VOTE_REFUSALS: dict[str, tuple[str, Status, Event, str]] = {
    "two-answers-to-a-single-choice": ("research-comfort", RUN, _vote("1,3"), "vote.one_only"),
    "two-points-on-a-scale": ("trust-scale", RUN, _vote("2", "4"), "vote.one_only"),
    "zero": ("research-comfort", RUN, _vote("0"), "vote.usage"),
    "past-the-last-option": ("research-comfort", RUN, _vote("7"), "vote.usage"),
    "one-out-of-range-in-a-multiple": ("conditions", RUN, _vote("1,10"), "vote.usage"),
    "not-a-number": ("research-comfort", RUN, _vote("two"), "vote.usage"),
    "negative": ("research-comfort", RUN, _vote("-1"), "vote.usage"),
    "decimal": ("research-comfort", RUN, _vote("1.5"), "vote.usage"),
    "no-number": ("research-comfort", RUN, _vote(), "vote.usage"),
    "button-for-another-step": ("research-comfort", RUN, _button("trust-scale"), "vote.not_open"),
    "button-after-it-closed": ("first-thoughts", RUN, _button("research-comfort"), "vote.not_open"),
    "button-while-paused": (
        "research-comfort",
        PAUSE,
        _button("research-comfort"),
        "vote.not_open",
    ),
    "vote-on-a-prompt": ("first-thoughts", RUN, _vote("1"), "vote.no_question"),
    "vote-while-paused": ("research-comfort", PAUSE, _vote("1"), "vote.no_question"),
    "vote-after-the-end": ("research-comfort", END, _vote("1"), "vote.no_question"),
}


@pytest.mark.parametrize(
    ("step_id", "status", "event", "key"), VOTE_REFUSALS.values(), ids=VOTE_REFUSALS
)
def test_votes_that_cannot_count_are_refused_with_a_reason(
    step_id: str, status: Status, event: Event, key: str, ctx: Context
) -> None:
    before = at(ctx, step_id, status)
    result = engine.step(before, event, participant(), ctx)
    count = len(step_of(ctx, before).choices()) if step_of(ctx, before).kind == "choice" else 0
    assert assert_refused(result, before, participant()) == ctx.t(key, count=count)


@pytest.mark.parametrize(
    "number",
    [
        pytest.param("²", id="superscript-two"),
        pytest.param("①", id="circled-one"),
    ],
)
def test_a_vote_with_a_digit_like_symbol_is_refused_not_crashed(number: str, ctx: Context) -> None:
    # BUG: engine.parse_options checks str.isdigit(), which is true for '²' and '①', then
    # int() raises ValueError, so a participant's message crashes the engine.
    before = at(ctx, "research-comfort")
    result = engine.step(before, _vote(number), participant(), ctx)
    assert assert_refused(result, before, participant()) == ctx.t("vote.usage", count=6)


def test_goto_with_a_digit_like_symbol_is_refused_not_crashed(ctx: Context, script: Script) -> None:
    # BUG: steering._step_index checks str.isdigit(), true for '²', then int('²') raises.
    before = at(ctx, "first-thoughts")
    result = engine.step(before, cmd("goto", "²"), facilitator(), ctx)
    assert assert_refused(result, before, facilitator()) == ctx.t(
        "session.unknown_step", step="²", steps=", ".join(s.id for s in script.steps)
    )


@pytest.mark.parametrize(
    ("command", "status"),
    [
        pytest.param("status", Status.RUNNING, id="status"),
        pytest.param("back", Status.RUNNING, id="back"),
        pytest.param("resume", Status.PAUSED, id="resume"),
    ],
)
def test_a_restored_session_past_the_end_of_a_shortened_script_does_not_crash(
    command: str, status: Status, ctx: Context, script: Script
) -> None:
    # BUG: a live session is restored from storage after a restart; if staff removed steps from
    # the script meanwhile, step_index can be past the end. steering.status, steering.present (via
    # /resume) and /back index script.steps[state.step_index] unchecked and raise IndexError,
    # while messages and votes already guard with current_step.
    before = replace(at(ctx, "close", status), step_index=len(script.steps) + 4)
    result = engine.step(before, cmd(command), facilitator(), ctx)
    assert result.state is not None
    if result.state.live:
        assert 0 <= result.state.step_index < len(script.steps)


@pytest.mark.parametrize(
    "invited", [pytest.param(False, id="not-invited"), pytest.param(True, id="already-invited")]
)
@pytest.mark.parametrize(
    "event",
    [
        pytest.param(_vote("2"), id="command"),
        pytest.param(VoteCast(ALICE, GROUP, "research-comfort", (2,), NOW), id="button"),
    ],
)
def test_a_vote_without_consent_is_not_captured_and_says_so_inviting_only_the_first_time(
    event: Event, invited: bool, ctx: Context
) -> None:
    before = at(ctx, "research-comfort")
    who = participant(frozenset({"quote"}), invited=invited)
    result = engine.step(before, event, who, ctx)
    assert result.state == before
    assert result.captures == ()
    # Told every time the answer was not recorded; an invitation only once per chat.
    assert result.effects == (() if invited else (Invited(ALICE, GROUP),))
    assert only_private(result, who) == ctx.t("vote.not_consented")
    (note,) = result.actions
    assert isinstance(note, SendPrivate) and [b.payload for b in note.buttons] == ["consent"]


# --- consent commands ------------------------------------------------------------------------


def test_consent_sends_the_full_consent_text_privately_with_two_buttons(ctx: Context) -> None:
    text = ctx.library.consents["en"]
    who = participant(frozenset())
    result = engine.step(at(ctx, "welcome"), cmd("consent", actor=who), who, ctx)
    assert result.captures == () and result.effects == ()
    (reply,) = result.actions
    assert isinstance(reply, SendPrivate)
    assert (reply.person, reply.group) == (ALICE, GROUP)
    assert text.full_text() in reply.text
    assert ctx.t("consent.header", version=text.version) in reply.text
    assert ctx.t("consent.how_to") in reply.text
    everything = " ".join(SCOPES)
    assert reply.buttons == (
        Button(ctx.t("consent.button_all"), f"agree {everything}", f"/agree {everything}"),
        Button(ctx.t("consent.button_participate"), "agree participate", "/agree participate"),
    )


@pytest.mark.parametrize(
    ("args", "scopes"),
    [
        pytest.param(("participate", "quote"), {"participate", "quote"}, id="two-words"),
        pytest.param(("participate,quote",), {"participate", "quote"}, id="comma"),
        pytest.param(("Participate",), {"participate"}, id="any-case"),
        pytest.param(("followup", "participate"), {"participate", "followup"}, id="any-order"),
        pytest.param(tuple(SCOPES), set(SCOPES), id="everything"),
    ],
)
def test_agree_records_the_scopes_with_the_consent_text_version_and_hash(
    args: tuple[str, ...], scopes: set[str], ctx: Context
) -> None:
    text = ctx.library.consents["en"]
    who = participant(frozenset())
    before = at(ctx, "welcome")
    result = engine.step(before, cmd("agree", *args, actor=who), who, ctx)
    assert result.state == before
    assert result.captures == (
        ConsentRecorded(
            ALICE,
            GROUP,
            frozenset(scopes),
            text.version,
            hashlib.sha256(text.full_text().encode("utf-8")).hexdigest(),
            NOW,
            "en",
        ),
    )
    ordered = ", ".join(s for s in SCOPES if s in scopes)
    thanks, *invitation = result.actions
    assert isinstance(thanks, SendPrivate) and thanks.person == ALICE
    assert thanks.text == ctx.t("consent.agreed", scopes=ordered)
    # Agreeing to the profile also brings a private invitation to answer (test_profile.py).
    assert len(invitation) == ("profile" in scopes)


AGREE_REFUSALS: dict[str, tuple[tuple[str, ...], str, dict[str, str]]] = {
    "without-participate": (("quote",), "consent.need_participate", {"rest": "quote"}),
    "unknown-scope": (("participate", "qoute"), "consent.unknown_scope", {"scopes": "qoute"}),
    "nothing": ((), "consent.usage", {}),
}


@pytest.mark.parametrize(("args", "key", "params"), AGREE_REFUSALS.values(), ids=AGREE_REFUSALS)
def test_agree_is_refused_when_the_scopes_are_not_right(
    args: tuple[str, ...], key: str, params: dict[str, str], ctx: Context
) -> None:
    who = participant(frozenset())
    before = at(ctx, "welcome")
    result = engine.step(before, cmd("agree", *args, actor=who), who, ctx)
    expected = ctx.t(key, valid=", ".join(SCOPES), **params)
    assert assert_refused(result, before, who) == expected


def test_unknown_scope_reply_names_the_unknown_scope(ctx: Context) -> None:
    who = participant(frozenset())
    result = engine.step(None, cmd("agree", "participate", "qoute", actor=who), who, ctx)
    assert "qoute" in only_private(result, who)


@pytest.mark.parametrize("command", ["agree", "consent"])
def test_consent_in_private_without_a_known_group_asks_to_start_in_the_group(
    command: str, ctx: Context
) -> None:
    who = participant(frozenset(), group=None)
    result = engine.step(None, cmd(command, "participate", actor=who), who, ctx)
    assert assert_refused(result, None, who) == ctx.t("consent.which_group")


@pytest.mark.parametrize(
    ("args", "effect"),
    [
        pytest.param(("confirm",), ErasureRequested(ALICE), id="withdraw-confirm"),
        pytest.param(("CONFIRM",), ErasureRequested(ALICE), id="withdraw-confirm-any-case"),
    ],
)
def test_withdraw_confirm_requests_erasure(
    args: tuple[str, ...], effect: ErasureRequested, ctx: Context
) -> None:
    result = engine.step(None, cmd("withdraw", *args, actor=participant()), participant(), ctx)
    assert result == Transition(None, effects=(effect,))


@pytest.mark.parametrize(
    "args",
    [pytest.param((), id="bare"), pytest.param(("yes",), id="other-word")],
)
def test_withdraw_asks_for_confirmation_first(args: tuple[str, ...], ctx: Context) -> None:
    before = at(ctx, "welcome")
    result = engine.step(before, cmd("withdraw", *args, actor=participant()), participant(), ctx)
    button = ctx.t("withdraw.button")
    assert assert_refused(result, before, participant()) == ctx.t("withdraw.ask", button=button)
    (asked,) = result.actions
    assert isinstance(asked, SendPrivate)
    assert [(b.label, b.payload) for b in asked.buttons] == [(button, "withdraw confirm")]


@pytest.mark.parametrize("group", [GROUP, None], ids=["in-group", "in-private"])
def test_mydata_requests_the_persons_data(group: GroupRef | None, ctx: Context) -> None:
    who = participant(group=group)
    result = engine.step(None, cmd("mydata", actor=who), who, ctx)
    assert result == Transition(None, effects=(DataRequested(ALICE),))


@pytest.mark.parametrize(
    ("payload", "command"),
    [
        pytest.param("agree participate", cmd("agree", "participate"), id="agree-participate"),
        pytest.param(f"agree {' '.join(SCOPES)}", cmd("agree", *SCOPES), id="agree-everything"),
        pytest.param("consent", cmd("consent"), id="consent"),
        pytest.param("withdraw confirm", cmd("withdraw", "confirm"), id="withdraw-confirm"),
    ],
)
def test_a_button_does_exactly_what_its_text_command_does(
    payload: str, command: CommandIssued, ctx: Context
) -> None:
    who = participant(frozenset())
    before = at(ctx, "welcome")
    pressed = engine.step(before, ButtonPressed(ALICE, GROUP, payload, NOW), who, ctx)
    typed = engine.step(before, replace(command, person=ALICE), who, ctx)
    assert pressed == typed


def test_buttons_cannot_do_what_the_person_may_not(ctx: Context) -> None:
    before = at(ctx, "welcome")
    pressed = ButtonPressed(ALICE, GROUP, "end", NOW)
    result = engine.step(before, pressed, participant(), ctx)
    assert assert_refused(result, before, participant()) == ctx.t(
        "facilitator.refused", command="end"
    )


# --- roles and help --------------------------------------------------------------------------


BOB = PersonRef("console", "bob")
ROLE_CHANGES: dict[str, tuple[tuple[str, ...], RoleChanged]] = {
    "add": (("add", "bob"), RoleChanged(GROUP, BOB, True, "bob")),
    "add-at-name": (("add", "@bob"), RoleChanged(GROUP, BOB, True, "@bob")),
    "remove": (("remove", "bob"), RoleChanged(GROUP, BOB, False, "bob")),
    # The platform adds the name it shows the person by, after their id.
    "named": (("add", "bob", "Bob", "Smith"), RoleChanged(GROUP, BOB, True, "Bob Smith")),
}


@pytest.mark.parametrize(("args", "change"), ROLE_CHANGES.values(), ids=ROLE_CHANGES)
def test_staff_can_change_who_facilitates(
    args: tuple[str, ...], change: RoleChanged, ctx: Context
) -> None:
    result = engine.step(None, cmd("facilitator", *args, actor=staff()), staff(), ctx)
    assert result == Transition(None, effects=(change,))


ROLE_REFUSALS: dict[str, tuple[Actor, tuple[str, ...], str]] = {
    "by-a-participant": (participant(), ("add", "alice"), "facilitator.staff_only"),
    "by-a-facilitator": (facilitator(), ("add", "bob"), "facilitator.staff_only"),
    "unknown-verb": (staff(), ("promote", "bob"), "facilitator.role_usage"),
    "no-name": (staff(), ("add",), "facilitator.role_usage"),
    "staff-in-private": (replace(staff(), group=None), ("add", "bob"), "session.in_group"),
}


@pytest.mark.parametrize(("actor", "args", "key"), ROLE_REFUSALS.values(), ids=ROLE_REFUSALS)
def test_role_changes_are_refused_when_not_allowed_or_unclear(
    actor: Actor, args: tuple[str, ...], key: str, ctx: Context
) -> None:
    result = engine.step(None, cmd("facilitator", *args, actor=actor), actor, ctx)
    assert assert_refused(result, None, actor) == ctx.t(key, command="facilitator")


@pytest.mark.parametrize("name", ["dance", "STARTT", ""])
def test_an_unknown_command_points_to_help(name: str, ctx: Context) -> None:
    before = at(ctx, "welcome")
    result = engine.step(before, cmd(name, actor=participant()), participant(), ctx)
    assert assert_refused(result, before, participant()) == ctx.t(
        "help.unknown_command", command=name.lower()
    )


@pytest.mark.parametrize(
    ("actor", "key"),
    [
        pytest.param(facilitator(), "help.facilitator", id="facilitator"),
        pytest.param(participant(), "help.participant", id="participant"),
    ],
)
def test_help_is_written_for_the_person_asking(actor: Actor, key: str, ctx: Context) -> None:
    result = engine.step(None, cmd("help", actor=actor), actor, ctx)
    text = assert_refused(result, None, actor)
    assert text == ctx.t(key, scripts=_scripts(ctx))


def test_facilitator_and_participant_help_differ(ctx: Context) -> None:
    helps = {
        engine.step(None, cmd("help", actor=a), a, ctx).actions[0].text  # type: ignore[union-attr]
        for a in (facilitator(), participant())
    }
    assert len(helps) == 2


# --- the catalogue ---------------------------------------------------------------------------


def _keys_used_by_the_core() -> set[str]:
    sources = (ROOT / "bot" / "core").glob("*.py")
    pattern = re.compile(r"""\bctx\.t\(\s*["']([\w.]+)["']""")
    return {key for path in sources for key in pattern.findall(path.read_text(encoding="utf-8"))}


def test_every_message_the_core_sends_is_in_the_english_catalogue() -> None:
    texts = Catalogue.load()
    keys = _keys_used_by_the_core()
    assert len(keys) > 30  # the pattern still finds the calls
    missing = [k for k in sorted(keys) if not _has(texts, k)]
    assert missing == []


def _has(texts: Catalogue, key: str) -> bool:
    try:
        texts.placeholders(key)
    except KeyError:
        return False
    return True


# --- what no rate limit holds back -----------------------------------------------------------


@pytest.mark.parametrize(
    ("event", "where", "unlimited"),
    [
        *[
            pytest.param(cmd(*typed.split()), GROUP, True, id=typed)
            for typed in (
                "withdraw",
                "withdraw confirm",
                "mydata",
                "forget 1",
                "consent",
                "agree participate",
                "help",
                "vote 2",
                "profile answer age 2",
                "Profile",
            )
        ],
        pytest.param(ButtonPressed(ALICE, None, "profile skip age", NOW), None, True, id="press"),
        pytest.param(ButtonPressed(ALICE, None, "agree participate", NOW), None, True, id="agree"),
        pytest.param(cmd("status"), GROUP, False, id="status"),
        pytest.param(cmd("start", "x"), GROUP, False, id="start"),
        pytest.param(cmd("nonsense"), GROUP, False, id="unknown"),
        # A self-paced dialogue's own buttons are spared in its direct group, not elsewhere.
        pytest.param(ButtonPressed(ALICE, None, "next", NOW), GroupRef("direct", "c1"), True),
        pytest.param(ButtonPressed(ALICE, None, "more", NOW), GroupRef("direct", "c1"), True),
        pytest.param(ButtonPressed(ALICE, None, "next", NOW), GROUP, False, id="next-in-group"),
    ],
)
def test_rights_help_answers_and_the_self_paced_flow_are_never_rate_limited(
    event: Event, where: GroupRef | None, unlimited: bool
) -> None:
    assert engine.unlimited(event, where) is unlimited
