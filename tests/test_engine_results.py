"""Result events: what the service read or did for an effect, and what the engine makes of it.

Each case is (result, session) -> the actions expected, by catalogue key, and what is stored.
The rules here once lived in the service (who sees a tally, which reply ``/forget 2`` removes,
the ``/mydata`` wording); the service now only reads and hands the outcome back.
"""

from __future__ import annotations

from dataclasses import replace
from datetime import UTC, datetime

import pytest

from bot.content.check import load_library
from bot.core import facts, groups, support
from bot.core.actions import SendImage, SendPrivate, SendText
from bot.core.captures import ResponseDeleted
from bot.core.context import Actor, Context
from bot.core.desk import Desk, SoloState
from bot.core.effects import (
    ChartRequested,
    ForgetRequested,
    RoleChanged,
    SummaryChanged,
    SummaryRequested,
    TallyChanged,
    TurnoutRequested,
)
from bot.core.events import MessagePosted, VoteCast
from bot.core.ids import GroupRef, PersonRef
from bot.core.records import (
    ConsentRecord,
    Erasure,
    PersonData,
    Place,
    ResponseRecord,
    SessionHeard,
    Turnout,
)
from bot.core.results import (
    ChartsDrawn,
    DataLoaded,
    Erased,
    RepliesLoaded,
    Result,
    RoleSet,
    SummaryLoaded,
    TallyLoaded,
    TurnoutCounted,
    answers_asker,
    settle,
)
from bot.core.showing import Disclosed, Shown
from bot.core.state import SessionState, Status
from bot.core.text import gist
from bot.texts import Catalogue
from tests.support.cli import ROOT

NOW = datetime(2025, 3, 4, 18, 30, tzinfo=UTC)
GROUP = GroupRef("console", "g")
FRAN = PersonRef("console", "fran")
ALICE = PersonRef("console", "alice")
SESSION = SessionState(
    GROUP,
    Status.RUNNING,
    "s1",
    script_id="health-data-intro",
    step_index=6,
    started_at=NOW,
    step_started_at=NOW,
)


@pytest.fixture(scope="module")
def ctx() -> Context:
    return Context(load_library(ROOT), Catalogue.load(), NOW, cycle_id="default")


def ctx_t(key: str, **params: object) -> str:
    return Catalogue.load().get("en", key, **params)


def reply(number: int, step_id: str) -> ResponseRecord:
    return ResponseRecord(
        GROUP, "s1", step_id, f"m{number}", f"words {number}", NOW, None, 0, "health-data-intro"
    )


def question(step_id: str) -> str:
    """How a step's question is named to people: by its words."""
    script = load_library(ROOT).scripts["health-data-intro"]
    index = script.index_of(step_id)
    assert index is not None
    return gist(script.steps[index].text)


REPLIES = (reply(1, "first-thoughts"), reply(2, "own-care-experiences"))


def private_text(transition_actions: tuple[object, ...], person: PersonRef) -> str:
    (only,) = transition_actions
    assert isinstance(only, SendPrivate) and only.person == person
    return only.text


@pytest.mark.parametrize(
    ("number", "key", "params", "removed"),
    [
        (1, "forget.done_number", {"number": 1, "question": question("first-thoughts")}, "m1"),
        (
            2,
            "forget.done_number",
            {"number": 2, "question": question("own-care-experiences")},
            "m2",
        ),
        (0, "forget.no_such", {"number": 0, "replies": "2 replies"}, None),
        (3, "forget.no_such", {"number": 3, "replies": "2 replies"}, None),
    ],
)
def test_forget_removes_the_reply_numbered_as_mydata_numbers_them_and_only_that_one(
    ctx: Context, number: int, key: str, params: dict[str, object], removed: str | None
) -> None:
    done = settle(RepliesLoaded(ForgetRequested(ALICE, number), REPLIES), ctx)
    assert private_text(done.actions, ALICE) == ctx.t(key, **params)
    expected = () if removed is None else (ResponseDeleted(GROUP, removed, NOW, ALICE),)
    assert done.captures == expected


