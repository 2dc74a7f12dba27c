"""Exactly once: redelivered, replayed, backfilled and out-of-order events store what one clean
delivery stores."""

from __future__ import annotations

import asyncio
import random

import pytest
from sqlalchemy import select

from bot.core.events import Event, MessageDeleted, MessageEdited, MessagePosted
from bot.core.ids import GroupRef
from bot.core.state import Status
from storage.tables import handled_messages
from tests.support.capture import (
    FRAN,
    Harness,
    at,
    command,
    delete,
    edit,
    group,
    person,
    running,
    say,
    snapshot,
)

ALICE, BOB, CAROL = person("alice"), person("bob"), person("carol")
G1 = group("g1")


def session_of(chat: GroupRef) -> list[Event]:
    """A whole session in one group: consent, replies, edits, deletes, votes, a break, a pause."""
    lines: list[Event] = []

    def add(event: Event) -> None:
        lines.append(event)

    def cmd(who: object, line: str) -> None:
        add(command(who, chat, line, f"c{len(lines)}", len(lines)))  # type: ignore[arg-type]

    def post(who: object, mid: str, text: str) -> None:
        add(say(who, chat, mid, f"{chat.chat_id} {text}", len(lines)))  # type: ignore[arg-type]

    cmd(FRAN, "/start health-data-intro")
    cmd(ALICE, "/agree participate quote")
    cmd(BOB, "/agree participate")
    post(CAROL, "m-c1", "CAROL never consented")
    cmd(FRAN, "/goto first-thoughts")
    post(ALICE, "m-a1", "alice first thought")
    post(BOB, "m-b1", "bob first thought")
    add(edit(ALICE, chat, "m-a1", f"{chat.chat_id} alice first thought, edited", len(lines)))
    add(delete(BOB, chat, "m-b1", len(lines)))
    cmd(FRAN, "/goto research-comfort")
    cmd(ALICE, "/vote 2")
    cmd(BOB, "/vote 4")
    cmd(BOB, "/vote 3")
    cmd(FRAN, "/next")
    post(ALICE, "m-a2", "alice says why")
    cmd(FRAN, "/goto break")
    post(BOB, "m-b2", "bob during the break")
    cmd(FRAN, "/next")
    post(ALICE, "m-a3", "alice on the card")
    add(edit(ALICE, chat, "m-a3", f"{chat.chat_id} alice on the card v2", len(lines)))
    add(edit(ALICE, chat, "m-a3", f"{chat.chat_id} alice on the card v3", len(lines)))
    cmd(FRAN, "/pause")
    post(ALICE, "m-a4", "alice while paused")
    cmd(FRAN, "/resume")
    post(BOB, "m-b3", "bob after the pause")
    cmd(FRAN, "/end")
    return lines


def messy(events: list[Event], rng: random.Random) -> list[Event]:
    """Every event twice: copies come back later, and an edit or a deletion may come before
    the message it is about (a platform's order is not always the order things happened)."""
    order = list(events)
    for event in events:
        if isinstance(event, MessageEdited | MessageDeleted) and rng.random() < 0.5:
            target = next(
                e
                for e in events
                if isinstance(e, MessagePosted) and e.message_id == event.message_id
            )
            order.remove(event)
            order.insert(order.index(target), event)
    delivered = list(order)
    for event in order:
        position = rng.randint(delivered.index(event) + 1, len(delivered))
        delivered.insert(position, event)
    return delivered


async def deliver(bot: Harness, streams: list[list[Event]]) -> None:
    """Each group's events in their order; the groups at the same time, as platforms do."""

    async def one(stream: list[Event]) -> None:
        for event in stream:
            await bot.service.handle(event)

    await asyncio.gather(*(one(stream) for stream in streams))


@pytest.mark.parametrize("seed", [1, 2, 3])
async def test_every_event_delivered_twice_and_out_of_order_stores_what_a_clean_run_does(
    migrated_url: str, database_url: str, seed: int, tmp_path: object
) -> None:
    chats = [group(f"g{n}") for n in range(1, 4)]
    sessions = {chat: session_of(chat) for chat in chats}
    async with running(migrated_url, chats) as clean:
        await deliver(clean, [sessions[chat] for chat in chats])
        expected = await snapshot(clean.engine)
        async with clean.engine.begin() as conn:  # the same database, emptied for the messy run
            for table in reversed(handled_messages.metadata.sorted_tables):
                if table.name != "alembic_version":
                    await conn.execute(table.delete())
    rng = random.Random(seed)
    async with running(migrated_url, chats) as again:
        await deliver(again, [messy(sessions[chat], rng) for chat in chats])
        assert await snapshot(again.engine) == expected
    # The clean run is what the script says: a check that the comparison compares something.
    responses = {(r[0], r[1]): (r[3], r[4]) for r in expected["responses"]}
    assert responses[("g1", "m-a1")] == ("first-thoughts", "g1 alice first thought, edited")
    assert responses[("g2", "m-a3")] == ("your-choices", "g2 alice on the card v3")
    assert ("g1", "m-b1") not in responses and ("g1", "m-b2") not in responses
    assert ("g1", "m-a4") not in responses and ("g1", "m-c1") not in responses
    assert ("g3", "bob", "research-comfort", "3") in expected["votes"]
    assert expected["sessions"] == [(chat.chat_id, Status.ENDED.value, 9) for chat in chats]
    assert expected["pending_edits"] == 0


