"""The self-paced dialogue's rules in the pure core: routing, consent first, the one reminder,
and the script fields that mark self-paced steps (checked by `dialogue content check`)."""

from __future__ import annotations

import shutil
from dataclasses import replace
from datetime import UTC, datetime, timedelta
from pathlib import Path

import pytest
from pydantic import ValidationError

from bot.content.check import collect, load_library
from bot.content.models import Step
from bot.core import engine, solo
from bot.core.actions import SendPrivate
from bot.core.captures import ConsentRecorded, ContentUsed, SessionSaved, SoloSaved
from bot.core.context import Actor, Context
from bot.core.desk import ACTIVE, DONE, STOPPED, Desk, SoloState
from bot.core.direct import direct_group
from bot.core.events import ButtonPressed, CommandIssued, MessagePosted, TimerFired, VoteCast
from bot.core.ids import GroupRef, PersonRef
from bot.texts import Catalogue
from tests.support.cli import ROOT

NOW = datetime(2027, 2, 1, 18, 0, tzinfo=UTC)
ROSA = PersonRef("telegram", "777")
DIRECT = direct_group("default")
DAY = timedelta(days=1)


@pytest.fixture
def ctx() -> Context:
    return Context(load_library(ROOT), Catalogue.load(), NOW, "default", solo_reminder=DAY)


def placed(status: str = ACTIVE, **changes: object) -> SoloState:
    state = SoloState(ROSA, "default", "health-data-intro", "1.0.0", 2, status, NOW)
    return replace(state, **changes)  # type: ignore[arg-type]


ROUTES = {
    "an-invitation": (CommandIssued(ROSA, None, "join", ("default",), NOW), Desk(), True),
    "an-answer-button": (ButtonPressed(ROSA, None, "ballot x 1", NOW), Desk(), True),
    "words-while-under-way": (
        MessagePosted(ROSA, None, "1", "hi", NOW),
        Desk(solo=placed(STOPPED)),
        True,
    ),
    "words-without-one": (MessagePosted(ROSA, None, "1", "hi", NOW), Desk(), False),
    "words-after-finishing": (
        MessagePosted(ROSA, None, "1", "hi", NOW),
        Desk(solo=placed(DONE)),
        False,
    ),
    "about-a-group": (
        ButtonPressed(ROSA, None, "agree participate", NOW, GroupRef("telegram", "-1")),
        Desk(solo=placed()),
        False,
    ),
    "in-a-group": (
        MessagePosted(ROSA, GroupRef("telegram", "-1"), "1", "hi", NOW),
        Desk(solo=placed()),
        False,
    ),
}


@pytest.mark.parametrize(("event", "desk", "routed"), ROUTES.values(), ids=ROUTES)
def test_only_a_residents_private_dialogue_goes_to_the_direct_group(
    event: CommandIssued | ButtonPressed | MessagePosted, desk: Desk, routed: bool
) -> None:
    assert solo.routes(event, desk) is routed


def test_consent_comes_first_and_nothing_is_kept_before_it(ctx: Context) -> None:
    stranger = Actor(ROSA, DIRECT)
    offered = engine.step(None, CommandIssued(ROSA, None, "join", ("default",), NOW), stranger, ctx)
    assert offered.captures == () and offered.state is None
    (offer,) = offered.actions
    assert [b.payload for b in offer.buttons] == [
        "join agree participate quote profile followup",
        "join agree participate",
    ]
    words = engine.step(None, MessagePosted(ROSA, None, "1", "", NOW), stranger, ctx)
    assert words.captures == ()  # no dialogue under way: nothing to answer

    agreed = engine.step(
        None, ButtonPressed(ROSA, None, "join agree participate", NOW), stranger, ctx
    )
    consent, used, session, place = agreed.captures
    assert isinstance(consent, ConsentRecorded) and consent.group == DIRECT
    ran = ctx.library.version(ctx.library.scripts["health-data-intro"])
    assert used == ContentUsed(ran, NOW)
    assert isinstance(session, SessionSaved) and session.state.session_id == "direct-default"
    assert session.state.content_version == ran.digest
    assert place == SoloSaved(
        SoloState(
            ROSA,
            "default",
            "health-data-intro",
            "1.0.0",
            0,
            ACTIVE,
            NOW,
            content_version=ran.digest,
        )
    )
    assert "Step 1 of 16" in agreed.actions[-1].text