def test_forget_with_no_replies_removes_nothing(ctx: Context) -> None:
    done = settle(RepliesLoaded(ForgetRequested(ALICE, 1), ()), ctx)
    assert private_text(done.actions, ALICE) == ctx.t(
        "forget.no_such", number=1, replies="0 replies"
    )
    assert done.captures == ()


@pytest.mark.parametrize(
    ("public", "lead", "to_group", "to_lead"),
    [
        (True, FRAN, True, False),  # a public tally goes to the group, not the lead
        (True, None, True, False),
        (False, FRAN, False, True),  # otherwise the session's lead alone sees it
        (False, None, False, False),  # and nobody, while nobody has led the session
    ],
)
def test_a_tally_goes_to_the_group_when_public_else_to_the_lead_alone(
    ctx: Context, public: bool, lead: PersonRef | None, to_group: bool, to_lead: bool
) -> None:
    change = TallyChanged(GROUP, "s1", "research-comfort", public)
    answers = ((1,), (1, 2), (3,))
    done = settle(TallyLoaded(change, answers, lead, SESSION), ctx)
    script = ctx.library.scripts["health-data-intro"]
    step = script.steps[script.index_of("research-comfort") or 0]
    text = groups.tally_text(step, answers, ctx)
    slot = "tally:s1:research-comfort"
    expected: list[object] = []
    if to_group:
        expected.append(SendText(GROUP, text, slot=slot))
    if to_lead:
        expected.append(SendPrivate(FRAN, text, GROUP, slot=slot))
    assert list(done.actions) == expected
    assert done.captures == ()


def test_a_tally_of_a_step_the_script_lacks_or_a_session_gone_shows_nothing(
    ctx: Context,
) -> None:
    gone = TallyChanged(GROUP, "s1", "no-such-step", True)
    assert settle(TallyLoaded(gone, ((1,),), FRAN, SESSION), ctx).actions == ()
    change = TallyChanged(GROUP, "s1", "research-comfort", True)
    assert settle(TallyLoaded(change, ((1,),), FRAN, None), ctx).actions == ()


@pytest.mark.parametrize(
    ("counts", "session"),
    [
        (Turnout(0, 0, 0), SESSION),
        (Turnout(5, 2, 1), SESSION),
        (Turnout(5, 5, 0), replace(SESSION, status=Status.PAUSED)),
        (Turnout(4, 1, 3), None),
    ],
)
def test_turnout_is_told_privately_to_whoever_asked_about_their_group(
    ctx: Context, counts: Turnout, session: SessionState | None
) -> None:
    asked = TurnoutRequested(FRAN, GROUP, "s1", "research-comfort")
    done = settle(TurnoutCounted(asked, counts, session), ctx)
    assert done.actions == (SendPrivate(FRAN, support.pulse(session, counts, ctx), GROUP),)


CONSENT = ConsentRecord(frozenset({"participate"}), "v1", "hash", NOW)


@pytest.mark.parametrize(
    ("data", "keys"),
    [
        (PersonData(), ["mydata.none"]),
        (
            PersonData(consents=((GROUP, CONSENT),), responses=REPLIES),
            ["mydata.header", "mydata.consent", "mydata.responses", "mydata.response"],
        ),
        (
            PersonData(places=(Place("default", "health-data-intro", None, 2, "active"),)),
            ["mydata.header", "mydata.place"],
        ),
        (PersonData(reflections=(("yes", None, "no"),)), ["mydata.header", "mydata.reflection"]),
    ],
)
def test_mydata_says_what_is_stored_in_the_catalogues_words(
    ctx: Context, data: PersonData, keys: list[str]
) -> None:
    text = private_text(settle(DataLoaded(ALICE, data), ctx).actions, ALICE)
    if keys == ["mydata.none"]:
        assert text == ctx.t("mydata.none")
        return
    assert text.startswith(ctx.t("mydata.header"))
    assert text.endswith(ctx.t("mydata.footer"))
    for response in data.responses:
        assert response.text in text
    if data.consents:
        assert (
            ctx.t(
                "mydata.consent",
                group=ctx.t("mydata.a_group"),
                scopes="participate",
                version="v1",
                when="4 Mar 2025",
            )
            in text.splitlines()
        )
    if data.places:
        title = load_library(ROOT).scripts["health-data-intro"].title
        assert ctx.t("mydata.place", title=title, number=3, count=16) in text
    if data.reflections:
        assert ctx.t("mydata.reflection", answers="yes / - / no") in text


