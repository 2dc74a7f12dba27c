"""The optional profile in the pure engine: asked privately, one question at a time, skippable.

Driven with the shipped profile questions (prompts/profile/en.toml). Replies are compared with
the message catalogue, never with English written here.
"""

from __future__ import annotations

from dataclasses import replace
from datetime import UTC, datetime

import pytest

from bot.content.check import load_library
from bot.content.profile import ProfileQuestions
from bot.core import engine
from bot.core.actions import Button, SendPrivate
from bot.core.captures import ConsentRecorded, ProfileAnswered, ProfileDeleted
from bot.core.context import Actor, Context, Transition
from bot.core.events import ButtonPressed, CommandIssued
from bot.core.ids import GroupRef, PersonRef
from bot.core.records import ProfileAnswer
from bot.core.state import SessionState
from bot.texts import Catalogue
from tests.support.cli import ROOT

NOW = datetime(2025, 3, 4, 18, 30, tzinfo=UTC)
GROUP = GroupRef("console", "g")
ALICE = PersonRef("console", "alice")
WITH_PROFILE = frozenset({"participate", "profile"})


@pytest.fixture(scope="module")
def ctx() -> Context:
    return Context(load_library(ROOT), Catalogue.load(), NOW, cycle_id="default")


@pytest.fixture(scope="module")
def questions(ctx: Context) -> ProfileQuestions:
    return ctx.library.profiles["en"]


def alice(
    scopes: frozenset[str] = WITH_PROFILE, answers: dict[str, str | None] | None = None
) -> Actor:
    stored = tuple(ProfileAnswer(q, a, NOW) for q, a in (answers or {}).items())
    return Actor(ALICE, GROUP, scopes, profile=stored)


def profile(
    ctx: Context, *args: str, actor: Actor | None = None, private: bool = True
) -> Transition:
    """/profile typed by alice, privately unless ``private`` is False."""
    who = actor or alice()
    event = CommandIssued(ALICE, None if private else GROUP, "profile", args, NOW)
    return engine.step(SessionState(GROUP), event, who, ctx)


def press(ctx: Context, payload: str, actor: Actor) -> Transition:
    event = ButtonPressed(ALICE, None, payload, NOW)
    return engine.step(SessionState(GROUP), event, actor, ctx)


def one_private(transition: Transition) -> SendPrivate:
    assert len(transition.actions) == 1, transition.actions
    (message,) = transition.actions
    assert isinstance(message, SendPrivate)
    assert message.person == ALICE
    return message


def asks(message: SendPrivate, ctx: Context, questions: ProfileQuestions, number: int) -> None:
    """The message asks question ``number`` (1-based), with a button per answer and a skip."""
    question = questions.questions[number - 1]
    expected = ctx.t(
        "profile.question", number=number, count=len(questions.questions), text=question.text
    )
    assert expected in message.text
    labels = [b.label for b in message.buttons]
    assert labels == [*question.options, questions.prefer_not_to_say, ctx.t("profile.skip_button")]
    assert message.buttons[0] == Button(
        question.options[0],
        f"profile answer {question.id} 1",
        f"/profile answer {question.id} 1",
    )


def test_the_shipped_questions_are_the_ones_the_issue_asks_for(questions: ProfileQuestions) -> None:
    assert [q.id for q in questions.questions] == [
        "age",
        "gender",
        "ethnic-group",
        "disability",
        "first-language",
        "area",
        "consulted-before",
    ]
    ethnic = questions.question("ethnic-group")
    assert ethnic is not None
    # The 19 categories of the 2021 census of England and Wales, in its five high-level groups.
    assert len(ethnic.options) == 19
    assert len(ethnic.groups) == 5
    assert ethnic.report_value("Caribbean") == (
        "Black, Black British, Black Welsh, Caribbean or African"
    )
    assert questions.choices(ethnic)[-1] == "Prefer not to say"


def test_agreeing_to_the_profile_invites_privately_and_asks_nothing_yet(ctx: Context) -> None:
    before = alice(frozenset({"participate"}))
    event = CommandIssued(ALICE, GROUP, "agree", ("participate", "profile"), NOW)
    result = engine.step(SessionState(GROUP), event, before, ctx)
    assert [type(c) for c in result.captures] == [ConsentRecorded]
    invitation = result.actions[-1]
    assert isinstance(invitation, SendPrivate)
    assert invitation.text == ctx.t("profile.invite", questions="7 short questions")
    assert [b.command for b in invitation.buttons] == ["/profile start"]


