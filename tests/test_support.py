"""Facilitator support: the pulse of a step, the feedback step, the summary and the reflection.

Rules in the pure engine (tables of situations), then a whole session through the service on
a real database whose reflections and feedback reach the cycle's export and report.
"""

from __future__ import annotations

from dataclasses import replace
from datetime import UTC, datetime, timedelta
from pathlib import Path

import pytest

from bot.content.check import load_library
from bot.core import engine, steering, support
from bot.core.actions import AskChoice, SendPrivate, SendText
from bot.core.captures import ReflectionSaved, VoteCaptured
from bot.core.context import Actor, Context
from bot.core.desk import Desk, Reflection, SummaryDraft
from bot.core.effects import ChartRequested, SummaryChanged
from bot.core.events import CommandIssued, MessagePosted, VoteCast
from bot.core.ids import PersonRef
from bot.core.records import Turnout
from bot.core.state import SessionState, Status
from bot.core.turnout import describe
from bot.texts import Catalogue
from exporters.dataset import ExportOptions, export_dataset
from storage.datasets import Datasets
from tests.support.cli import ROOT
from tests.support.clockwork import (
    FRAN,
    GROUP,
    Bot,
    FakeClock,
    content_root,
    settings_for,
    start_bot,
)
from tests.support.export_text import csv_rows

NOW = datetime(2027, 2, 1, 18, 0, tzinfo=UTC)
ALICE = PersonRef("console", "alice")
SCRIPT = "health-data-intro"


@pytest.fixture
def ctx() -> Context:
    return Context(load_library(ROOT), Catalogue.load(), NOW, "default")


def at(ctx: Context, step_id: str, minutes_ago: int = 0, status: Status = Status.RUNNING):
    script = ctx.library.scripts[SCRIPT]
    return SessionState(
        GROUP,
        status,
        "s1",
        "default",
        SCRIPT,
        script.version,
        script.index_of(step_id) or 0,
        NOW - timedelta(hours=1),
        NOW - timedelta(minutes=minutes_ago),
    )


PULSES = {
    "time-left": ("first-thoughts", 1, Turnout(8, 3, 2), "pulse.more_time", {"left": "3 minutes"}),
    "time-up": ("first-thoughts", 5, Turnout(8, 5, 1), "pulse.over", {"minutes": "4 minutes"}),
    "time-up-quiet": (
        "first-thoughts",
        6,
        Turnout(8, 3, 4),
        "pulse.over_quiet",
        {"minutes": "4 minutes"},
    ),
    "everyone-replied": ("first-thoughts", 1, Turnout(4, 4, 0), "pulse.all", {}),
    "nobody-agreed": ("first-thoughts", 1, Turnout(0, 0, 0), "pulse.invite", {}),
    "a-card-to-read": ("what-is-data", 1, Turnout(8, 0, 8), "pulse.read", {}),
    "a-card-read-long": ("what-is-data", 3, Turnout(8, 0, 8), "pulse.read_over", {}),
}


@pytest.mark.parametrize(
    ("step", "minutes", "turnout", "key", "extra"), PULSES.values(), ids=PULSES
)
def test_the_pulse_says_who_replied_how_long_and_what_to_do_next(
    step: str, minutes: int, turnout: Turnout, key: str, extra: dict[str, int], ctx: Context
) -> None:
    counts, time, move = support.pulse(at(ctx, step, minutes), turnout, ctx).splitlines()
    planned = ctx.library.scripts[SCRIPT].steps[at(ctx, step).step_index].minutes
    assert time == ctx.t("pulse.time", elapsed=minutes, minutes=planned)
    params = {"replied": turnout.replied, "consented": turnout.consented, **extra}
    assert move == ctx.t(key, **params)
    assert counts == describe(turnout, ctx)


