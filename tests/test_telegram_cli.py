"""`dialogue run` with Telegram enabled but its secrets missing, and `dialogue group`."""

from __future__ import annotations

from pathlib import Path

import pytest

from tests.support.cli import dialogue, write_config


@pytest.fixture
def config(tmp_path: Path) -> Path:
    telegram = '[telegram]\nenabled = true\napi_base_url = "http://127.0.0.1:9"\n'
    return write_config(tmp_path / "config.toml", f"sqlite+aiosqlite:///{tmp_path}/d.db", telegram)


def test_telegram_enabled_without_its_token_stops_with_a_clear_message(config: Path) -> None:
    result = dialogue(config, "run")
    assert result.returncode == 2
    assert "DIALOGUE_TELEGRAM_TOKEN: telegram.enabled is true but this secret is missing" in (
        result.stderr
    )
    assert "Traceback" not in result.stderr


def test_webhook_mode_without_its_secret_stops_with_a_clear_message(config: Path) -> None:
    text = config.read_text() + 'webhook_url = "https://bot.example.org/hook"\n'
    config.write_text(text, encoding="utf-8")
    result = dialogue(config, "run", env={"DIALOGUE_TELEGRAM_TOKEN": "1:" + "x" * 35})
    assert result.returncode == 2
    assert "DIALOGUE_TELEGRAM_WEBHOOK_SECRET" in result.stderr


def test_a_token_written_in_the_config_file_is_refused(config: Path) -> None:
    config.write_text(config.read_text() + 'token = "1:abc"\n', encoding="utf-8")
    result = dialogue(config, "run")
    assert result.returncode == 2
    assert "telegram.token: secrets must not be written in the config file" in result.stderr


def test_staff_register_list_and_remove_groups_from_the_command_line(config: Path) -> None:
    added = dialogue(config, "group", "add", "telegram:-1001234", "--title", "Tenants")
    assert added.returncode == 0, added.stderr
    assert dialogue(config, "group", "add", "telegram:-1001234").stdout.strip() == (
        "telegram:-1001234: already registered"
    )
    listed = dialogue(config, "group", "list").stdout
    assert "telegram:-1001234  Tenants" in listed and "1 registered groups" in listed
    assert "no longer registered" in dialogue(config, "group", "remove", "telegram:-1001234").stdout
    assert "0 registered groups" in dialogue(config, "group", "list").stdout
    wrong = dialogue(config, "group", "add", "telegram:@tenants")
    assert wrong.returncode == 2 and "a Telegram group's id is a negative number" in wrong.stderr