def test_an_earlier_cycles_invitation_offers_the_open_one(ctx: Context) -> None:
    actor = Actor(ROSA, direct_group("2026-c4"))
    result = engine.step(None, CommandIssued(ROSA, None, "join", ("2026-c4",), NOW), actor, ctx)
    (said,) = result.actions
    title = ctx.library.scripts["health-data-intro"].title
    assert said.text == ctx.t("solo.closed_join", title=title)
    assert [b.payload for b in said.buttons] == ["join"] and result.captures == ()


NUDGES = {
    "stopped-and-said-yes": (placed(STOPPED, stopped_at=NOW - DAY, remind=True), True),
    "said-no": (placed(STOPPED, stopped_at=NOW - DAY, remind=False), False),
    "never-asked": (placed(STOPPED, stopped_at=NOW - DAY), False),
    "reminded-already": (
        placed(STOPPED, stopped_at=NOW - DAY, remind=True, reminded_at=NOW - DAY / 2),
        False,
    ),
    "came-back": (placed(ACTIVE, stopped_at=NOW - DAY, remind=True), False),
    "stopped-again-later": (placed(STOPPED, stopped_at=NOW - DAY / 2, remind=True), False),
    "finished": (placed(DONE, stopped_at=NOW - DAY, remind=True), False),
    "another-cycle": (
        placed(STOPPED, stopped_at=NOW - DAY, remind=True, cycle_id="2026-c4"),
        False,
    ),
}


@pytest.mark.parametrize(("place", "reminded"), NUDGES.values(), ids=NUDGES)
def test_one_gentle_reminder_only_to_someone_who_said_yes_and_is_still_away(
    place: SoloState, reminded: bool, ctx: Context
) -> None:
    actor = Actor(ROSA, DIRECT, frozenset({"participate"}), desk=Desk(solo=place))
    result = engine.step(None, TimerFired(DIRECT, "nudge", NOW, ROSA), actor, ctx)
    if not reminded:
        assert (result.actions, result.captures) == ((), ())
        return
    (reminder,) = result.actions
    assert isinstance(reminder, SendPrivate) and reminder.person == ROSA
    assert result.captures == (SoloSaved(replace(place, reminded_at=NOW)),)


def test_a_pressed_answer_becomes_a_vote_of_the_direct_group() -> None:
    pressed = ButtonPressed(ROSA, None, "ballot conditions 3 t", NOW, press_id="q1")
    assert solo.ballot_vote(pressed, DIRECT) == VoteCast(
        ROSA, DIRECT, "conditions", (3,), NOW, True, "q1"
    )
    assert solo.ballot_vote(ButtonPressed(ROSA, None, "ballot x y", NOW), DIRECT) is None


@pytest.mark.parametrize(
    ("fields", "message"),
    [
        ({"kind": "prompt", "self_paced_text": "Alone"}, "need 'self_paced = true'"),
        ({"kind": "break", "self_paced": True}, "a break is for groups"),
        ({"kind": "feedback"}, "a feedback step needs 'questions'"),
        (
            {"kind": "prompt", "questions": [{"id": "a", "text": "A?", "options": ["Y", "N"]}]},
            "belong on feedback steps",
        ),
        (
            {
                "kind": "feedback",
                "questions": [{"id": "a", "text": "A?", "options": ["Y", "N"]}] * 2,
            },
            "its own id",
        ),
    ],
)
def test_self_paced_and_feedback_fields_that_do_not_fit_are_refused(
    fields: dict[str, object], message: str
) -> None:
    with pytest.raises(ValidationError, match=message):
        Step.model_validate({"id": "s", "text": "Say something.", **fields})


def test_content_check_names_the_file_and_field_of_a_misplaced_self_paced_wording(
    tmp_path: Path,
) -> None:
    root = tmp_path / "content"
    shutil.copytree(ROOT / "resources", root / "resources")
    shutil.copytree(ROOT / "prompts" / "consent", root / "prompts" / "consent")
    (root / "prompts" / "alone.toml").write_text(
        'id = "alone"\nversion = "1"\ntitle = "Alone"\nlanguage = "en"\n'
        "estimated_minutes = 5\n\n[[steps]]\n"
        'id = "hello"\nkind = "prompt"\ntext = "Hello?"\nself_paced_more = "More."\n',
        encoding="utf-8",
    )
    problems, _ = collect(root)
    first = str(next(p for p in problems if not p.warning))
    assert "alone.toml:7: steps[1]: 'self_paced_text' and 'self_paced_more' need" in first