def test_the_feedback_step_asks_each_question_and_stores_answers_like_votes(ctx: Context) -> None:
    state = at(ctx, "feedback")
    shown, _ = steering.present(state, ctx.library.scripts[SCRIPT], Actor(FRAN, GROUP), ctx)
    questions = [a for a in shown if isinstance(a, AskChoice)]
    assert [q.step_id for q in questions] == [
        "feedback.heard",
        "feedback.resources",
        "feedback.again",
    ]
    assert questions[0].hint == ctx.t("feedback.hint", id="heard")
    alice = Actor(ALICE, GROUP, frozenset({"participate"}))
    pressed = engine.step(state, VoteCast(ALICE, GROUP, "feedback.again", (3,), NOW), alice, ctx)
    typed = engine.step(state, CommandIssued(ALICE, GROUP, "vote", ("heard", "2"), NOW), alice, ctx)
    assert pressed.captures == (VoteCaptured("s1", ALICE, GROUP, "feedback.again", (3,), NOW),)
    assert typed.captures == (VoteCaptured("s1", ALICE, GROUP, "feedback.heard", (2,), NOW),)
    vague = engine.step(state, CommandIssued(ALICE, GROUP, "vote", ("2",), NOW), alice, ctx)
    assert vague.captures == ()
    assert vague.actions == (SendPrivate(ALICE, ctx.t("feedback.vote_usage", id="heard"), GROUP),)


def test_show_asks_for_a_chart_of_the_latest_question_and_only_facilitators_may(
    ctx: Context,
) -> None:
    lead = Actor(FRAN, GROUP, facilitator=True)
    later = at(ctx, "research-comfort-why")
    result = engine.step(later, CommandIssued(FRAN, GROUP, "show", (), NOW), lead, ctx)
    assert result.effects == (ChartRequested(GROUP, "s1", SCRIPT, ("research-comfort",)),)
    named = engine.step(later, CommandIssued(FRAN, GROUP, "show", ("trust-scale",), NOW), lead, ctx)
    assert named.effects == (ChartRequested(GROUP, "s1", SCRIPT, ("trust-scale",)),)
    refused = engine.step(later, CommandIssued(ALICE, GROUP, "show", (), NOW), Actor(ALICE), ctx)
    assert refused.effects == ()
    too_early = engine.step(
        at(ctx, "welcome"), CommandIssued(FRAN, GROUP, "show", (), NOW), lead, ctx
    )
    assert too_early.actions == (SendPrivate(FRAN, ctx.t("show.no_choice")),)


def test_the_summary_is_posted_only_as_the_facilitator_approves_or_edits_it(ctx: Context) -> None:
    draft = SummaryDraft(GROUP, "s1", "We heard a lot.")
    lead = Actor(FRAN, None, desk=Desk(summary=draft))
    edit = engine.step(None, CommandIssued(FRAN, None, "summary", ("edit",), NOW), lead, ctx)
    assert edit.effects == (SummaryChanged(FRAN, replace(draft, editing=True)),)
    assert not any(isinstance(a, SendText) for a in edit.actions)
    editing = Actor(FRAN, None, desk=Desk(summary=replace(draft, editing=True)))
    words = MessagePosted(FRAN, None, "m1", "Thank you: you said X and Y.", NOW)
    edited = engine.step(None, words, editing, ctx)
    new = replace(draft, text="Thank you: you said X and Y.")
    assert edited.effects == (SummaryChanged(FRAN, new),) and edited.captures == ()
    assert support.exempt(words, editing.desk)  # the facilitator's own words, asked for
    post = engine.step(
        None,
        CommandIssued(FRAN, None, "summary", ("post",), NOW),
        replace(lead, desk=Desk(summary=new)),
        ctx,
    )
    assert post.actions[0] == SendText(GROUP, "Thank you: you said X and Y.")
    skip = engine.step(None, CommandIssued(FRAN, None, "summary", ("skip",), NOW), lead, ctx)
    assert not any(isinstance(a, SendText) for a in skip.actions)
    assert skip.effects == (SummaryChanged(FRAN, None),)


def test_the_reflection_takes_three_answers_one_at_a_time_and_skip_stores_an_empty_one(
    ctx: Context,
) -> None:
    asked = Reflection("s1", GROUP, NOW)
    lead = Actor(FRAN, None, desk=Desk(reflection=asked))
    first = engine.step(None, MessagePosted(FRAN, None, "m1", " Good energy. ", NOW), lead, ctx)
    answered = replace(asked, answers=("Good energy.", None, None))
    assert first.captures == (ReflectionSaved(FRAN, answered, NOW),)
    assert first.actions[0].text.startswith(ctx.t("reflect.was_hard", number=2, count=3))
    skipping = replace(lead, desk=Desk(reflection=answered))
    skipped = engine.step(None, CommandIssued(FRAN, None, "reflect", ("skip",), NOW), skipping, ctx)
    assert skipped.captures == (
        ReflectionSaved(FRAN, replace(answered, answers=("Good energy.", "", None)), NOW),
    )
    # Without a pending question, private words are nobody's reflection.
    plain = engine.step(None, MessagePosted(FRAN, None, "m2", "hi", NOW), Actor(FRAN), ctx)
    assert plain.captures == ()