async def test_an_edit_that_comes_before_its_message_is_applied_when_the_message_comes(
    migrated_url: str,
) -> None:
    async with running(migrated_url, [G1]) as bot:
        for event in (
            command(FRAN, G1, "/start health-data-intro", "1"),
            command(ALICE, G1, "/agree participate", "2"),
            command(FRAN, G1, "/goto first-thoughts", "3"),
            edit(ALICE, G1, "m9", "second thoughts", 20),
            say(ALICE, G1, "m9", "first thoughts", 10),
        ):
            await bot.service.handle(event)
        (reply,) = (await bot.store.person_data(ALICE)).responses
        assert (reply.text, reply.edited_at, reply.earlier_versions) == (
            "second thoughts",
            at(20),
            1,
        )
        assert (await snapshot(bot.engine))["pending_edits"] == 0


async def test_a_deletion_that_comes_before_its_message_keeps_the_message_out(
    migrated_url: str,
) -> None:
    async with running(migrated_url, [G1]) as bot:
        for event in (
            command(FRAN, G1, "/start health-data-intro", "1"),
            command(ALICE, G1, "/agree participate", "2"),
            command(FRAN, G1, "/goto first-thoughts", "3"),
            delete(ALICE, G1, "m9", 20),
            say(ALICE, G1, "m9", "posted, then deleted", 10),
        ):
            await bot.service.handle(event)
        assert (await bot.store.person_data(ALICE)).responses == ()


async def test_an_old_edit_that_comes_again_after_a_newer_one_changes_nothing(
    migrated_url: str,
) -> None:
    async with running(migrated_url, [G1]) as bot:
        older = edit(ALICE, G1, "m9", "second", 20)
        for event in (
            command(FRAN, G1, "/start health-data-intro", "1"),
            command(ALICE, G1, "/agree participate", "2"),
            command(FRAN, G1, "/goto first-thoughts", "3"),
            say(ALICE, G1, "m9", "first", 10),
            older,
            edit(ALICE, G1, "m9", "third", 30),
            older,
        ):
            await bot.service.handle(event)
        (reply,) = (await bot.store.person_data(ALICE)).responses
        assert (reply.text, reply.earlier_versions) == ("third", 2)


async def test_a_redelivered_command_moves_the_session_once_and_is_not_answered_again(
    migrated_url: str,
) -> None:
    async with running(migrated_url, [G1]) as bot:
        start = command(FRAN, G1, "/start health-data-intro", "1")
        step = command(FRAN, G1, "/next", "2")
        for event in (start, step, step, start):
            await bot.service.handle(event)
        assert bot.service.sessions[G1].step_index == 1
        assert (await bot.store.live_sessions())[0].step_index == 1
        notes = [text for text in bot.platform.private(FRAN) if text.startswith("Step")]
        assert len(notes) == 2  # one for /start, one for /next


async def test_a_reply_first_seen_in_a_break_stays_out_when_it_comes_again_later(
    migrated_url: str,
) -> None:
    async with running(migrated_url, [G1]) as bot:
        during_break = say(ALICE, G1, "m9", "said during the break", 10)
        for event in (
            command(FRAN, G1, "/start health-data-intro", "1"),
            command(ALICE, G1, "/agree participate", "2"),
            command(FRAN, G1, "/goto break", "3"),
            during_break,
            command(FRAN, G1, "/next", "4"),
            during_break,
        ):
            await bot.service.handle(event)
        assert (await bot.store.person_data(ALICE)).responses == ()


async def test_private_messages_are_remembered_by_pseudonym_never_by_platform_id(
    migrated_url: str,
) -> None:
    async with running(migrated_url, [G1]) as bot:
        await bot.service.handle(command(ALICE, G1, "/consent", "1"))
        agree = command(ALICE, None, "/agree participate", "7")
        await bot.service.handle(agree)
        await bot.service.handle(agree)
        thanks = [text for text in bot.platform.private(ALICE) if text.startswith("Thank you")]
        assert len(thanks) == 1
        async with bot.engine.connect() as conn:
            chats = list((await conn.execute(select(handled_messages.c.chat_id))).scalars())
        private = [c for c in chats if c.startswith("private:")]
        assert len(private) == 1 and "alice" not in private[0]
