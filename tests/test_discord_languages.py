"""``/language`` on Discord (simcord): a member's choice, answered in that language, kept once
they consented and shown in ``/mydata``; the Bengali is the shipped translation. (simcord
reports every interaction's locale as en-US, which the bot speaks: the member
is answered in English until they choose.)"""

from pathlib import Path

import pytest

from tests.support.discord_helpers import (
    PSEUDONYM_KEY,
    discord_world,
    replies,
    start_session,
    text_of,
)
from tests.support.languages import catalogue, not_in


async def test_a_member_chooses_bengali_with_the_language_command(
    database_url: str, tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    monkeypatch.setenv("DIALOGUE_PSEUDONYM_KEY", PSEUDONYM_KEY)
    texts = catalogue()
    async with discord_world(tmp_path, database_url, ("rani",)) as world:
        thread, _ = await start_session(world, "rani")
        rani = world.people["rani"]
        before = text_of(replies(await rani.slash(thread, "mydata")))
        assert before.startswith(texts.get("en", "mydata.header"))
        chosen = text_of(replies(await rani.slash(thread, "language", code="bn")))
        assert chosen.startswith(texts.get("bn", "language.chosen", name="বাংলা"))
        mine = text_of(replies(await rani.slash(thread, "mydata")))
        assert mine.startswith(texts.get("bn", "mydata.header"))
        assert texts.get("bn", "mydata.language", name="বাংলা") in mine
        assert not_in("bn", [*chosen.splitlines(), *mine.splitlines()]) == []
        assert world.env.errors == []
