"""A person erased from the command line while the bot runs keeps nothing written before its poll.

Until the running bot polls the audit, it still holds the person's consent in memory, so what
they write meanwhile is stored (under a new identity). At the poll the bot erases that too, by
the path ``/withdraw confirm`` takes, and the audit says so once. Every process polls: the one
running the scheduler at the scheduler's poll, any other (its schedule off, or the scheduler's
lease held by another process) at its own.
"""

from __future__ import annotations

import argparse
import asyncio
from collections.abc import AsyncIterator, Awaitable, Callable
from contextlib import asynccontextmanager
from datetime import UTC, datetime, timedelta
from pathlib import Path

import pytest

from bot.app import App, build, cycles, scheduler
from bot.cli import person
from bot.cli.run import _watch
from bot.core.ids import PersonRef
from bot.settings import Settings
from tests.support.capture import stored_replies, user_ids
from tests.support.clockwork import (
    C1_TALK,
    FRAN,
    GROUP,
    Bot,
    FakeClock,
    Resident,
    content_root,
    settings_for,
    start_bot,
)
from tests.support.recording import Recorder

T0 = datetime(2027, 1, 10, 9, 0, tzinfo=UTC)
CYCLE = "2027-c1"
NEXT_CYCLE = "2027-c2"
ALICE = PersonRef("console", "alice")  # erased from the command line, writes before the poll
BOB = PersonRef("console", "bob")  # stays
DANA = PersonRef("console", "dana")  # withdraws in the chat, then agrees again
ROSA = PersonRef("console", "rosa")  # a resident, on her own in a private chat


async def erase_from_the_command_line(settings: Settings, who: PersonRef) -> None:
    """``dialogue person erase --yes``: its own app on the same database, as its process has."""
    staff = await build(settings)
    try:
        args = argparse.Namespace(
            action="erase", platform=who.platform, user_id=who.user_id, yes=True
        )
        assert await person.run(args, staff) == 0
    finally:
        await staff.close()


async def nothing_left_of(bot: Bot | App, who: PersonRef) -> None:
    """No reply, answer, consent or identity of the person is stored."""
    app = bot.app if isinstance(bot, Bot) else bot
    data = await app.repository.person_data(who)
    assert (data.responses, data.votes, data.consents) == ((), (), ())
    assert who.user_id.upper() not in repr(await stored_replies(app.database))
    async with app.database.connect() as conn:
        assert who.user_id not in (await user_ids(conn)).values()


async def erasures_of(bot: Bot | App, who: PersonRef) -> list[dict[str, object]]:
    app = bot.app if isinstance(bot, Bot) else bot
    pseudonym = app.service.pseudonymise(who)
    entries = await app.repository.audit_entries("erasure")
    return [dict(e.detail) for e in entries if e.detail["pseudonym"] == pseudonym]


async def test_words_written_between_a_command_line_erasure_and_the_poll_are_erased_at_it(
    database_url: str, tmp_path: Path
) -> None:
    settings = settings_for(database_url, content_root(tmp_path, {"c1-talk": C1_TALK}))
    bot = await start_bot(settings, FakeClock(T0))
    try:
        await bot.say(FRAN, "/start c1-talk")
        for who in (ALICE, BOB, DANA):
            await bot.say(who, "/agree participate")
        await bot.say(ALICE, "ALICE-BEFORE my records are mine")
        # Dana withdraws in the chat and agrees again: what she writes after is hers to keep.
        await bot.say(DANA, "/withdraw confirm")
        await bot.say(DANA, "/agree participate")
        await bot.say(DANA, "DANA-AGAIN back with you")

        await erase_from_the_command_line(settings, ALICE)
        await bot.say(ALICE, "ALICE-IN-THE-WINDOW still talking")
        await bot.say(BOB, "BOB-STAYS his words")
        await bot.say(FRAN, "/next")
        await bot.say(ALICE, "/vote 2")
        await bot.say(BOB, "/vote 1")
        await bot.scheduler.poll()
        await nothing_left_of(bot, ALICE)

        # What she says after the poll is not stored either, and nothing more is audited.
        await bot.say(ALICE, "ALICE-AFTER-THE-POLL and more")
        await bot.scheduler.poll()
        await nothing_left_of(bot, ALICE)
        texts = [r.text for r in await stored_replies(bot.app.database)]
        assert texts == ["DANA-AGAIN back with you", "BOB-STAYS his words"]
        assert len((await bot.app.repository.person_data(BOB)).votes) == 1
        assert len(await erasures_of(bot, DANA)) == 1
        # Her erasure, then what was found of her at the poll: one entry each.
        pseudonym = bot.app.service.pseudonymise(ALICE)
        assert await erasures_of(bot, ALICE) == [
            {"pseudonym": pseudonym, "responses": 1, "votes": 0, "consents": 1, "by": "staff"},
            {
                "pseudonym": pseudonym,
                "responses": 1,
                "votes": 1,
                "consents": 0,
                "by": "staff",
                "again": True,
            },
        ]
    finally:
        await bot.close()