def test_agreeing_again_with_the_profile_does_not_invite_twice(ctx: Context) -> None:
    event = CommandIssued(ALICE, GROUP, "agree", ("participate", "profile"), NOW)
    result = engine.step(SessionState(GROUP), event, alice(), ctx)
    assert len(result.actions) == 1
    assert result.captures[1:] == ()


def test_dropping_the_profile_scope_deletes_answers_unless_kept_elsewhere(ctx: Context) -> None:
    event = CommandIssued(ALICE, GROUP, "agree", ("participate",), NOW)
    result = engine.step(SessionState(GROUP), event, alice(), ctx)
    assert result.captures[1:] == (ProfileDeleted(ALICE, None, unless_consented=True),)


def test_start_asks_the_first_question_with_a_button_for_each_answer(
    ctx: Context, questions: ProfileQuestions
) -> None:
    result = profile(ctx, "start")
    assert result.captures == ()
    asks(one_private(result), ctx, questions, 1)


def test_an_answer_is_stored_and_the_next_question_follows(
    ctx: Context, questions: ProfileQuestions
) -> None:
    result = profile(ctx, "answer", "age", "2")
    assert result.captures == (ProfileAnswered(ALICE, "age", "25 to 34", NOW),)
    message = one_private(result)
    assert message.text.startswith(ctx.t("profile.recorded", label="Age group", answer="25 to 34"))
    asks(message, ctx, questions, 2)


def test_a_button_press_answers_like_the_typed_command(ctx: Context) -> None:
    typed = profile(ctx, "answer", "gender", "5", actor=alice(answers={"age": "16 to 24"}))
    pressed = press(ctx, "profile answer gender 5", alice(answers={"age": "16 to 24"}))
    assert pressed == typed
    assert typed.captures == (ProfileAnswered(ALICE, "gender", "Prefer not to say", NOW),)


def test_skipping_stores_no_answer_and_moves_on(ctx: Context, questions: ProfileQuestions) -> None:
    result = profile(ctx, "skip", "age")
    assert result.captures == (ProfileAnswered(ALICE, "age", None, NOW),)
    message = one_private(result)
    assert message.text.startswith(ctx.t("profile.skipped", label="Age group"))
    asks(message, ctx, questions, 2)


def test_the_next_question_is_the_first_neither_answered_nor_skipped(
    ctx: Context, questions: ProfileQuestions
) -> None:
    answered = alice(answers={"age": "25 to 34", "gender": None, "disability": "No"})
    asks(one_private(profile(ctx, "start", actor=answered)), ctx, questions, 3)


def test_after_the_last_question_the_person_is_thanked(ctx: Context) -> None:
    everything = {q.id: None for q in ctx.library.profiles["en"].questions}
    del everything["consulted-before"]
    result = profile(ctx, "answer", "consulted-before", "1", actor=alice(answers=everything))
    assert result.captures == (ProfileAnswered(ALICE, "consulted-before", "Yes", NOW),)
    assert one_private(result).text.endswith(ctx.t("profile.done"))
    assert one_private(result).buttons == ()


def test_change_asks_an_answered_question_again_by_number_or_id(
    ctx: Context, questions: ProfileQuestions
) -> None:
    answered = alice(answers={"age": "25 to 34", "gender": "Woman"})
    by_number = one_private(profile(ctx, "change", "2", actor=answered))
    by_id = one_private(profile(ctx, "change", "gender", actor=answered))
    assert by_number == by_id
    asks(by_number, ctx, questions, 2)
    changed = profile(ctx, "answer", "gender", "3", actor=answered)
    assert changed.captures == (ProfileAnswered(ALICE, "gender", "Non-binary", NOW),)
    # The change is followed by the first question not yet answered.
    asks(one_private(changed), ctx, questions, 3)


def test_review_shows_each_answer_skip_and_gap_with_ways_to_change(
    ctx: Context, questions: ProfileQuestions
) -> None:
    answered = alice(answers={"age": "25 to 34", "gender": None, "old-question": "Blue"})
    message = one_private(profile(ctx, actor=answered))
    lines = message.text.split("\n")
    assert lines[0] == ctx.t("profile.review_header")
    assert lines[1] == ctx.t("profile.review_line", number=1, label="Age group", answer="25 to 34")
    skipped = ctx.t("profile.skipped_mark")
    assert lines[2] == ctx.t("profile.review_line", number=2, label="Gender", answer=skipped)
    missing = ctx.t("profile.not_answered")
    assert lines[3] == ctx.t("profile.review_line", number=3, label="Ethnic group", answer=missing)
    assert ctx.t("profile.review_old", question="old-question", answer="Blue") in lines
    assert ctx.t("profile.review_footer") in lines
    assert [b.command for b in message.buttons] == ["/profile start", "/profile delete all"]


