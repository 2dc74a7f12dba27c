"""The adapter's own start-up against a fake Discord on 127.0.0.1: login, connect, READY.

simcord logs the bot in by itself, so a refused token and a missing Message Content intent
are shown here, with discord.py's real HTTP client and websocket (see
tests/support/discord_gateway.py).
"""

from pathlib import Path

import pytest

from bot.app import chat_platform
from bot.cli.main import main
from bot.settings import ConfigError, load_settings
from tests.support.discord_gateway import (
    MESSAGE_CONTENT,
    TOKEN,
    fake_discord,
    fake_discord_in_thread,
)
from tests.support.discord_helpers import open_bot, write_config


@pytest.fixture
async def config(tmp_path: Path, sqlite_url: str, monkeypatch: pytest.MonkeyPatch) -> Path:
    monkeypatch.setenv("DIALOGUE_PSEUDONYM_KEY", "discord-test-key-0123456789")
    return write_config(tmp_path, sqlite_url, tmp_path / "log.txt", staff=[])


async def test_the_bot_logs_in_syncs_its_commands_and_connects(
    config: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    monkeypatch.setenv("DIALOGUE_DISCORD_TOKEN", TOKEN)
    async with fake_discord(monkeypatch) as fake:
        app, _ = await open_bot(config)
        platform = chat_platform(app, "discord")
        try:
            await platform.start()
            assert platform.client.is_ready()
        finally:
            await platform.stop()
            await app.close()
    assert "PUT /applications/700000000000000001/guilds/424242424242424242/commands" in fake.calls
    (intents,) = fake.identified
    assert intents & MESSAGE_CONTENT


async def test_a_refused_token_is_one_clear_sentence(
    config: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    monkeypatch.setenv("DIALOGUE_DISCORD_TOKEN", "not-the-token")
    async with fake_discord(monkeypatch):
        app, platform = await open_bot(config)
        try:
            with pytest.raises(ConfigError, match="Discord refused this token") as refused:
                await platform.start()
        finally:
            await app.close()
    assert "Reset Token" in str(refused.value) and str(refused.value).count(". ") == 0


async def test_a_missing_message_content_intent_says_what_to_switch_on(
    config: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    monkeypatch.setenv("DIALOGUE_DISCORD_TOKEN", TOKEN)
    async with fake_discord(monkeypatch, message_content_enabled=False):
        app, platform = await open_bot(config)
        try:
            with pytest.raises(ConfigError, match="MESSAGE CONTENT INTENT") as refused:
                await platform.start()
        finally:
            await app.close()
    assert "Privileged Gateway Intents" in str(refused.value)


@pytest.mark.parametrize(
    ("token", "message_content", "said"),
    [
        ("not-the-token", True, "Discord refused this token"),
        (TOKEN, False, "switch on MESSAGE CONTENT INTENT"),
        ("", True, "DIALOGUE_DISCORD_TOKEN: discord.enabled is true but"),
    ],
    ids=["bad-token", "no-message-content-intent", "no-token"],
)
def test_dialogue_run_explains_what_to_fix_and_exits_2_without_a_traceback(
    config: Path,
    monkeypatch: pytest.MonkeyPatch,
    capsys: pytest.CaptureFixture[str],
    restore_logging: None,
    token: str,
    message_content: bool,
    said: str,
) -> None:
    monkeypatch.setenv("DIALOGUE_DISCORD_TOKEN", token)
    with fake_discord_in_thread(monkeypatch, message_content):
        status = main(["--config", str(config), "run"])
    err = capsys.readouterr().err
    assert status == 2
    assert said in err and "Traceback" not in err
    assert len(err.strip().splitlines()) == 2  # "Configuration problem:" and one sentence


def test_dialogue_discord_sync_updates_the_commands_without_connecting(
    config: Path,
    monkeypatch: pytest.MonkeyPatch,
    capsys: pytest.CaptureFixture[str],
    restore_logging: None,
) -> None:
    monkeypatch.setenv("DIALOGUE_DISCORD_TOKEN", TOKEN)
    with fake_discord_in_thread(monkeypatch) as fake:
        status = main(["--config", str(config), "discord", "sync"])
    assert status == 0
    assert "Slash commands updated for servers 424242424242424242." in capsys.readouterr().out
    assert "PUT /applications/700000000000000001/guilds/424242424242424242/commands" in fake.calls
    assert sorted(fake.synced) == ["consent", "dialogue", "language", "mydata", "withdraw"]
    assert fake.identified == []


def test_a_token_written_in_the_settings_file_is_refused_naming_the_variable(
    tmp_path: Path,
) -> None:
    config = tmp_path / "config.toml"
    config.write_text('[discord]\nenabled = true\ntoken = "abc"\n', encoding="utf-8")
    with pytest.raises(ConfigError, match="set the environment variable DIALOGUE_DISCORD_TOKEN"):
        load_settings(config)