async def test_a_residents_words_between_a_command_line_erasure_and_the_poll_are_erased_at_it(
    database_url: str, tmp_path: Path
) -> None:
    settings = settings_for(database_url, content_root(tmp_path))
    clock = FakeClock(T0)
    bot = await start_bot(settings, clock)
    try:
        closes = T0 + timedelta(days=60)
        await bot.ops.create(CYCLE, "Data", "who uses it", T0, closes, ["health-data-intro"], T0)
        await bot.ops.open(CYCLE, T0)
        await bot.scheduler.reconcile()
        rosa = Resident(bot, ROSA)
        await rosa.press(f"join {CYCLE}")
        await rosa.press("join agree participate")
        await rosa.press("next")
        await rosa.press("next")
        await rosa.say("ROSA-BEFORE who sees my records")

        await erase_from_the_command_line(settings, ROSA)
        await rosa.say("ROSA-IN-THE-WINDOW and who keeps them")
        await rosa.press("next")
        await bot.scheduler.poll()
        await nothing_left_of(bot, ROSA)
        assert [e.get("again") for e in await erasures_of(bot, ROSA)] == [None, True]
    finally:
        await bot.close()


@asynccontextmanager
async def another_process(settings: Settings, clock: FakeClock, shape: str) -> AsyncIterator[Bot]:
    """A second bot on the database, its watch polling on its own as ``dialogue run`` has it.

    ``shape``: its schedule off (a platform in a process of its own), or its scheduler refused
    the lease another process holds.
    """
    settings.schedule.poll_seconds = 1
    settings.schedule.enabled = shape == "lease elsewhere"
    app = await build(settings)
    app.service.clock = clock
    ops = cycles(app)
    bot = Bot(app, Recorder(), ops, scheduler(app, ops), clock)
    app.service.attach(bot.platform)
    try:
        if settings.schedule.enabled:
            assert not await bot.scheduler.start(), "the first process holds the lease"
        else:
            bot.scheduler.watch = await _watch(app)
        yield bot
    finally:
        await bot.close()


async def polled(check: Callable[[], Awaitable[bool]]) -> None:
    """Wait (a poll is a second here) until ``check`` holds; fail after ten seconds."""
    for _ in range(100):
        if await check():
            return
        await asyncio.sleep(0.1)
    raise AssertionError("not picked up within ten polls")