@pytest.mark.parametrize(
    ("erasure", "key"),
    [
        (Erasure(0, 0, 0), ctx_t("withdraw.nothing")),
        # A consent alone is something erased.
        (Erasure(0, 0, 1), ctx_t("withdraw.done_consent")),
        (
            Erasure(3, 1, 1, 2),
            ctx_t(
                "withdraw.done",
                erased="- 3 replies\n- 1 answer\n- 2 answers to the questions about you",
            ),
        ),
        (
            Erasure(1, 0, 1, 1),
            ctx_t("withdraw.done", erased="- 1 reply\n- 1 answer to the questions about you"),
        ),
    ],
)
def test_an_erasure_is_confirmed_privately_by_what_it_removed_counted_in_words(
    ctx: Context, erasure: Erasure, key: str
) -> None:
    text = private_text(settle(Erased(ALICE, erasure), ctx).actions, ALICE)
    assert text == key


@pytest.mark.parametrize(
    ("granted", "changed", "key"),
    [
        (True, True, "facilitator.granted"),
        (False, True, "facilitator.revoked"),
        (False, False, "facilitator.not_a_facilitator"),
    ],
)
def test_a_role_change_is_announced_in_the_group(
    ctx: Context, granted: bool, changed: bool, key: str
) -> None:
    done = settle(RoleSet(RoleChanged(GROUP, ALICE, granted), changed), ctx)
    assert done.actions == (SendText(GROUP, ctx.t(key, name="alice")),)


# --- summaries and charts: the policy's decision comes in as counts, the core words it ------

HEALTH = load_library(ROOT).scripts["health-data-intro"]
COMFORT = HEALTH.ballot("research-comfort")
# Six options: 4 shown, one fewer than the threshold (3), one hidden to protect it.
COMFORT_SHOWN = Shown(
    [4, None, None, 3, 0, 0], [False, True, False, False, False, False], 10, False
)
PICTURE = b"\x89PNG picture"


def decided(people: int | None, shown: Shown = COMFORT_SHOWN) -> Disclosed:
    assert COMFORT is not None
    return Disclosed(3, people, {COMFORT.id: shown})


def comfort_heard(people: int) -> SessionHeard:
    assert COMFORT is not None
    return SessionHeard(people, {"first-thoughts": 2 * people}, {COMFORT.id: [(1,)] * people})