async def chat(bot: Bot, person: PersonRef, text: str, private: bool = False) -> None:
    clock = bot.clock
    assert isinstance(clock, FakeClock)
    clock.now += timedelta(seconds=30)
    bot.said += 1
    group = None if private else GROUP
    if text.startswith("/"):
        name, *args = text[1:].split()
        await bot.app.service.handle(
            CommandIssued(person, group, name, tuple(args), clock.now, f"c{bot.said}")
        )
    else:
        await bot.app.service.handle(MessagePosted(person, group, f"m{bot.said}", text, clock.now))


async def test_reflections_and_feedback_reach_the_cycles_export_and_report(
    database_url: str, tmp_path: Path
) -> None:
    clock = FakeClock(NOW)
    settings = settings_for(database_url, content_root(tmp_path))
    bot = await start_bot(settings, clock)
    try:
        await chat(bot, FRAN, f"/start {SCRIPT}")
        await chat(bot, ALICE, "/agree participate quote")
        await chat(bot, FRAN, "/goto first-thoughts")
        await chat(bot, ALICE, "ALICE-WORDS about my records")
        await chat(bot, FRAN, "/goto feedback")
        await chat(bot, ALICE, "/vote heard 1")
        await chat(bot, ALICE, "/vote again 2")
        await chat(bot, FRAN, "/end")
        said = bot.platform.private(FRAN)
        assert any(s.startswith(bot.app.texts.get("en", "summary.review")) for s in said)
        await chat(bot, FRAN, "/summary post", private=True)
        assert "What we heard today" in bot.platform.group_texts()[-1]
        await chat(bot, FRAN, "The group warmed up fast; email me at fran@example.org", True)
        await chat(bot, FRAN, "/reflect skip", private=True)
        await chat(bot, FRAN, "Send the cards a day before.", private=True)
        await chat(bot, FRAN, "/mydata", private=True)
        mydata = bot.platform.private(FRAN)[-1]
        assert "Your reflection on a session you ran: The group warmed up fast" in mydata
        options = ExportOptions(tmp_path / "research", "default", "test", clock.now)
        app = bot.app
        await export_dataset(Datasets(app.database), app.library, app.pseudonymiser, options)
        public = replace(options, out=tmp_path / "public", profile="public", threshold=1)
        await export_dataset(Datasets(app.database), app.library, app.pseudonymiser, public)
    finally:
        await bot.close()

    (reflection,) = csv_rows(tmp_path / "research" / "reflections.csv")
    assert (reflection["group"], reflection["was_hard"]) == ("console:g", "")
    assert reflection["went_well"] == "The group warmed up fast; email me at [email]"
    assert reflection["to_change"] == "Send the cards a day before."
    votes = {
        (v["step_id"], v["option_labels"]) for v in csv_rows(tmp_path / "research" / "votes.csv")
    }
    assert votes == {("feedback.heard", "Yes"), ("feedback.again", "Maybe")}
    options_table = csv_rows(tmp_path / "research" / "step_options.csv")
    assert ("feedback.heard", "1", "Yes") in {
        (o["step_id"], o["option"], o["label"]) for o in options_table
    }
    report = (tmp_path / "research" / "report.html").read_text(encoding="utf-8")
    assert "“Did you feel heard today?”: Yes 1; Partly 0" in report
    # Each reflection stands on its own, every answer under its question.
    went_well = "The group warmed up fast; email me at [email]"
    assert f'<dt>What went well</dt><dd dir="ltr">{went_well}</dd>' in report
    assert "fran@example.org" not in report
    assert not (tmp_path / "public" / "reflections.csv").exists()
    counted = csv_rows(tmp_path / "public" / "vote_counts.csv")
    assert ("all", "feedback.again", "2", "1") in {
        (c["group"], c["step_id"], c["option"], c["votes"]) for c in counted
    }
    public_report = (tmp_path / "public" / "report.html").read_text(encoding="utf-8")
    assert "Did you feel heard today?" in public_report and "warmed up" not in public_report
