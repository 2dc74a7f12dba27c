"""Direct messages with the bot on Discord, through the real adapter against simcord.

A resident takes part on their own in the cycle's self-paced dialogue, typing and pressing
buttons, stops, and carries on after the bot restarted with a button it posted before; a
facilitator rehearses a script there. Commands are typed as text, as they would be where
slash commands are not offered.
"""

from datetime import timedelta
from pathlib import Path

import discord
import pytest
import simcord
from sqlalchemy import Table, func, select

from bot.app import cycles, scheduler
from bot.core.direct import session_id
from bot.core.ids import PersonRef
from storage.tables import responses, session_reflections, sessions, votes
from tests.support.capture import stored_replies
from tests.support.discord_helpers import (
    PSEUDONYM_KEY,
    World,
    database_bytes,
    discord_world,
    text_of,
)

CYCLE = "2027-c1"
SCRIPT = "health-data-intro"


async def open_cycle(world: World) -> None:
    """Open a cycle offering the script, as `dialogue cycle create` and `open` would."""
    ops = cycles(world.app)
    now = world.env.now()
    await ops.create(CYCLE, "Data", "who uses it", now, now + timedelta(days=60), [SCRIPT], now)
    await ops.open(CYCLE, now)
    await follow_cycle(world)


async def follow_cycle(world: World) -> None:
    """Tell the (new) bot which cycle is open, as its scheduler does when it starts."""
    await scheduler(world.app, cycles(world.app)).reconcile()


class Correspondent:
    """Someone writing to the bot in a direct message."""

    def __init__(self, env: simcord.Env, user: simcord.UserHandle) -> None:
        # Between messages a moment passes, as it does for people (and the command limit).
        self.env, self.user = env, user

    async def say(self, text: str) -> discord.Message:
        await self.env.advance_time(20)
        return await self.user.send_dm(text)

    async def press(self, label: str, message: discord.Message | None = None) -> None:
        await self.env.advance_time(20)
        await self.user.click(message or self.last, label=label)

    @property
    def last(self) -> discord.Message:
        found = self.user.dm_channel.last_message
        assert found is not None
        return found

    def heard(self, count: int = 1) -> str:
        """What the bot's last few messages said."""
        return text_of(self.user.dm_channel.history()[-count:])


async def rows(world: World, table: Table) -> int:
    """How many rows a table holds."""
    async with world.app.database.connect() as conn:
        return int((await conn.execute(select(func.count()).select_from(table))).scalar_one())