@pytest.mark.parametrize(
    ("people", "disclosed", "expected"),
    [
        # The audit failed: whoever asked is told, in the group, that nothing can be shown.
        (10, None, "withheld"),
        (0, decided(None), "nothing"),  # nobody took part: no summary to review
        (10, decided(10), "summary.people"),
        (2, decided(None), "summary.people_few"),  # who took part is itself a small count
    ],
)
def test_a_summary_is_drafted_for_the_facilitator_to_review_in_the_catalogues_words(
    ctx: Context, people: int, disclosed: Disclosed | None, expected: str
) -> None:
    asked = SummaryRequested(FRAN, GROUP, "s1")
    done = settle(SummaryLoaded(asked, HEALTH, comfort_heard(people), disclosed), ctx)
    assert done.captures == ()
    if expected == "withheld":
        assert done.actions == (SendText(GROUP, ctx.t("show.withheld"), person=FRAN),)
        assert done.effects == ()
        return
    if expected == "nothing":
        assert (done.actions, done.effects) == ((), ())
        return
    (draft_changed,) = done.effects
    assert isinstance(draft_changed, SummaryChanged) and draft_changed.person == FRAN
    draft = draft_changed.draft
    assert draft is not None and (draft.group, draft.session_id) == (GROUP, "s1")
    assert done.actions == (support.preview(Actor(FRAN), draft, ctx),)
    lines = draft.text.splitlines()
    assert lines[0] == ctx.t("summary.header", title=HEALTH.title)
    assert lines[1] == ctx.t(expected, people=people, threshold=3, replies=2 * people)
    first = question("first-thoughts")
    assert ctx.t("summary.step_replies", question=first, replies=2 * people) in lines
    assert COMFORT is not None
    options = COMFORT.choices()
    assert ctx.t("summary.option", option=options[0], count=4) in lines
    assert ctx.t("summary.option_hidden", option=options[1], threshold=3) in lines
    assert ctx.t("summary.option_withheld", option=options[2], threshold=3) in lines
    assert lines[-1] == ctx.t("summary.thanks")


@pytest.mark.parametrize(
    ("person", "disclosed", "pictures"),
    [
        (None, decided(10), 1),  # to the group
        (FRAN, decided(10), 1),  # a rehearsal: privately to the facilitator
        (None, None, 0),  # the audit failed: withheld, in the group, for whoever asked
        (FRAN, None, 0),  # in a rehearsal, for the facilitator alone
        (FRAN, decided(10), 0),  # nothing drawn (no such question): nothing said
    ],
)
def test_charts_come_with_their_numbers_in_text_to_whoever_the_request_names(
    ctx: Context, person: PersonRef | None, disclosed: Disclosed | None, pictures: int
) -> None:
    assert COMFORT is not None
    asked = ChartRequested(GROUP, "s1", HEALTH.id, (COMFORT.id,), person)
    done = settle(ChartsDrawn(asked, disclosed, ((COMFORT, PICTURE),) * pictures), ctx)
    assert (done.captures, done.effects) == ((), ())
    if disclosed is None:
        assert done.actions == (SendText(GROUP, ctx.t("show.withheld"), person=person),)
        return
    if not pictures:
        assert done.actions == ()
        return
    image, numbers = done.actions
    assert isinstance(image, SendImage) and isinstance(numbers, SendText)
    assert (image.group, image.png, image.name, image.person) == (
        GROUP,
        PICTURE,
        f"chart-{COMFORT.id}",
        person,
    )
    assert (numbers.group, numbers.person) == (GROUP, person)
    options = COMFORT.choices()
    lines = numbers.text.splitlines()
    assert lines[0] == ctx.t("show.title", text=COMFORT.text.strip())
    assert ctx.t("show.line", option=options[0], count=4) in lines
    assert ctx.t("show.line_hidden", option=options[1], threshold=3) in lines
    assert ctx.t("show.line_withheld", option=options[2], threshold=3) in lines
    assert lines[-1] == ctx.t("show.people", people=10)
    assert ctx.t("show.line_hidden", option=options[1], threshold=3) in image.alt


def test_a_chart_says_fewer_than_the_threshold_answered_when_that_count_is_small(
    ctx: Context,
) -> None:
    assert COMFORT is not None
    few = replace(COMFORT_SHOWN, people=None, people_small=True)
    asked = ChartRequested(GROUP, "s1", HEALTH.id, (COMFORT.id,))
    done = settle(ChartsDrawn(asked, decided(None, few), ((COMFORT, PICTURE),)), ctx)
    numbers = done.actions[-1]
    assert isinstance(numbers, SendText)
    assert numbers.text.splitlines()[-1] == ctx.t("show.people_few", threshold=3)


ASKED_SUMMARY = SummaryRequested(FRAN, GROUP, "s1")


