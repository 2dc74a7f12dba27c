"""Consent buttons on Discord name their scopes, so a form keeps working when scopes are added."""

from collections.abc import Callable
from datetime import UTC, datetime
from pathlib import Path
from typing import Any

import discord
import pytest

from bot.core.ids import GroupRef
from tests.support.discord_helpers import PSEUDONYM_KEY, discord_world, replies, text_of


@pytest.fixture(autouse=True)
def pseudonym_key(monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setenv("DIALOGUE_PSEUDONYM_KEY", PSEUDONYM_KEY)


async def old_form(world: Any, ids: Callable[[str], list[tuple[str, str]]]) -> Any:
    """A consent form an earlier version left in a registered channel, then a restart."""
    channel = world.guild.create_text_channel("general")
    group = str(channel.id)
    await world.app.service.roles.register(GroupRef("discord", group), datetime.now(UTC))
    view = discord.ui.View(timeout=None)
    for label, custom in ids(group):
        view.add_item(discord.ui.Button(label=label, custom_id=custom))
    sent = await world.platform.client.get_channel(channel.id).send("Consent", view=view)
    await world.restart()
    return channel, sent


@pytest.mark.parametrize("database_url", ["sqlite"], indirect=True)
async def test_a_consent_form_sent_before_a_scope_was_added_still_works(
    database_url: str, tmp_path: Path
) -> None:
    async with discord_world(tmp_path, database_url, ("carol",)) as world:
        # A form from when only two scopes existed: its ids name those two, nothing more.
        channel, sent = await old_form(
            world,
            lambda group: [
                ("⬜ participate", f"dd:s:{group}:-participate-quote:participate"),
                ("⬜ quote", f"dd:s:{group}:-participate-quote:quote"),
                ("Confirm my choices", f"dd:c:{group}:-participate-quote"),
            ],
        )

        carol = world.people["carol"]
        await carol.click(sent, label="⬜ participate")
        agreed = await carol.click(sent, label="Confirm my choices")
        assert "Thank you for agreeing to: participate" in text_of(replies(agreed))
        mine = text_of(replies(await carol.slash(channel, "mydata")))
        assert ": participate (consent text version" in mine  # /mydata reads the stored scope rows
        assert world.env.errors == []


@pytest.mark.parametrize("database_url", ["sqlite"], indirect=True)
async def test_a_consent_button_with_scopes_as_bit_positions_is_answered_clearly(
    database_url: str, tmp_path: Path
) -> None:
    async with discord_world(tmp_path, database_url, ("carol",)) as world:
        # The ids of earlier versions counted scopes by position: "3" meant the first two.
        channel, sent = await old_form(
            world, lambda g: [("⬜ quote", f"dd:t:{g}:15:0:1"), ("Confirm", f"dd:a:{g}:3")]
        )

        carol = world.people["carol"]
        for label in ("⬜ quote", "Confirm"):
            pressed = await carol.click(sent, label=label)
            assert pressed.ephemeral
            assert "belongs to an older message" in text_of(replies(pressed))
        mine = text_of(replies(await carol.slash(channel, "mydata")))
        assert mine == "We don't store anything about you."
        assert world.env.errors == []
