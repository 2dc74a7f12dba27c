"""A resident takes part on their own, in a private chat, across a restart and a day's pause.

The real app (service, scheduler, database) on a fake clock, with a recording platform: the
resident follows the cycle's invitation, agrees, answers some steps, stops for now, gets one
reminder a day later, comes back after the bot restarted, and finishes. Their replies are in
the cycle's export under the cycle's direct group, apart from every group's.
"""

from __future__ import annotations

from collections.abc import AsyncIterator
from contextlib import asynccontextmanager
from datetime import UTC, datetime, timedelta
from pathlib import Path

from sqlalchemy import delete, select

from bot.core.actions import SendCard
from bot.core.direct import direct_group
from bot.core.ids import PersonRef
from bot.settings import Settings
from exporters.dataset import ExportOptions, export_dataset
from storage.datasets import Datasets
from storage.db import make_engine
from storage.tables import consents, direct_progress, handled_messages, responses
from tests.support.capture import stored_replies
from tests.support.clockwork import (
    FRAN,
    GROUP,
    Bot,
    FakeClock,
    Resident,
    content_root,
    settings_for,
    start_bot,
    t,
)
from tests.support.export_text import csv_rows

T0 = datetime(2027, 1, 11, 9, 0, tzinfo=UTC)
CYCLE = "2027-c1"
ROSA = PersonRef("console", "rosa")


def solo_settings(database_url: str, tmp_path: Path) -> Settings:
    settings = settings_for(database_url, content_root(tmp_path))
    settings.direct.reminder_hours = 12
    return settings


async def open_cycle(bot: Bot) -> None:
    closes = T0 + timedelta(days=60)
    await bot.ops.create(CYCLE, "Data", "who uses it", T0, closes, ["health-data-intro"], T0)
    await bot.ops.open(CYCLE, T0)
    await bot.scheduler.reconcile()


async def cycle_open(settings: Settings, clock: FakeClock) -> tuple[Bot, Resident]:
    """A bot with the cycle open, and Rosa in her private chat with it."""
    bot = await start_bot(settings, clock)
    await open_cycle(bot)
    return bot, Resident(bot, ROSA)


async def agreed_resident(settings: Settings, clock: FakeClock) -> tuple[Bot, Resident]:
    """A bot with the cycle open, and Rosa, who followed its invitation and agreed."""
    bot, rosa = await cycle_open(settings, clock)
    await rosa.press(f"join {CYCLE}")
    await rosa.press("join agree participate")
    return bot, rosa


