"""What a person is owed holds across restarts, through the real `dialogue` command.

Someone who never agreed is invited once per chat (remembered as a keyed hash, nothing that
names them), told each time an answer of theirs was not recorded, and invited again only after
withdrawing. A person's group, a session's lead and their rights never wait on memory a
restart loses, and no burst of commands holds back /withdraw, /mydata or the like.
"""

from pathlib import Path

import pytest
from sqlalchemy import func, select

from storage.db import make_engine
from storage.tables import invitations
from tests.support.capture import user_ids
from tests.support.cli import dialogue, write_config

INVITED = "[private to carol] Hello! Your messages in this session are not being recorded."
NOT_RECORDED = "[private to carol] Your answer wasn't recorded"
START = "facilitator: /start health-data-intro"
TALLY = "[private to facilitator] Live answers to “Think about health and care data"


class Console:
    """The `dialogue` command on one database, run again for each part (a restart between)."""

    def __init__(self, database_url: str, tmp_path: Path) -> None:
        self.config = write_config(tmp_path / "config.toml", database_url)
        self.env = {"DIALOGUE_PSEUDONYM_KEY": "test-key-0123456789abcdef"}
        self.tmp_path = tmp_path
        self.runs = 0

    def run(self, *lines: str) -> str:
        self.runs += 1
        transcript = self.tmp_path / f"run{self.runs}.txt"
        transcript.write_text("\n".join(lines) + "\n", encoding="utf-8")
        result = dialogue(self.config, "run", "--transcript", str(transcript), env=self.env)
        assert result.returncode == 0, result.stderr
        return result.stdout


@pytest.fixture
def console(database_url: str, tmp_path: Path) -> Console:
    return Console(database_url, tmp_path)


async def counted(database_url: str) -> tuple[int, int]:
    """How many invitations are remembered, and how many identities name carol."""
    engine = make_engine(database_url)
    try:
        async with engine.connect() as conn:
            remembered = (
                await conn.execute(select(func.count()).select_from(invitations))
            ).scalar()
            carol = list((await user_ids(conn)).values()).count("carol")
    finally:
        await engine.dispose()
    return int(remembered or 0), int(carol or 0)


async def test_someone_who_never_agreed_is_invited_once_across_restarts_until_they_withdraw(
    console: Console, database_url: str
) -> None:
    first = console.run(
        START,
        "carol: CAROL-SECRET hello",
        "carol: CAROL-SECRET still here",
        "facilitator: /goto research-comfort",
        "carol: /vote 1",
        "carol: /vote 2",
    )
    assert first.count(INVITED) == 1
    # Each answer of hers is answered: it was not recorded. No second invitation.
    assert first.count(NOT_RECORDED) == 2
    assert await counted(database_url) == (1, 0)  # a keyed hash; nothing names her

    second = console.run("carol: CAROL-SECRET after the restart", "carol: /vote 3")
    assert INVITED not in second
    assert second.count(NOT_RECORDED) == 1

    # Withdrawing forgets the invitation too: speaking again, she is told again.
    third = console.run("carol> /withdraw confirm")
    assert "[private to carol] We don't hold any data about you" in third
    assert await counted(database_url) == (0, 0)
    fourth = console.run("carol: CAROL-SECRET back again", "carol: CAROL-SECRET once more")
    assert fourth.count(INVITED) == 1


async def test_a_persons_group_and_a_sessions_lead_come_back_after_a_restart(
    console: Console,
) -> None:
    first = console.run(
        START,
        "bob: /agree participate profile",
        "alice: /agree participate",
        "facilitator: /goto research-comfort",
        "alice: /vote 2",
    )
    assert TALLY in first
    # After a restart bob's group is known from his consent, without his speaking there first.
    second = console.run("bob> /profile start", "bob> /vote 4")
    assert "[private to bob] Question 1 of 7" in second
    assert "[private to bob] Thank you, your answer is recorded: Not at all comfortable." in second
    # And the facilitator who moved the session on still sees its live answers.
    assert TALLY in second and "(2 people so far)" in second


async def test_no_burst_of_commands_holds_back_withdrawal_or_a_look_at_ones_data(
    console: Console,
) -> None:
    out = console.run(
        START,
        "bob: /agree participate profile",
        "facilitator: /goto first-thoughts",
        "bob: BOB-REPLY my words",
        *["bob: /status"] * 12,
        "bob: /profile skip 1",
        "bob: /help",
        "bob> /mydata",
        "bob: /withdraw",
        "bob: /withdraw confirm",
    )
    # The burst of /status is told once for how long it is ignored ...
    assert out.count("[private to bob] You're sending commands very quickly") == 1
    # ... and every right after it is answered.
    assert "[private to bob] Skipped" in out
    assert "[private to bob] Commands:" in out
    assert "[private to bob] What we store about you:" in out
    assert "[private to bob] Done. We have withdrawn your consent and erased:" in out
    assert "[private to bob] - 1 reply\n" in out