@pytest.mark.parametrize(
    ("result", "answers"),
    [
        (DataLoaded(ALICE, PersonData()), True),
        (RepliesLoaded(ForgetRequested(ALICE, 1), REPLIES), True),
        (TurnoutCounted(TurnoutRequested(FRAN, GROUP, "s1", "x"), Turnout(1, 1, 0), None), True),
        (Erased(ALICE, Erasure(1, 0, 0)), True),
        # News for the lead or the group, not a reply to the vote or command behind it.
        (TallyLoaded(TallyChanged(GROUP, "s1", "x", True), (), None, None), False),
        (RoleSet(RoleChanged(GROUP, ALICE, True), True), False),
        # Sent after what answered the command that ended or showed the session.
        (SummaryLoaded(ASKED_SUMMARY, HEALTH, SessionHeard(0, {}, {}), None), False),
        (ChartsDrawn(ChartRequested(GROUP, "s1", HEALTH.id, ()), None, ()), False),
    ],
)
def test_only_what_answers_a_person_goes_back_as_the_answer_to_what_they_asked(
    result: Result, answers: bool
) -> None:
    assert answers_asker(result) is answers


# --- the facts an event needs ------------------------------------------------------------------

PARTICIPATE = frozenset({"participate"})
SAID = MessagePosted(ALICE, GROUP, "m1", "hello", NOW)
TOGGLE = VoteCast(ALICE, GROUP, "research-comfort", (2,), NOW, toggle=True)


@pytest.mark.parametrize(
    ("event", "person", "state", "scopes", "invited", "vote"),
    [
        (SAID, ALICE, SESSION, frozenset(), GROUP, None),  # no consent: was she invited?
        (SAID, ALICE, SESSION, PARTICIPATE, None, None),  # consented: no invitation
        (SAID, ALICE, replace(SESSION, status=Status.PAUSED), frozenset(), None, None),
        (SAID, ALICE, None, frozenset(), None, None),
        (SAID, PersonRef("console", ""), SESSION, frozenset(), None, None),
        (SAID, ALICE, replace(SESSION, group=GroupRef("direct", "c")), frozenset(), None, None),
        (TOGGLE, ALICE, SESSION, PARTICIPATE, None, ("s1", "research-comfort")),
        (TOGGLE, ALICE, SESSION, frozenset(), GROUP, None),  # no consent: no answer to add to
        (replace(TOGGLE, toggle=False), ALICE, SESSION, PARTICIPATE, None, None),
        (TOGGLE, ALICE, replace(SESSION, session_id=None), PARTICIPATE, None, None),
    ],
)
def test_an_event_needs_the_invitation_only_without_consent_and_a_vote_only_to_toggle(
    event: MessagePosted | VoteCast,
    person: PersonRef,
    state: SessionState | None,
    scopes: frozenset[str],
    invited: GroupRef | None,
    vote: tuple[str, str] | None,
) -> None:
    need = facts.needs(event, person, state, scopes, Desk())
    assert (need.invited, need.current_vote) == (invited, vote)


def test_a_typed_reply_needs_the_profile_only_while_a_profile_question_waits() -> None:
    private = MessagePosted(ALICE, None, "m1", "42", NOW)
    solo = SoloState(ALICE, "default", "health-data-intro", "v", 0, "active", NOW, question="age")
    waiting = Desk(solo=solo)
    assert facts.needs(private, ALICE, None, frozenset(), waiting).profile
    assert not facts.needs(private, ALICE, None, frozenset(), Desk()).profile


@pytest.mark.parametrize(
    ("here", "group", "anywhere", "facilitates"),
    [
        (True, GROUP, False, True),
        (False, GROUP, True, False),  # facilitating elsewhere does not count in a group
        (False, None, True, True),  # in private with no group in view, it does
        (False, None, False, False),
    ],
)
def test_whoever_facilitates_anywhere_facilitates_in_private_with_no_group_in_view(
    here: bool, group: GroupRef | None, anywhere: bool, facilitates: bool
) -> None:
    loaded = Actor(FRAN, group, facilitator=here, desk=Desk(facilitates=anywhere))
    assert facts.actor(loaded).facilitator is facilitates