async def test_a_resident_takes_part_alone_across_a_restart_and_a_days_pause_with_one_reminder(
    database_url: str, tmp_path: Path
) -> None:
    settings = solo_settings(database_url, tmp_path)
    clock = FakeClock(T0)
    bot, rosa = await cycle_open(settings, clock)

    # The invitation: consent first, nothing stored before it.
    await rosa.say(f"/join {CYCLE}")
    assert "Taking part" in rosa.heard()[-1]
    assert rosa.buttons()[0] == "join agree participate quote profile followup"
    async with bot.app.database.connect() as conn:
        assert (await conn.execute(select(direct_progress))).all() == []
    await rosa.press("join agree participate quote")
    assert "Step 1 of 16" in rosa.heard()[-1]

    await rosa.press("next")  # the card step: title and summary, then "tell me more"
    assert "Step 2 of 16" in rosa.heard()[-1] and "more" in rosa.buttons()
    await rosa.press("more")
    shown = [a for a in bot.platform.actions if isinstance(a, SendCard)]
    assert [(a.card.id, a.person) for a in shown] == [("what-is-health-data", ROSA)]
    await rosa.press("next")
    assert "Step 3 of 16" in rosa.heard()[-1] and rosa.buttons()[-2:] == ["skip", "stop"]
    await rosa.say("ROSA-FIRST I worry about who sees my records")
    assert rosa.heard()[-1] == t(bot, "solo.noted")
    await rosa.press("next")
    await rosa.press("stop")
    assert (
        t(bot, "solo.remind_ask", when=t(bot, "solo.in_hours", hours="12 hours"))
        in rosa.heard()[-1]
    )
    await rosa.press("remind yes")
    stopped_at = clock.now

    # A day passes: one gentle reminder, and only one.
    reminder = t(bot, "solo.reminder", title=bot.app.library.scripts["health-data-intro"].title)
    await bot.advance(stopped_at + timedelta(hours=11))
    assert reminder not in rosa.heard()
    await bot.advance(stopped_at + timedelta(days=1))
    assert rosa.heard().count(reminder) == 1
    await bot.advance(stopped_at + timedelta(days=3))
    assert rosa.heard().count(reminder) == 1

    # The bot restarts; days later she carries on where she left off.
    await bot.close()
    bot = await start_bot(settings, clock)
    rosa = Resident(bot, ROSA, rosa.sent)  # her chat's message numbers go on
    await rosa.press("continue")
    said = rosa.heard()[-1]
    assert said.startswith(t(bot, "solo.welcome_back")) and "Step 4 of 16" in said
    await rosa.press("next")
    await rosa.say("ROSA-SECOND the hospital could not see my notes")
    await rosa.press("next")  # wider uses: a card step
    await rosa.press("next")  # the choice: one answer moves her on by itself
    await rosa.press("ballot research-comfort 5")
    said = rosa.heard()[-1]
    assert said.startswith(t(bot, "vote.recorded", answer="It depends on who uses it and why"))
    assert "Step 8 of 16" in said
    for _ in range(7):  # skipping on to the feedback questions
        await rosa.press("next")
    intro, heard, resources, again, ready = rosa.heard()[-5:]
    assert "Step 15 of 16" in intro and "Did you feel heard today?" in heard
    await rosa.say("/vote heard 1")
    await rosa.press("ballot feedback.again 2")
    await rosa.press("next")
    assert "Step 16 of 16" in rosa.heard()[-1] and rosa.buttons() == []  # the close: done
    await rosa.say("/join")
    assert rosa.heard()[-1] == t(bot, "solo.finished")
    await rosa.say("/mydata")
    title = bot.app.library.scripts["health-data-intro"].title
    assert t(bot, "mydata.place_done", title=title) in rosa.heard()[-1]
    await bot.close()

    out = tmp_path / "export"
    restarted = await start_bot(settings, clock)
    try:
        app = restarted.app
        options = ExportOptions(out, CYCLE, "test", clock.now)
        await export_dataset(Datasets(app.database), app.library, app.pseudonymiser, options)
        async with app.database.connect() as conn:
            progress = (await conn.execute(select(direct_progress))).one()
            stored = (await conn.execute(select(responses.c.message_id))).scalars().all()
    finally:
        await restarted.close()
    assert (progress.status, progress.remind, progress.reminded_at is not None) == (
        "done",
        True,
        True,
    )
    # Message ids of a private chat are made unique per person, and name no one.
    assert all("rosa" not in message_id for message_id in stored)
    replies = csv_rows(out / "responses.csv")
    assert [(r["group"], r["session_id"], r["step_id"], r["text"][:10]) for r in replies] == [
        (f"direct:{CYCLE}", f"direct-{CYCLE}", "first-thoughts", "ROSA-FIRST"),
        (f"direct:{CYCLE}", f"direct-{CYCLE}", "own-care-experiences", "ROSA-SECON"),
    ]
    votes = {(v["group"], v["step_id"], v["option_labels"]) for v in csv_rows(out / "votes.csv")}
    assert votes == {
        (f"direct:{CYCLE}", "research-comfort", "It depends on who uses it and why"),
        (f"direct:{CYCLE}", "feedback.heard", "Yes"),
        (f"direct:{CYCLE}", "feedback.again", "Maybe"),
    }
    groups = csv_rows(out / "groups.csv")
    assert [(g["group"], g["platform"]) for g in groups] == [(f"direct:{CYCLE}", "direct")]
    participants = csv_rows(out / "participants.csv")
    assert [(p["group"], p["quote"]) for p in participants] == [(f"direct:{CYCLE}", "true")]


@asynccontextmanager
async def resident(
    database_url: str, tmp_path: Path, *, agreed: bool
) -> AsyncIterator[tuple[Bot, Resident]]:
    """A bot with the cycle open, on a clock at T0, and Rosa in her private chat with it (who
    followed its invitation and agreed, if ``agreed``); the bot is closed afterwards."""
    settings, clock = solo_settings(database_url, tmp_path), FakeClock(T0)
    bot, rosa = await (agreed_resident if agreed else cycle_open)(settings, clock)
    try:
        yield bot, rosa
    finally:
        await bot.close()