def test_deleting_one_answer_or_all_of_them(ctx: Context) -> None:
    answered = alice(answers={"age": "25 to 34", "gender": "Woman"})
    one = profile(ctx, "delete", "1", actor=answered)
    assert one.captures == (ProfileDeleted(ALICE, "age"),)
    assert one_private(one).text == ctx.t("profile.deleted_one", label="Age group")
    everything = press(ctx, "profile delete all", answered)
    assert everything.captures == (ProfileDeleted(ALICE),)
    assert one_private(everything).text == ctx.t("profile.deleted_all")


def test_a_person_without_the_profile_consent_can_still_see_and_delete_answers(
    ctx: Context,
) -> None:
    # Answers given under a consent since narrowed elsewhere stay visible and deletable.
    withdrawn = alice(frozenset({"participate"}), {"age": "25 to 34"})
    review = one_private(profile(ctx, actor=withdrawn))
    assert ctx.t("profile.no_consent") in review.text
    assert [b.command for b in review.buttons] == ["/profile delete all"]
    assert profile(ctx, "delete", "all", actor=withdrawn).captures == (ProfileDeleted(ALICE),)


@pytest.mark.parametrize(
    "args", [("start",), ("answer", "age", "1"), ("skip", "age"), ("change", "1")]
)
def test_nobody_is_asked_or_stored_without_the_profile_consent(
    args: tuple[str, ...], ctx: Context
) -> None:
    for scopes in (frozenset(), frozenset({"participate", "quote", "followup"})):
        result = profile(ctx, *args, actor=alice(scopes))
        assert result.captures == ()
        assert one_private(result).text == ctx.t("profile.no_consent")


def test_an_answer_typed_in_the_group_is_not_stored_and_is_asked_again_privately(
    ctx: Context, questions: ProfileQuestions
) -> None:
    result = profile(ctx, "answer", "ethnic-group", "3", private=False)
    assert result.captures == ()
    message = one_private(result)
    assert message.text.startswith(ctx.t("profile.answer_privately"))
    asks(message, ctx, questions, 3)


@pytest.mark.parametrize(
    ("args", "key", "params"),
    [
        (("answer", "age", "9"), "profile.answer_usage", {"count": 8, "id": "age"}),
        (("answer", "age", "0"), "profile.answer_usage", {"count": 8, "id": "age"}),
        (("answer", "age", "²"), "profile.answer_usage", {"count": 8, "id": "age"}),
        (("answer", "age"), "profile.answer_usage", {"count": 8, "id": "age"}),
        (("answer", "shoe-size", "1"), "profile.unknown_question", {"question": "shoe-size"}),
        (("change", "99"), "profile.unknown_question", {"question": "99"}),
        (("delete", "gender"), "profile.nothing_to_delete", {}),
        (("delete",), "profile.usage", {}),
        (("frobnicate",), "profile.usage", {}),
    ],
)
def test_unusable_profile_commands_are_explained_and_change_nothing(
    args: tuple[str, ...], key: str, params: dict[str, object], ctx: Context
) -> None:
    result = profile(ctx, *args, actor=alice(answers={"age": "25 to 34"}))
    assert result.captures == ()
    assert one_private(result).text == ctx.t(key, **params)


def test_without_profile_questions_nobody_is_invited_or_asked(ctx: Context) -> None:
    bare = Context(replace(ctx.library, profiles={}), ctx.texts, NOW, cycle_id="default")
    event = CommandIssued(ALICE, None, "profile", ("start",), NOW)
    result = engine.step(None, event, alice(), bare)
    assert one_private(result).text == ctx.t("profile.unavailable")
    agree = CommandIssued(ALICE, GROUP, "agree", ("participate", "profile"), NOW)
    agreed = engine.step(None, agree, alice(frozenset()), bare)
    assert [a.text for a in agreed.actions if isinstance(a, SendPrivate)] == [
        ctx.t("consent.agreed", scopes="participate, profile")
    ]
