"""Discord against simcord: what a person is owed holds across a restart and a burst.

Someone who never agreed gets one invitation per server channel, also after the bot restarted
and after answering a question; a burst of commands never holds back /mydata or /withdraw.
"""

from pathlib import Path

import pytest

from bot.service.intake import CommandLimiter
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


async def test_someone_who_never_agreed_is_invited_once_across_a_restart_and_their_votes(
    database_url: str, tmp_path: Path
) -> None:
    async with discord_world(tmp_path, database_url, ("carol",)) as world:
        thread, _ = await start_session(world, step="research-comfort")
        question = thread.last_message
        carol = world.people["carol"]
        await carol.send(thread, "CAROL-SECRET hello")
        await world.restart()
        carol = world.people["carol"]
        await carol.send(thread, "CAROL-SECRET after the restart")
        voted = await carol.select(question, ["1"])
        assert voted.ephemeral and "answer wasn't recorded" in text_of(replies(voted))
        await carol.send(thread, "CAROL-SECRET after voting")
        (invitation,) = carol.user.dm_channel.history()
        assert "not being recorded" in invitation.content


async def test_a_burst_of_commands_never_holds_back_mydata_or_withdrawal(
    database_url: str, tmp_path: Path
) -> None:
    async with discord_world(tmp_path, database_url, ("bob",)) as world:
        world.app.service.intake.limiter = CommandLimiter(per_minute=1, burst=2)
        thread, _ = await start_session(world, step="research-comfort")
        bob = world.people["bob"]
        await bob.send(thread, "/agree participate")
        refused = [await bob.slash(thread, "dialogue start", script=SCRIPT) for _ in range(3)]
        assert "very quickly" in text_of(replies(refused[-1]))
        mine = await bob.slash(thread, "mydata")
        assert "What we store about you" in text_of(replies(mine))
        await bob.slash(thread, "withdraw")
        gone = await bob.slash(thread, "withdraw", confirm="confirm")
        assert "withdrawn your consent" in text_of(replies(gone))