async def test_a_resident_who_says_no_to_reminders_gets_none_and_a_group_facilitator_is_untouched(
    database_url: str, tmp_path: Path
) -> None:
    async with resident(database_url, tmp_path, agreed=True) as (bot, rosa):
        await rosa.press("stop")
        await rosa.press("remind no")
        await bot.advance(bot.clock() + timedelta(days=5))
        reminder = t(bot, "solo.reminder", title=bot.app.library.scripts["health-data-intro"].title)
        assert reminder not in rosa.heard()
        assert not [j.id for j in bot.scheduler.aps.get_jobs() if j.id.startswith("nudge:")]
        # A second stop does not ask again.
        await rosa.press("continue")
        await rosa.press("stop")
        assert rosa.heard()[-1] == t(bot, "solo.stopped")
        # Groups are untouched: Fran's group session starts as before, beside the direct one.
        await bot.say(FRAN, "/start health-data-intro")
        sessions = bot.app.service.sessions
        assert sessions[GROUP].script_id == "health-data-intro"
        assert sessions[direct_group(CYCLE)].session_id == f"direct-{CYCLE}"


async def stored_of(bot: Bot) -> tuple[list[str], list[datetime]]:
    """The texts of every stored reply, and when each consent was given."""
    texts = [reply.text for reply in await stored_replies(bot.app.database)]
    async with bot.app.database.connect() as conn:
        given = (await conn.execute(select(consents.c.given_at))).scalars().all()
    return texts, list(given)


async def test_a_replay_after_a_crash_stores_no_words_from_before_consent_nor_agrees_twice(
    database_url: str, tmp_path: Path
) -> None:
    settings = solo_settings(database_url, tmp_path)
    clock = FakeClock(T0)
    bot, rosa = await cycle_open(settings, clock)
    steps = [f"/join {CYCLE}", "ROSA-BEFORE-CONSENT just looking around", "/agree participate"]
    for text in steps:
        await rosa.say(text)
    assert "Step 1 of 16" in rosa.heard()[-1]
    texts, agreed = await stored_of(bot)
    assert texts == [] and len(agreed) == 1
    await bot.close()

    # The bot crashed before the platform learnt these arrived: it sends them all again.
    clock.now += timedelta(minutes=5)
    bot = await start_bot(settings, clock)
    try:
        again = Resident(bot, ROSA)
        for text in steps:
            await again.say(text)
        assert again.heard() == []  # each was handled already: nothing is answered twice
        await again.say("ROSA-AFTER-CONSENT glad to be here")  # a new message is kept
        assert await stored_of(bot) == (["ROSA-AFTER-CONSENT glad to be here"], agreed)
    finally:
        await bot.close()


async def test_a_typed_answer_to_the_reminder_question_is_no_reply_and_blank_messages_are_none(
    database_url: str, tmp_path: Path
) -> None:
    async with resident(database_url, tmp_path, agreed=True) as (bot, rosa):
        await rosa.press("next")  # a card step
        await rosa.press("stop")
        await rosa.say("maybe later")
        assert rosa.heard()[-1] == t(bot, "solo.remind_again")
        assert rosa.buttons() == ["remind yes", "remind no", "continue"]
        await rosa.say("Yes!")
        assert rosa.heard()[-1] == t(bot, "solo.remind_yes")
        await rosa.press("continue")
        for nothing in ("", "   \t", "\x00\x00", "\u200b\u2060", "/", " / "):
            await rosa.say(nothing)
        await rosa.say("yes")  # the question was answered: now this is a reply to the step
        async with bot.app.database.connect() as conn:
            remind = (await conn.execute(select(direct_progress.c.remind))).scalar()
        assert remind is True
        assert (await stored_of(bot))[0] == ["yes"]


