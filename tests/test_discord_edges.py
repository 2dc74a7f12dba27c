"""Discord edge cases against simcord: refusals, old buttons, sessions in the channel itself."""

import logging
from datetime import UTC, datetime
from pathlib import Path

import discord
import pytest

from bot.core.ids import GroupRef
from tests.support.discord_helpers import (
    PSEUDONYM_KEY,
    discord_world,
    replies,
    start_session,
    text_of,
)

SCRIPT = "health-data-intro"


@pytest.fixture(autouse=True)
def pseudonym_key(monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setenv("DIALOGUE_PSEUDONYM_KEY", PSEUDONYM_KEY)


@pytest.mark.parametrize("database_url", ["sqlite"], indirect=True)
async def test_a_session_can_run_in_the_channel_and_non_facilitators_cannot_steer_it(
    database_url: str, tmp_path: Path
) -> None:
    async with discord_world(
        tmp_path, database_url, ("mod", "carol"), sessions_in='"channel"'
    ) as world:
        channel = world.guild.create_text_channel("general")
        group = GroupRef("discord", str(channel.id))
        await world.app.service.roles.register(group, datetime.now(UTC))
        managers = world.guild.create_role(
            "Mods", permissions=discord.Permissions(manage_guild=True)
        )
        mod = world.guild.add_member(world.env.create_user("moderator"), roles=[managers])
        started = await mod.slash(channel, "dialogue start", script=SCRIPT)
        assert "Step 1 of 17" in text_of(replies(started))
        assert channel.threads == [] and "Welcome!" in channel.history()[-3].content
        before = len(channel.history())

        refused = await world.people["carol"].slash(channel, "dialogue next")
        assert refused.ephemeral
        assert text_of(replies(refused)) == "Sorry, only this group's facilitators can use /next."
        assert len(channel.history()) == before
        assert world.app.service.sessions[group].step_index == 0


@pytest.mark.parametrize("database_url", ["sqlite"], indirect=True)
async def test_a_button_the_bot_no_longer_knows_gets_a_clear_answer(
    database_url: str, tmp_path: Path
) -> None:
    async with discord_world(tmp_path, database_url, ("carol",)) as world:
        channel = world.guild.create_text_channel("general")
        # A message left by an older version of the bot, whose buttons used other ids.
        old = discord.ui.View(timeout=None)
        old.add_item(discord.ui.Button(label="Vote 2", custom_id="poll:v1:2"))
        sent = await world.platform.client.get_channel(channel.id).send("Old poll", view=old)
        await world.restart()

        pressed = await world.people["carol"].click(sent, label="Vote 2")
        assert pressed.ephemeral
        assert "belongs to an older message" in text_of(replies(pressed))
        assert world.env.errors == []


@pytest.mark.parametrize("database_url", ["sqlite"], indirect=True)
async def test_registering_a_channel_names_the_permissions_the_bot_lacks(
    database_url: str, tmp_path: Path
) -> None:
    async with discord_world(tmp_path, database_url, ("staff",)) as world:
        bot = world.platform.client.user
        narrow = discord.PermissionOverwrite(create_public_threads=False, embed_links=False)
        channel = world.guild.create_text_channel("narrow", overwrites={bot: narrow})
        registered = await world.people["staff"].slash(channel, "dialogue register")
        said = text_of(replies(registered))
        assert "Create Public Threads, Embed Links" in said and registered.ephemeral
        wide = world.guild.create_text_channel("wide")
        registered = await world.people["staff"].slash(wide, "dialogue register")
        assert replies(registered) == []


@pytest.mark.parametrize("database_url", ["sqlite"], indirect=True)
async def test_someone_invited_by_direct_message_can_join_from_there(
    database_url: str, tmp_path: Path
) -> None:
    async with discord_world(tmp_path, database_url, ("dave",)) as world:
        thread, _ = await start_session(world)
        dave = world.people["dave"]
        await dave.send(thread, "DAVE-BEFORE-AGREEING hello")
        (invitation,) = dave.user.dm_channel.history()
        # In a direct message the answers are messages there, not ephemeral follow-ups.
        await dave.user.click(invitation, label="Join this dialogue")
        _, panel = dave.user.dm_channel.history()
        assert "Taking part" in text_of([panel])
        await dave.user.click(panel, label="⬜ participate")
        await dave.user.click(panel, label="Confirm my choices")
        agreed = dave.user.dm_channel.history()[-1]
        assert "Thank you for agreeing to: participate" in text_of([agreed])
        await dave.send(thread, "DAVE-AFTER-AGREEING now I count")
        mine = text_of(replies(await dave.slash(thread, "mydata")))
        assert "DAVE-AFTER-AGREEING" in mine and "DAVE-BEFORE-AGREEING" not in mine


@pytest.mark.parametrize("database_url", ["sqlite"], indirect=True)
async def test_someone_whose_direct_messages_are_closed_is_skipped_and_the_session_goes_on(
    database_url: str, tmp_path: Path, caplog: pytest.LogCaptureFixture
) -> None:
    async with discord_world(tmp_path, database_url, ("dave", "erin")) as world:
        thread, _ = await start_session(world, "erin")
        dave = world.people["dave"]
        # Dave accepts no direct messages from server members: Discord refuses the invitation.
        refusal = "Cannot send messages to this user"
        world.env.inject_error(
            "POST", "/channels/*/messages", status=403, code=50007, message=refusal
        )
        with caplog.at_level(logging.WARNING):
            await dave.send(thread, "DAVE-WITH-CLOSED-DMS hello")
            await world.env.settle()
        assert world.env.backend.faults == []  # the bot did try to write to him, and was refused
        assert dave.user.dm_channel is None or dave.user.dm_channel.history() == []
        assert "direct messages closed" in caplog.text
        assert "DAVE-WITH-CLOSED-DMS" not in caplog.text
        assert world.env.errors == []
        # Nothing of his is kept, and the others are heard as before.
        assert text_of(replies(await dave.slash(thread, "mydata"))) == (
            "We don't store anything about you."
        )
        await world.people["erin"].send(thread, "ERIN-STILL-HEARD")
        erin = text_of(replies(await world.people["erin"].slash(thread, "mydata")))
        assert "ERIN-STILL-HEARD" in erin


@pytest.mark.parametrize("database_url", ["sqlite"], indirect=True)
async def test_a_bulk_deletion_by_a_moderation_tool_removes_the_stored_replies(
    database_url: str, tmp_path: Path
) -> None:
    async with discord_world(tmp_path, database_url, ("alice", "bob")) as world:
        thread, _ = await start_session(world, "alice", "bob")
        await world.people["alice"].send(thread, "ALICE-KEPT")
        spam = [
            await world.people["alice"].send(thread, "ALICE-PURGED"),
            await world.people["bob"].send(thread, "BOB-PURGED"),
        ]
        bob = text_of(replies(await world.people["bob"].slash(thread, "mydata")))
        assert "BOB-PURGED" in bob
        await world.restart()  # the new process has none of these messages in its cache
        moderated = world.platform.client.get_channel(thread.id)
        await moderated.delete_messages([discord.Object(m.id) for m in spam])
        await world.env.settle()
        alice = text_of(replies(await world.people["alice"].slash(thread, "mydata")))
        bob = text_of(replies(await world.people["bob"].slash(thread, "mydata")))
        assert "ALICE-KEPT" in alice and "ALICE-PURGED" not in alice
        assert "BOB-PURGED" not in bob


@pytest.mark.parametrize("database_url", ["sqlite"], indirect=True)
async def test_a_sharded_bot_answers_like_a_single_connection(
    database_url: str, tmp_path: Path
) -> None:
    async with discord_world(tmp_path, database_url, ("erin",), shards="2") as world:
        assert isinstance(world.platform.client, discord.AutoShardedClient)
        assert world.platform.client.shard_count == 2
        channel = world.guild.create_text_channel("general")
        answer = await world.people["erin"].slash(channel, "mydata")
        assert answer.ephemeral and text_of(replies(answer)) == "We don't store anything about you."


@pytest.mark.parametrize("database_url", ["sqlite"], indirect=True)
async def test_a_chart_is_a_picture_in_the_thread_with_its_description(
    database_url: str, tmp_path: Path
) -> None:
    async with discord_world(tmp_path, database_url, ("alice",)) as world:
        thread, _ = await start_session(world)
        host = world.guild.add_member(
            world.env.create_user("host"), roles=[world.guild.roles["Facilitator"]]
        )
        await host.send(thread, "/show research-comfort")
        # The picture, then its answers as text.
        (chart,) = [m for m in thread.history() if m.attachments]
        (picture,) = chart.attachments
        assert picture.filename == "chart-research-comfort.png"
        assert chart.content.startswith("Bar chart of the answers to “Think about health")
        assert picture.description == chart.content
