"""Discord against simcord: people and channels by their names, and withdrawal as Discord does it.

The slash command's option is ``confirm:confirm``, not the word typed after ``/withdraw``: the
bot asks with a button instead of telling people to type a command Discord does not have. A
member made a facilitator is named as the server shows them, and ``/mydata`` names the channel
someone agreed in, never by its id.
"""

from pathlib import Path

import pytest

from tests.support.discord_helpers import (
    PSEUDONYM_KEY,
    discord_world,
    replies,
    text_of,
)


@pytest.fixture(autouse=True)
def pseudonym_key(monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setenv("DIALOGUE_PSEUDONYM_KEY", PSEUDONYM_KEY)


async def test_discord_names_people_and_channels_and_asks_to_withdraw_with_a_button(
    database_url: str, tmp_path: Path
) -> None:
    async with discord_world(tmp_path, database_url, ("staff", "alice")) as world:
        staff, alice = world.people["staff"], world.people["alice"]
        bob = world.guild.add_member(world.env.create_user("bob"), nick="Bob the Baker")
        channel = world.guild.create_text_channel("tenants-forum")
        await staff.slash(channel, "dialogue register")
        await staff.slash(channel, "dialogue facilitator", change="add", member=bob)
        notice = channel.history()[-1].content
        assert notice == "Bob the Baker can now facilitate this group."
        assert str(bob.id) not in notice

        await alice.send(channel, "/agree participate")
        mine = text_of(replies(await alice.slash(channel, "mydata")))
        assert "You agreed in #tenants-forum to: participate" in mine
        assert str(channel.id) not in mine and str(alice.id) not in mine

        asked = await alice.slash(channel, "withdraw")
        (ask,) = replies(asked)
        assert asked.ephemeral and "/withdraw confirm" not in ask.content
        assert "press “Erase everything”" in ask.content
        gone = await alice.click(ask, label="Erase everything")
        said = text_of(replies(gone))
        assert "Done. We have withdrawn your consent" in said
        again = text_of(replies(await alice.slash(channel, "mydata")))
        assert again == "We don't store anything about you."