async def test_a_withdrawn_reply_replayed_after_agreeing_again_and_a_purge_stays_out(
    database_url: str, tmp_path: Path
) -> None:
    settings = solo_settings(database_url, tmp_path)
    clock = FakeClock(T0)
    bot, rosa = await agreed_resident(settings, clock)
    await rosa.say("ROSA-WITHDRAWN my first words")  # her third message
    await rosa.say("/withdraw")
    await rosa.say("/withdraw confirm")
    assert (await stored_of(bot)) == ([], [])
    await rosa.press(f"join {CYCLE}")
    await rosa.press("join agree participate")
    await bot.close()
    engine = make_engine(database_url)
    async with engine.begin() as conn:
        # Long after: handled messages are forgotten (capture.remember_days).
        await conn.execute(delete(handled_messages))
    await engine.dispose()

    bot = await start_bot(settings, clock)
    try:
        again = Resident(bot, ROSA, sent=2)
        await again.say("ROSA-WITHDRAWN my first words")  # the platform sends it again
        await again.say("ROSA-NEW words after agreeing again")
        assert (await stored_of(bot))[0] == ["ROSA-NEW words after agreeing again"]
    finally:
        await bot.close()


async def test_a_resident_pressing_on_quickly_is_never_held_back_and_replies_land_at_their_step(
    database_url: str, tmp_path: Path
) -> None:
    settings = solo_settings(database_url, tmp_path)
    # A strict limit: two commands at once, then one a minute (she presses every 20 seconds).
    settings.limits.commands_per_minute = 1
    settings.limits.command_burst = 2
    clock = FakeClock(T0)
    bot = await start_bot(settings, clock)
    try:
        await open_cycle(bot)
        rosa = Resident(bot, ROSA)
        await rosa.say(f"/join {CYCLE}")
        await rosa.press("join agree participate")
        for _ in range(6):  # through the welcome, the cards and their "tell me more"
            await rosa.press("next")
            await rosa.press("more")
        await rosa.press("next")
        await rosa.say("/help")
        await rosa.say("/mydata")
        step = rosa.heard()[-3]
        assert "Step 8 of 16" in step
        await rosa.say("ROSA-QUICK my answer to the step I was shown")
        assert rosa.heard()[-1] == t(bot, "solo.noted")
        assert not any("very quickly" in said for said in rosa.heard())
        async with bot.app.database.connect() as conn:
            steps = (await conn.execute(select(responses.c.step_id))).scalars().all()
        assert steps == ["research-comfort-why"]
        assert (await stored_of(bot))[0] == ["ROSA-QUICK my answer to the step I was shown"]
    finally:
        await bot.close()


async def test_a_typed_answer_to_a_profile_question_is_a_profile_answer_never_a_reply(
    database_url: str, tmp_path: Path
) -> None:
    clock = FakeClock(T0)
    settings = solo_settings(database_url, tmp_path)
    bot, rosa = await cycle_open(settings, clock)
    try:
        await rosa.press(f"join {CYCLE}")
        await rosa.press("join agree participate profile")
        await rosa.say("/profile start")
        assert "Which age group are you in?" in rosa.heard()[-1]
        await rosa.say("ROSA-UNSURE not sure")  # neither a number nor an answer: asked again
        assert "Which age group are you in?" in rosa.heard()[-1]
        await bot.close()
        bot = await start_bot(settings, clock)  # the question still waits after a restart
        rosa = Resident(bot, ROSA, rosa.sent)
        await rosa.say("2")  # the answer's number, typed rather than pressed
        assert "Which of these best describes you?" in rosa.heard()[-1]
        await rosa.say("woman")  # the answer's words
        await rosa.press("profile skip ethnic-group")
        answers = await bot.app.repository.profile_answers(ROSA)
        assert [(a.question_id, a.answer) for a in answers] == [
            ("age", "25 to 34"),
            ("gender", "Woman"),
            ("ethnic-group", None),
        ]
        assert (await stored_of(bot))[0] == []
        await rosa.press("next")  # on with the dialogue: the next question no longer waits
        await rosa.say("ROSA-REPLY my own words")
        assert (await stored_of(bot))[0] == ["ROSA-REPLY my own words"]
    finally:
        await bot.close()


async def test_a_typed_answer_after_dropping_the_profile_is_stored_nowhere(
    database_url: str, tmp_path: Path
) -> None:
    async with resident(database_url, tmp_path, agreed=False) as (bot, rosa):
        await rosa.press(f"join {CYCLE}")
        await rosa.press("join agree participate profile")
        await rosa.say("/profile start")
        await rosa.say("/agree participate")  # the profile dropped while its question waits
        await rosa.say("ROSA-AGE-2 2")
        assert await bot.app.repository.profile_answers(ROSA) == ()
        assert (await stored_of(bot))[0] == []
