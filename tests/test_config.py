"""Settings: defaults, the example file, environment overrides, and clear errors."""

import os
import shutil
import socket
from pathlib import Path

import pytest

from bot.settings import ConfigError, Settings, load_settings
from tests.support.cli import ROOT, dialogue


def test_example_config_documents_exactly_the_defaults(monkeypatch: pytest.MonkeyPatch) -> None:
    for key in [k for k in os.environ if k.startswith("DIALOGUE_")]:
        monkeypatch.delenv(key)
    assert load_settings(ROOT / "config.example.toml") == Settings()


def test_environment_overrides_the_file(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    config = tmp_path / "c.toml"
    config.write_text(
        '[database]\nurl = "sqlite+aiosqlite:///file.db"\n[content]\nlanguage = "en"\n'
    )
    monkeypatch.setenv("DIALOGUE_DATABASE__URL", "sqlite+aiosqlite:///env.db")
    settings = load_settings(config)
    assert settings.database.url == "sqlite+aiosqlite:///env.db"
    assert settings.content.language == "en"


def test_environment_gives_lists_tables_and_platform_switches(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    monkeypatch.chdir(tmp_path)
    monkeypatch.setenv("DIALOGUE_ROLES__STAFF", '["telegram:1", "discord:2"]')
    monkeypatch.setenv("dialogue_schedule__reminder_minutes", "[30]")
    monkeypatch.setenv("DIALOGUE_TELEGRAM__ENABLED", "true")
    monkeypatch.setenv("DIALOGUE_CAPTURE__BATCH_SIZE", "64")
    # Not settings: a secret and a test variable are read elsewhere, never as a table.
    monkeypatch.setenv("DIALOGUE_PSEUDONYM_KEY", "k" * 32)
    monkeypatch.setenv("DIALOGUE_TEST_DATABASE_URL", "postgresql://x")
    settings = load_settings(None)
    assert settings.roles.staff == ["telegram:1", "discord:2"]
    assert settings.schedule.reminder_minutes == [30]
    assert settings.platform_section("telegram").enabled is True
    assert settings.capture.batch_size == 64


def test_a_mistyped_environment_setting_names_its_variable(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    monkeypatch.chdir(tmp_path)
    monkeypatch.setenv("DIALOGUE_CAPTURE__BATCH_SIZ", "64")
    monkeypatch.setenv("DIALOGUE_CAPTURE__QUEUE_SIZE", "none")
    with pytest.raises(ConfigError) as raised:
        load_settings(None)
    message = str(raised.value)
    assert "capture.batch_siz: unknown setting" in message
    assert "capture.queue_size" in message
    assert "DIALOGUE_CAPTURE__BATCH_SIZ" in message


@pytest.mark.parametrize(
    ("text", "expected"),
    [
        ('[database]\nulr = "x"\n', "database.ulr: unknown setting"),
        ('[databse]\nurl = "x"\n', "databse: unknown setting"),
        ('[console]\nenabled = "maybe"\n', "console.enabled"),
        ("[database\nurl = 1\n", "not valid TOML"),
        ('[privacy]\npseudonym_key = "abc"\n', "DIALOGUE_PSEUDONYM_KEY"),
        ('[roles]\nstaff = ["nocolon"]\n', "roles.staff"),
    ],
    ids=["typo-key", "typo-section", "wrong-type", "broken-toml", "secret-in-file", "bad-staff"],
)
def test_bad_config_exits_2_naming_file_and_key(tmp_path: Path, text: str, expected: str) -> None:
    config = tmp_path / "bad.toml"
    config.write_text(text, encoding="utf-8")
    result = dialogue(
        config,
        "export",
        "--out",
        str(tmp_path / "out"),
        env={"DIALOGUE_DATABASE__URL": f"sqlite+aiosqlite:///{tmp_path}/d.db"},
    )
    assert result.returncode == 2
    assert expected in result.stderr
    assert str(config) in result.stderr or expected == "roles.staff"
    assert "Traceback" not in result.stderr + result.stdout


def test_missing_config_file_is_a_clear_error(tmp_path: Path) -> None:
    result = dialogue(tmp_path / "nope.toml", "db", "upgrade")
    assert result.returncode == 2
    assert "nope.toml: file not found" in result.stderr


def test_postgres_without_a_pseudonym_key_names_the_missing_secret(tmp_path: Path) -> None:
    with socket.socket() as probe:
        probe.bind(("127.0.0.1", 0))
        port = probe.getsockname()[1]
    url = f"postgresql+asyncpg://nobody@127.0.0.1:{port}/none"
    result = dialogue(None, "export", "--out", str(tmp_path), env={"DIALOGUE_DATABASE__URL": url})
    assert result.returncode == 2
    assert "DIALOGUE_PSEUDONYM_KEY: this secret is missing" in result.stderr
    assert "Traceback" not in result.stderr


def test_load_settings_raises_config_error_for_non_utf8(tmp_path: Path) -> None:
    config = tmp_path / "latin1.toml"
    config.write_bytes(b'[content]\nlanguage = "\xe9"\n')
    with pytest.raises(ConfigError, match="not UTF-8"):
        load_settings(config)


def test_run_with_broken_content_exits_2_with_the_problem(tmp_path: Path) -> None:
    shutil.copytree(ROOT / "prompts", tmp_path / "prompts")
    shutil.copytree(ROOT / "resources", tmp_path / "resources")
    script = tmp_path / "prompts" / "health-data-intro.toml"
    script.write_text(
        script.read_text().replace('cards = ["what-is-health-data"]', 'cards = ["no-such-card"]')
    )
    result = dialogue(None, "run", cwd=tmp_path, env={"DIALOGUE_CONTENT__ROOT": str(tmp_path)})
    assert result.returncode == 2
    assert "health-data-intro.toml" in result.stderr and "no-such-card" in result.stderr
    assert "Traceback" not in result.stderr
