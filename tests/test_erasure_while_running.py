"""A person erased from the command line while the bot runs keeps nothing written before its poll.

Until the running bot's scheduler polls the audit, the bot still holds the person's consent in
memory, so what they write meanwhile is stored (under a new identity). At the poll the bot
erases that too, by the path ``/withdraw confirm`` takes, and the audit says so once.
"""

from __future__ import annotations

import argparse
from datetime import UTC, datetime, timedelta
from pathlib import Path

from bot.app import build
from bot.cli import person
from bot.core.ids import PersonRef
from bot.settings import Settings
from tests.support.capture import stored_replies, user_ids
from tests.support.clockwork import (
    C1_TALK,
    FRAN,
    Bot,
    FakeClock,
    Resident,
    content_root,
    settings_for,
    start_bot,
)

T0 = datetime(2027, 1, 10, 9, 0, tzinfo=UTC)
CYCLE = "2027-c1"
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


async def nothing_left_of(bot: Bot, who: PersonRef) -> None:
    """No reply, answer, consent or identity of the person is stored."""
    data = await bot.app.repository.person_data(who)
    assert (data.responses, data.votes, data.consents) == ((), (), ())
    assert who.user_id.upper() not in repr(await stored_replies(bot.app.database))
    async with bot.app.database.connect() as conn:
        assert who.user_id not in (await user_ids(conn)).values()


async def erasures_of(bot: Bot, who: PersonRef) -> list[dict[str, object]]:
    pseudonym = bot.app.service.pseudonymise(who)
    entries = await bot.app.repository.audit_entries("erasure")
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
