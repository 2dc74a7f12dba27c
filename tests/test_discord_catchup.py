"""Catching up after downtime in Discord: replies posted while the bot was stopped are read back.

The bot is stopped as `dialogue run` stops it (its gateway connection closes, so simcord's
events no longer reach it) while members keep writing, editing and deleting in the session's
thread; simcord keeps the thread's history, which the restarted bot reads over REST.
"""

import logging
from datetime import UTC, datetime
from pathlib import Path

import pytest
import simcord
from sqlalchemy import delete, select

from bot.core.ids import GroupRef
from storage.cursors import PlatformCursors
from storage.db import make_engine
from storage.keystore import keys_of
from storage.sealed import open_earlier, open_reply
from storage.tables import platform_cursors, response_edits, responses
from tests.support.capture import user_ids
from tests.support.discord_helpers import (
    PSEUDONYM_KEY,
    World,
    database_bytes,
    discord_world,
    open_bot_in,
    replies,
)

SCRIPT = "health-data-intro"
T0 = datetime(2026, 1, 1, tzinfo=UTC)
PEOPLE = ("alice", "bob", "carol", "staff")
Row = tuple[str, str, str, str]  # who, step, text, what it said before an edit ("" if never)


@pytest.fixture(autouse=True)
def pseudonym_key(monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setenv("DIALOGUE_PSEUDONYM_KEY", PSEUDONYM_KEY)


async def open_session(world: World) -> tuple[simcord.ChannelHandle, GroupRef]:
    """A registered channel, a session in its thread at a prompt; alice and bob agreed."""
    guild, env = world.guild, world.env
    channel = guild.create_text_channel("community-dialogue")
    fac = guild.add_member(env.create_user("fac"), roles=[guild.create_role("Facilitator")])
    await world.people["staff"].slash(channel, "dialogue register")
    await fac.slash(channel, "dialogue start", script=SCRIPT)
    (thread,) = channel.threads
    for name in ("alice", "bob"):
        (panel,) = replies(await world.people[name].slash(thread, "consent"))
        for label in ("⬜ participate", "Confirm my choices"):
            await world.people[name].click(panel, label=label)
    await fac.slash(thread, "dialogue goto", step="first-thoughts")
    return thread, GroupRef("discord", f"{channel.id}/{thread.id}")


async def stored(url: str) -> list[Row]:
    """Every stored reply in the order stored, with who wrote it and its earlier version."""
    engine = make_engine(url)
    try:
        async with engine.connect() as conn:
            query = (
                select(
                    responses.c.step_id,
                    responses.c.text,
                    response_edits.c.previous_text,
                    responses.c.id,
                    responses.c.participant_id,
                    responses.c.platform,
                    responses.c.chat_id,
                    responses.c.message_id,
                )
                .outerjoin(response_edits, response_edits.c.response_id == responses.c.id)
                .order_by(responses.c.id)
            )
            keys = keys_of(conn)
            users = await user_ids(conn)
            found: list[Row] = []
            for r in await conn.execute(query):
                pid, message = r.participant_id, (r.platform, r.chat_id, r.message_id)
                before = r.previous_text and open_earlier(keys, pid, r.id, r.previous_text)
                found.append(
                    (users[pid], r.step_id, open_reply(keys, pid, message, r.text), before or "")
                )
            return found
    finally:
        await engine.dispose()


async def cursor(url: str, group: GroupRef) -> int | None:
    """The stored cursor of a group."""
    engine = make_engine(url)
    try:
        async with engine.connect() as conn:
            query = select(platform_cursors.c.message_id).where(
                platform_cursors.c.platform == group.platform,
                platform_cursors.c.chat_id == group.chat_id,
            )
            return (await conn.execute(query)).scalar()
    finally:
        await engine.dispose()


async def forget_cursors(url: str) -> None:
    """Lose every stored cursor, as if the bot had been killed before writing them."""
    engine = make_engine(url)
    try:
        async with engine.begin() as conn:
            await conn.execute(delete(platform_cursors))
    finally:
        await engine.dispose()


def history_reads(world: World, channel: simcord.ChannelHandle) -> list[dict[str, object]]:
    """The parameters of every time the bot read the channel's history."""
    path = f"/channels/{channel.id}/messages"
    return [r.params for r in world.env.http_requests if r.method == "GET" and r.path == path]


async def test_replies_posted_while_the_bot_was_down_are_stored_once_in_order(
    database_url: str, tmp_path: Path
) -> None:
    async with discord_world(tmp_path, database_url, PEOPLE) as world:
        alice, bob, carol = (world.people[name] for name in ("alice", "bob", "carol"))
        thread, group = await open_session(world)
        before = await alice.send(thread, "ALICE-BEFORE original words")
        await carol.send(thread, "CAROL-SECRET-LIVE hello")

        await world.stop()
        await alice.send(thread, "ALICE-DOWN-ONE while you were away")
        bob_down = await bob.send(thread, "BOB-DOWN-ONE typo")
        await carol.send(thread, "CAROL-SECRET-DOWN I still have not agreed")
        await alice.edit(before, "ALICE-BEFORE edited while the bot was down")
        await bob.edit(bob_down, "BOB-DOWN-ONE corrected")
        gone = await alice.send(thread, "ALICE-GONE-BEFORE-RESTART")
        await alice.delete(gone)
        last = await alice.send(thread, "ALICE-DOWN-TWO last one")
        await world.start()

        expected = [
            ("alice", "first-thoughts", "ALICE-BEFORE edited while the bot was down",
             "ALICE-BEFORE original words"),
            ("alice", "first-thoughts", "ALICE-DOWN-ONE while you were away", ""),
            ("bob", "first-thoughts", "BOB-DOWN-ONE corrected", ""),
            ("alice", "first-thoughts", "ALICE-DOWN-TWO last one", ""),
        ]  # fmt: skip
        who = {str(m.id): name for name, m in world.people.items()}
        rows = await stored(database_url)
        assert [(who[w], *rest) for w, *rest in rows] == expected
        assert "CAROL" not in repr(rows)
        # Carol's message from the downtime was met like a live one: not kept, and she was
        # invited before the restart, so not again.
        invitations = len(carol.user.dm_channel.history())
        assert invitations == 1

        # A second restart reads only after the saved cursor and stores nothing twice.
        await world.restart()
        assert await cursor(database_url, group) == last.id
        assert {"limit": 100, "after": last.id} in history_reads(world, thread)
        assert [(who[w], *rest) for w, *rest in await stored(database_url)] == expected

        # Without a cursor (its last write lost), the whole session is read again: no copies,
        # and nobody is invited again for a message already handled.
        await world.stop()
        await forget_cursors(database_url)
        await world.start()
        assert [(who[w], *rest) for w, *rest in await stored(database_url)] == expected
        assert len(carol.user.dm_channel.history()) == invitations

        # And the bot listens live again.
        await bob.send(thread, "BOB-AFTER live again")
        assert (await stored(database_url))[-1][2] == "BOB-AFTER live again"

    if database_url.startswith("sqlite"):
        data = database_bytes(database_url)
        assert b"ALICE-DOWN-TWO" not in data  # kept (read back above), but sealed at rest
        assert b"CAROL-SECRET" not in data and b"ALICE-GONE" not in data


async def test_a_catch_up_that_cannot_finish_keeps_its_place_until_a_later_start(
    database_url: str, tmp_path: Path, caplog: pytest.LogCaptureFixture
) -> None:
    async with discord_world(tmp_path, database_url, PEOPLE, catch_up_limit="2") as world:
        alice, bob = world.people["alice"], world.people["bob"]
        thread, group = await open_session(world)
        seen = await alice.send(thread, "ALICE-SEEN live")
        await world.stop()
        missed = [await alice.send(thread, f"ALICE-MISSED-{n}") for n in (1, 2, 3)]

        # Discord refuses the thread's history once: the bot starts anyway and says where.
        world.env.inject_error(
            "GET", f"/channels/{thread.id}/messages", status=403, code=50001, times=1
        )
        with caplog.at_level(logging.WARNING, logger="bot.platforms.discord.catchup"):
            await world.start()
        assert f"could not catch up on channel {thread.id}: Forbidden" in caplog.text
        await bob.send(thread, "BOB-LIVE-ONE")
        texts = [text for _, _, text, _ in await stored(database_url)]
        assert texts == ["ALICE-SEEN live", "BOB-LIVE-ONE"]
        # Bob's live message did not move the cursor past the messages not read yet.
        await world.stop()
        assert await cursor(database_url, group) == seen.id

        # Next start: the first two (discord.catch_up_limit), then the rest at the one after.
        await world.start()
        await bob.send(thread, "BOB-LIVE-TWO")
        texts = [text for _, _, text, _ in await stored(database_url)]
        assert texts[2:] == ["ALICE-MISSED-1", "ALICE-MISSED-2", "BOB-LIVE-TWO"]
        await world.stop()
        assert await cursor(database_url, group) == missed[1].id
        await world.start()
        texts = [text for _, _, text, _ in await stored(database_url)]
        assert texts[5:] == ["ALICE-MISSED-3"] and len(texts) == 6
        await world.restart()
        assert len(await stored(database_url)) == 6


async def test_a_stored_cursor_only_moves_forward(migrated_url: str) -> None:
    group = GroupRef("discord", "1/2")
    engine = make_engine(migrated_url)
    try:
        cursors = PlatformCursors(engine)
        await cursors.advance_cursors({group: 10}, T0)
        await cursors.advance_cursors({group: 5, GroupRef("discord", "3"): 7}, T0)
        assert await cursors.cursors("discord") == {group: 10, GroupRef("discord", "3"): 7}
        await cursors.advance_cursors({group: 12}, T0)
        assert (await cursors.cursors("discord"))[group] == 12
        assert await cursors.cursors("telegram") == {}
    finally:
        await engine.dispose()


async def test_a_catch_up_stores_no_withdrawn_words_after_their_author_agreed_again(
    database_url: str, tmp_path: Path
) -> None:
    async with discord_world(tmp_path, database_url, PEOPLE) as world:
        alice = world.people["alice"]
        thread, _ = await open_session(world)
        await alice.send(thread, "ALICE-WITHDRAWN my first thought")
        await alice.slash(thread, "withdraw")
        await alice.slash(thread, "withdraw", confirm="confirm")
        assert await stored(database_url) == []
        (panel,) = replies(await alice.slash(thread, "consent"))
        for label in ("⬜ participate", "Confirm my choices"):
            await alice.click(panel, label=label)
        await alice.send(thread, "ALICE-AGAIN after agreeing again")

        # The bot restarts without its cursor: the whole thread is read back.
        await world.stop()
        await forget_cursors(database_url)
        await world.start()
        assert [text for _, _, text, _ in await stored(database_url)] == [
            "ALICE-AGAIN after agreeing again"
        ]


async def test_a_backlog_is_caught_up_in_shared_commits_its_cursor_never_ahead_of_a_commit(
    database_url: str, tmp_path: Path
) -> None:
    async with discord_world(tmp_path, database_url, PEOPLE) as world:
        alice, bob = world.people["alice"], world.people["bob"]
        thread, group = await open_session(world)
        await world.stop()
        # Within one page of the history: simcord answers ``after`` with the newest messages,
        # where Discord gives the oldest (those right after it), so a longer one loses some.
        backlog = 90
        sent = [await (alice, bob)[n % 2].send(thread, f"BACKLOG-{n}") for n in range(backlog)]
        committed: set[str] = set()
        early: list[int] = []  # a cursor moved past a message whose reply was not committed

        world.app, world.platform = await open_bot_in(world.env, world.config)
        world.app.repository.on_commit = lambda stored, _: committed.update(
            s.message.message_id for s in stored if s.message is not None
        )
        book = world.platform.cursors
        advance = book.advance

        def checked(moved: GroupRef, message_id: int) -> None:
            if message_id in ids and str(message_id) not in committed:
                early.append(message_id)
            advance(moved, message_id)

        ids = {message.id for message in sent}
        book.advance = checked  # type: ignore[method-assign]
        await world.env.restart_bot(world.platform.client)
        live = await bob.send(thread, "BOB-LIVE after the catch-up")  # waits for the catch-up
        commits = world.app.repository.stats.batches
        # A crash now loses nothing the cursor passed; a restart reads after it, stores once.
        await world.restart()
        assert await cursor(database_url, group) == live.id
        texts = [text for _, _, text, _ in await stored(database_url)]
    assert not early, f"the cursor passed {len(early)} messages not yet committed"
    assert committed >= {str(i) for i in ids}
    assert commits <= backlog // 10, f"{commits} commits for {backlog} replies"
    assert texts == [f"BACKLOG-{n}" for n in range(backlog)] + ["BOB-LIVE after the catch-up"]