async def test_a_resident_takes_part_by_direct_message_across_a_restart(
    database_url: str, tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    monkeypatch.setenv("DIALOGUE_PSEUDONYM_KEY", PSEUDONYM_KEY)
    async with discord_world(tmp_path, database_url, ("rosa", "tom")) as world:
        await open_cycle(world)
        rosa = Correspondent(world.env, world.people["rosa"].user)
        tom = Correspondent(world.env, world.people["tom"].user)

        await rosa.say("/join")
        assert "Taking part (consent text version" in rosa.heard()
        await rosa.press("Agree to take part only")
        assert "Step 1 of 16" in rosa.heard()
        await rosa.press("Next")
        await rosa.press("Tell me more")
        (card,) = [m for m in rosa.user.dm_channel.history() if m.embeds]
        assert card.embeds[0].title == "What is health and care data?"
        await rosa.press("Next")
        assert "Step 3 of 16" in rosa.heard()
        first = await rosa.say("ROSA-FIRST I worry about who sees my records")
        assert rosa.heard() == "Thank you, that's noted. You can add more, or move on."
        await rosa.press("Next")
        await rosa.say("ROSA-SECOND my GP shares with the hospital")
        for label in ("Next", "Skip", "Next"):
            await rosa.press(label)
        assert "Step 7 of 16" in rosa.heard()
        await rosa.press("Fairly comfortable")
        await rosa.press("Stop for now")
        await rosa.press("No, thanks")
        assert "I won't send a reminder." in rosa.heard()
        before_restart = rosa.last

        # Tom starts, never agrees, and writes anyway: nothing of it is kept.
        await tom.say("/join")
        await tom.say("TOM-SECRET-WALRUS my private worries")

        await world.restart()
        await follow_cycle(world)
        await rosa.press("Continue", before_restart)
        assert "Welcome back! Here is where you left off." in rosa.heard(2)
        assert "Step 8 of 16" in rosa.heard(2)
        # An edit of a reply the new process never saw is mirrored too.
        await rosa.user.edit(first, "ROSA-FIRST-EDITED I worry about who reads them")

        # Two replies and one answer, all under the cycle's direct session; none of Tom's.
        kept = [(r.session_id, r.text) for r in await stored_replies(world.app.database)]
        async with world.app.database.connect() as conn:
            answers = (await conn.execute(select(votes.c.session_id, votes.c.options))).all()
        direct = session_id(CYCLE)
        assert sorted(kept) == [
            (direct, "ROSA-FIRST-EDITED I worry about who reads them"),
            (direct, "ROSA-SECOND my GP shares with the hospital"),
        ]
        assert answers == [(direct, "2")]
    if database_url.startswith("sqlite"):
        kept = database_bytes(database_url)
        # Kept (read back above), but sealed at rest under Rosa's key.
        assert b"ROSA-FIRST-EDITED" not in kept and b"ROSA-SECOND" not in kept
        assert b"TOM-SECRET" not in kept


async def test_a_facilitator_rehearses_by_direct_message_and_nothing_is_stored(
    database_url: str, tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    monkeypatch.setenv("DIALOGUE_PSEUDONYM_KEY", PSEUDONYM_KEY)
    async with discord_world(tmp_path, database_url, ("staff",)) as world:
        fac = Correspondent(world.env, world.people["staff"].user)
        await fac.say(f"/rehearse {SCRIPT}")
        # What the group would see comes here, with buttons about no group.
        said = fac.user.dm_channel.history()
        assert "Rehearsal of “Your health and care data" in text_of(said)
        (join,) = [c for m in said for row in m.components for c in row.children]
        assert join.custom_id == "dd:b::consent"
        await fac.say("/next")
        assert "Step 2 of 17" in fac.heard(4)
        await fac.say("FAC-PRACTICE-OTTER what would they say")
        assert "This is a rehearsal: answers and messages are not recorded." in fac.heard()
        await fac.say("/goto research-comfort")
        await fac.say("/show")
        # The chart is a picture attached to a message that says what it shows.
        (chart,) = [m for m in fac.user.dm_channel.history() if m.attachments]
        (picture,) = chart.attachments
        assert picture.filename == "chart-research-comfort.png"
        assert chart.content.startswith("Bar chart of the answers to “Think about health")
        assert picture.description == chart.content  # the alt text, for screen readers too
        await fac.say("/end")
        assert "Nothing was recorded." in fac.heard()

        assert await rows(world, sessions) == 0
        assert await rows(world, responses) == 0
    if database_url.startswith("sqlite"):
        assert b"FAC-PRACTICE" not in database_bytes(database_url)


async def test_join_and_rehearse_are_slash_commands_in_direct_messages_only(
    database_url: str, tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    monkeypatch.setenv("DIALOGUE_PSEUDONYM_KEY", PSEUDONYM_KEY)
    # Without discord.guilds the commands are global, so direct messages offer them too.
    async with discord_world(tmp_path, database_url, ("rosa", "staff"), guilds="[]") as world:
        await open_cycle(world)
        channel = world.guild.create_text_channel("general")
        rosa, staff = world.people["rosa"], world.people["staff"]
        in_server = rosa.available_commands(channel)
        assert "dialogue start" in in_server and "join" not in in_server
        assert {"join", "rehearse", "mydata"} <= set(rosa.user.available_commands())
        assert "dialogue start" not in rosa.user.available_commands()

        await world.env.advance_time(20)
        await rosa.user.slash("join")
        assert "Taking part (consent text version" in text_of([rosa.user.dm_channel.last_message])
        choices = await staff.user.autocomplete("rehearse", "script", "health")
        assert [c["value"] for c in choices] == [SCRIPT]
        await staff.user.slash("rehearse", script=SCRIPT)
        said = text_of(staff.user.dm_channel.history())
        assert "Rehearsal of “Your health and care data" in said and "Step 1 of 17" in said


async def test_a_facilitator_answers_the_reflection_by_direct_message(
    database_url: str, tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    monkeypatch.setenv("DIALOGUE_PSEUDONYM_KEY", PSEUDONYM_KEY)
    async with discord_world(tmp_path, database_url, ("staff",)) as world:
        channel = world.guild.create_text_channel("community-dialogue")
        role = world.guild.create_role("Facilitator")
        fac = world.guild.add_member(world.env.create_user("fac"), roles=[role])
        await world.people["staff"].slash(channel, "dialogue register")
        await fac.slash(channel, "dialogue start", script=SCRIPT)
        (thread,) = channel.threads
        await fac.slash(thread, "dialogue end")

        # Later, in a direct message: the question waiting, answered by text, skip and button.
        writer = Correspondent(world.env, fac.user)
        await writer.say("/reflect")
        assert "1 of 3: What went well?" in writer.heard()
        await writer.say("FAC-WENT-WELL everyone spoke")
        assert "2 of 3: What was hard?" in writer.heard()
        await writer.say("/reflect skip")
        assert "3 of 3: What would you change next time?" in writer.heard()
        await writer.press("Skip")
        assert writer.heard() == "Thank you: your reflection is saved with the session."

        async with world.app.database.connect() as conn:
            (sealed,) = (await conn.execute(select(session_reflections.c.went_well))).scalars()
        assert "FAC-WENT-WELL" not in sealed  # sealed at rest under the facilitator's key
        saved = await world.app.repository.person_data(PersonRef("discord", str(fac.user.id)))
        assert saved.reflections == (("FAC-WENT-WELL everyone spoke", "", ""),)  # two skipped


async def test_a_typed_answer_to_a_profile_question_by_direct_message_is_no_reply(
    database_url: str, tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    monkeypatch.setenv("DIALOGUE_PSEUDONYM_KEY", PSEUDONYM_KEY)
    async with discord_world(tmp_path, database_url, ("rosa",)) as world:
        await open_cycle(world)
        rosa = Correspondent(world.env, world.people["rosa"].user)
        await rosa.say("/join")
        await rosa.press("Agree to all")
        await rosa.say("/profile start")
        assert "Which age group are you in?" in rosa.heard()
        await rosa.say("ROSA-UNSURE not sure")
        assert "Please answer with a number" in rosa.heard()
        await world.restart()
        await follow_cycle(world)
        await rosa.say("25 to 34")
        assert "Saved: Age group: 25 to 34." in rosa.heard()
        person = PersonRef("discord", str(world.people["rosa"].user.id))
        answers = await world.app.repository.profile_answers(person)
        assert [(a.question_id, a.answer) for a in answers] == [("age", "25 to 34")]
        assert await stored_replies(world.app.database) == []
