"""Properties of the engine over random sequences of facilitator commands and participant events.

Events go through the consent gate first, as the service does, and the service's bookkeeping of
invitations and saved state is mirrored so each sequence runs like a real group's session.
"""

from __future__ import annotations

from dataclasses import dataclass, replace
from datetime import UTC, datetime, timedelta

import pytest
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

from bot.content.check import load_library
from bot.content.models import REQUIRED_SCOPE, Script
from bot.core import consent, engine
from bot.core.actions import SendPrivate
from bot.core.captures import (
    ConsentRecorded,
    ResponseCaptured,
    ResponseDeleted,
    ResponseEdited,
    SessionSaved,
    VoteCaptured,
)
from bot.core.context import Actor, Context, Transition
from bot.core.effects import Invited
from bot.core.events import (
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
T0 = datetime(2025, 3, 4, 18, 0, tzinfo=UTC)
GROUP = GroupRef("console", "g")
SECRET = "SECRET-WORDS"

LIBRARY = load_library(ROOT)
TEXTS = Catalogue.load()
SCRIPT: Script = LIBRARY.scripts[SCRIPT_ID]
STEP_IDS = [s.id for s in SCRIPT.steps]
CHOICE_IDS = [s.id for s in SCRIPT.steps if s.kind == "choice"]

# Who can act: the facilitator, and participants with different consent.
PEOPLE: dict[str, Actor] = {
    "fran": Actor(PersonRef("console", "fran"), GROUP, frozenset({REQUIRED_SCOPE}), True),
    "fred": Actor(PersonRef("console", "fred"), GROUP, frozenset(), facilitator=True),
    "alice": Actor(PersonRef("console", "alice"), GROUP, frozenset({REQUIRED_SCOPE, "quote"})),
    "bob": Actor(PersonRef("console", "bob"), GROUP, frozenset()),
    "carol": Actor(PersonRef("console", "carol"), GROUP, frozenset({"quote", "profile"})),
}
FACILITATORS = ["fran", "fred"]

# Arguments that are valid somewhere, invalid everywhere, or only sometimes valid.
GOTO_ARGS = [*STEP_IDS, *(str(n) for n in range(0, len(STEP_IDS) + 3)), "nope", "-1", ""]
START_ARGS = [SCRIPT_ID, "no-such-script", ""]
NAVIGATION = ["next", "back", "skip", "pause", "resume", "end", "status"]
NUMBER_ARGS = ["1", "2", "3", "6", "9", "0", "10", "1,3", "2 4", "1,1", "x", "-2", ""]


@dataclass(frozen=True)
class Op:
    """One thing that happens in the group: who does it, and the event (minus its time)."""

    who: str
    kind: str
    name: str = ""
    arg: str = ""
    number: int = 0


def _ops(kind: str) -> list[Op]:
    """Every op of one kind, for every person it applies to."""
    if kind == "navigate":
        return [
            *(Op(who, "cmd", "start", arg) for who in FACILITATORS for arg in START_ARGS),
            *(Op(who, "cmd", name) for who in FACILITATORS for name in NAVIGATION),
        ]
    if kind == "goto":
        # Choice steps and the break are where the capture rules differ, so they come up often.
        targets = [*GOTO_ARGS, *[*CHOICE_IDS, "break"] * 4]
        return [Op(who, "cmd", "goto", arg) for who in FACILITATORS for arg in targets]
    if kind == "say":
        return [Op(who, "say", number=n) for who in PEOPLE for n in range(3)]
    if kind == "vote":
        return [
            *(Op(who, "cmd", "vote", arg) for who in PEOPLE for arg in NUMBER_ARGS),
            *(
                Op(who, "button", arg=step_id, number=number)
                for who in PEOPLE
                for step_id in [*CHOICE_IDS, "first-thoughts", "gone"]
                for number in (-1, 1, 2, 5, 10)
            ),
        ]
    return [  # edits, deletions, and participants trying facilitator commands
        *(
            Op(who, change, number=n)
            for who in PEOPLE
            for change in ("edit", "delete")
            for n in range(3)
        ),
        *(
            Op(who, "cmd", name, arg)
            for who in PEOPLE
            if who not in FACILITATORS
            for name in ("next", "end", "goto", "start")
            for arg in ("", "3", SCRIPT_ID)
        ),
    ]


START = Op("fran", "cmd", "start", SCRIPT_ID)
OP_KINDS = ["navigate", "goto", "say", "vote", "other"]
# Half the sequences begin with a session, so the rest of them exercises a live one.
sequences = st.tuples(
    st.booleans(),
    st.lists(st.one_of(*(st.sampled_from(_ops(k)) for k in OP_KINDS)), min_size=8, max_size=40),
).map(lambda pair: [START, *pair[1]] if pair[0] else pair[1])


def _event(op: Op, at: datetime) -> Event:
    person = PEOPLE[op.who].person
    if op.kind == "cmd":
        args = tuple(op.arg.split()) if op.arg else ()
        return CommandIssued(person, GROUP, op.name, args, at)
    if op.kind == "say":
        return MessagePosted(person, GROUP, f"m{op.number}", f"{SECRET} {op.number}", at)
    if op.kind == "edit":
        return MessageEdited(person, GROUP, f"m{op.number}", f"{SECRET} edited", at)
    if op.kind == "delete":
        return MessageDeleted(GROUP, f"m{op.number}", at, person)
    return VoteCast(person, GROUP, op.arg, (op.number,), at)


def _run(ops: list[Op]) -> list[tuple[Op, SessionState, Actor, Transition]]:
    """Play the ops like the service: gate, engine, then remember saved state and invitations."""
    state = SessionState(GROUP)
    invited: set[PersonRef] = set()
    history: list[tuple[Op, SessionState, Actor, Transition]] = []
    for number, op in enumerate(ops):
        now = T0 + timedelta(minutes=number)
        actor = replace(PEOPLE[op.who], invited=PEOPLE[op.who].person in invited)
        ctx = Context(LIBRARY, TEXTS, now, cycle_id="default")
        event = consent.gate(_event(op, now), actor.scopes)
        transition = engine.step(state, event, actor, ctx)
        history.append((op, state, actor, transition))
        invited |= {e.person for e in transition.effects if isinstance(e, Invited)}
        saved = [c.state for c in transition.captures if isinstance(c, SessionSaved)]
        if saved:
            state = saved[-1]
    return history


def _assert_valid(state: SessionState) -> None:
    assert state.group == GROUP
    assert state.status in Status
    assert 0 <= state.step_index < len(SCRIPT.steps)
    if state.status is not Status.NOT_STARTED:
        assert state.session_id
        assert state.script_id == SCRIPT_ID
        assert state.script_version == SCRIPT.version
        assert state.cycle_id == "default"
        assert state.started_at is not None and state.step_started_at is not None
        assert state.started_at <= state.step_started_at
    assert (state.ended_at is not None) == (state.status is Status.ENDED)


PROPERTY_SETTINGS = settings(
    max_examples=200,
    deadline=None,
    derandomize=True,
    suppress_health_check=[HealthCheck.too_slow],
)


@PROPERTY_SETTINGS
@given(sequences)
def test_any_sequence_keeps_the_session_state_valid(ops: list[Op]) -> None:
    for _, before, _, transition in _run(ops):
        assert transition.state is not None
        _assert_valid(transition.state)
        saved = [c for c in transition.captures if isinstance(c, SessionSaved)]
        # State is saved exactly when it changes, and what is saved is the new state.
        if transition.state != before:
            assert saved == [SessionSaved(transition.state)]
        else:
            assert saved == []


@PROPERTY_SETTINGS
@given(sequences)
def test_only_facilitators_change_the_session(ops: list[Op]) -> None:
    for op, before, actor, transition in _run(ops):
        if not actor.facilitator:
            assert transition.state == before, op


@PROPERTY_SETTINGS
@given(sequences)
def test_replies_and_votes_are_captured_only_from_consented_people_in_a_running_session(
    ops: list[Op],
) -> None:
    for op, before, actor, transition in _run(ops):
        for capture in transition.captures:
            if isinstance(capture, ResponseCaptured | ResponseEdited | VoteCaptured):
                assert REQUIRED_SCOPE in actor.scopes, op
                assert capture.person == actor.person
            if isinstance(capture, ResponseCaptured | VoteCaptured):
                assert before.status is Status.RUNNING, op
                assert capture.session_id == before.session_id
                current = SCRIPT.steps[before.step_index]
                assert capture.step_id == current.id
                assert current.kind != "break"
            if isinstance(capture, VoteCaptured):
                assert current.kind == "choice"
                assert all(1 <= n <= len(current.choices()) for n in capture.options)
                assert len(capture.options) == 1 or current.multiple
            if isinstance(capture, ConsentRecorded):
                pytest.fail(f"no one agreed to anything, yet consent was recorded: {op}")
            if isinstance(capture, ResponseDeleted):
                assert op.kind == "delete"


@PROPERTY_SETTINGS
@given(sequences)
def test_words_of_people_without_participate_never_leave_the_gate(ops: list[Op]) -> None:
    for _, _, actor, transition in _run(ops):
        if REQUIRED_SCOPE not in actor.scopes:
            assert SECRET not in repr(transition)


@PROPERTY_SETTINGS
@given(sequences)
def test_ended_sessions_never_move_and_only_a_new_start_revives_them(ops: list[Op]) -> None:
    for op, before, _, transition in _run(ops):
        after = transition.state
        assert after is not None
        if before.status is Status.ENDED:
            if after.status is Status.ENDED:
                assert after == before, op
            else:
                assert (op.name, after.status, after.step_index) == ("start", Status.RUNNING, 0)
                assert after.session_id != before.session_id


@PROPERTY_SETTINGS
@given(sequences)
def test_each_person_is_invited_at_most_once_votes_included(ops: list[Op]) -> None:
    invitations: dict[PersonRef, int] = {}
    for _, _, actor, transition in _run(ops):
        for effect in transition.effects:
            if not isinstance(effect, Invited):
                continue
            assert effect.person == actor.person
            assert REQUIRED_SCOPE not in actor.scopes
            invitations[effect.person] = invitations.get(effect.person, 0) + 1
        # Private messages only ever go to the person who acted.
        for action in transition.actions:
            if isinstance(action, SendPrivate):
                assert action.person == actor.person
    assert all(count <= 1 for count in invitations.values())