@pytest.mark.parametrize("shape", ["schedule off", "lease elsewhere"])
async def test_a_process_without_the_scheduler_erases_at_its_own_poll(
    database_url: str, tmp_path: Path, shape: str
) -> None:
    root = content_root(tmp_path, {"c1-talk": C1_TALK})
    clock = FakeClock(T0)
    first = await start_bot(settings_for(database_url, root), clock)  # holds the lease
    try:
        settings = settings_for(database_url, root)
        async with another_process(settings, clock, shape) as other:
            app, say = other.app, other.say
            await say(FRAN, "/start c1-talk")
            for who in (ALICE, BOB):
                await say(who, "/agree participate")
            await say(ALICE, "ALICE-BEFORE my records are mine")
            await erase_from_the_command_line(settings, ALICE)
            await say(ALICE, "ALICE-IN-THE-WINDOW still talking")
            await say(BOB, "BOB-STAYS his words")

            async def erased_again() -> bool:
                return len(await erasures_of(app, ALICE)) == 2

            await polled(erased_again)
            await say(ALICE, "ALICE-AFTER-THE-POLL and more")
            await nothing_left_of(app, ALICE)
            assert [r.text for r in await stored_replies(app.database)] == ["BOB-STAYS his words"]
            assert [e.get("again") for e in await erasures_of(app, ALICE)] == [None, True]
    finally:
        await first.close()


async def test_a_process_without_the_scheduler_takes_up_cycles_opened_and_closed_elsewhere(
    database_url: str, tmp_path: Path
) -> None:
    root = content_root(tmp_path, {"c1-talk": C1_TALK})
    clock = FakeClock(T0)
    first = await start_bot(settings_for(database_url, root), clock)
    try:
        closes = T0 + timedelta(days=60)
        await first.ops.create(CYCLE, "Data", "who uses it", T0, closes, ["c1-talk"], T0)
        await first.ops.open(CYCLE, T0)
        settings = settings_for(database_url, root)
        async with another_process(settings, clock, "schedule off") as other:
            app, say = other.app, other.say
            assert app.service.cycle_id == CYCLE, "the open cycle is taken up at the start"
            await say(FRAN, "/start c1-talk")
            await say(BOB, "/agree participate")
            await say(BOB, "BOB-IN-THE-CYCLE his words")
            assert app.service.sessions[GROUP].cycle_id == CYCLE
            await first.ops.close(CYCLE, T0 + timedelta(days=1))

            async def session_ended() -> bool:
                return not app.service.sessions[GROUP].live

            await polled(session_ended)
            await say(BOB, "BOB-AFTER-THE-CLOSE not in the cycle")
            texts = [r.text for r in await stored_replies(app.database)]
            assert texts == ["BOB-IN-THE-CYCLE his words"]

            # The next cycle, opened while it runs, is taken up at its poll.
            then = T0 + timedelta(days=2)
            await first.ops.create(NEXT_CYCLE, "Data", "who uses it", then, closes, ["timed"], then)
            await first.ops.open(NEXT_CYCLE, then)

            async def next_cycle_taken_up() -> bool:
                return app.service.cycle_id == NEXT_CYCLE

            await polled(next_cycle_taken_up)
    finally:
        await first.close()


async def test_a_scheduler_that_lost_its_lease_still_erases_at_its_own_poll(
    database_url: str, tmp_path: Path
) -> None:
    settings = settings_for(database_url, content_root(tmp_path, {"c1-talk": C1_TALK}))
    settings.schedule.poll_seconds = 1
    bot = await start_bot(settings, FakeClock(T0))
    taker = await build(settings)
    timers = scheduler(taker, cycles(taker))
    try:
        await bot.say(FRAN, "/start c1-talk")
        await bot.say(ALICE, "/agree participate")
        # Another process takes the lease over (this one's expired, say).
        await bot.scheduler.store.release_lease(bot.scheduler._me.holder)
        assert await timers.start(paused=True)
        await bot.scheduler.poll()
        await asyncio.sleep(0)  # APScheduler shuts down in the event loop's next turn
        assert not bot.scheduler.aps.running, "it stopped scheduling"

        await erase_from_the_command_line(settings, ALICE)
        await bot.say(ALICE, "ALICE-IN-THE-WINDOW still talking")

        async def erased_again() -> bool:
            return len(await erasures_of(bot, ALICE)) == 2

        await polled(erased_again)
        await nothing_left_of(bot, ALICE)
    finally:
        await timers.stop()
        await taker.close()
        await bot.close()
