"""Every command that opens the database says in one sentence what is wrong with it, exit 2."""

from __future__ import annotations

import os
import socket
from pathlib import Path

import pytest
from sqlalchemy.engine import make_url

from tests.support.cli import dialogue, write_config

KEY = "problems-test-key-0123456789abcdef"
POSTGRES_URL = os.environ.get("DIALOGUE_TEST_DATABASE_URL")
needs_postgres = pytest.mark.skipif(
    POSTGRES_URL is None, reason="set DIALOGUE_TEST_DATABASE_URL to a PostgreSQL URL"
)
COMMANDS = {
    "run": ("run",),
    "export": ("export", "--out", "out"),
    "cycle": ("cycle", "list"),
    "schedule": ("schedule", "list"),
    "reach": ("reach", "--cycle", "c1"),
    "invite": ("invite", "--cycle", "c1"),
    "group": ("group", "list"),
    "db": ("db", "upgrade"),
}


def closed_port() -> int:
    """A local port nothing listens on."""
    with socket.socket() as probe:
        probe.bind(("127.0.0.1", 0))
        return int(probe.getsockname()[1])


def one_sentence(tmp_path: Path, url: str, command: tuple[str, ...], key: str = KEY) -> str:
    config = write_config(tmp_path / "config.toml", url)
    result = dialogue(config, *command, env={"DIALOGUE_PSEUDONYM_KEY": key}, cwd=tmp_path)
    assert result.returncode == 2, result.stderr
    assert "Traceback" not in result.stderr and result.stdout == ""
    lines = result.stderr.strip().splitlines()
    assert len(lines) <= 2, result.stderr
    return lines[-1]


@pytest.mark.parametrize("command", COMMANDS)
def test_postgresql_not_running_is_one_sentence_for_every_command(
    tmp_path: Path, command: str
) -> None:
    port = closed_port()
    url = f"postgresql+asyncpg://dialogue:pw@127.0.0.1:{port}/dialogue"
    said = one_sentence(tmp_path, url, COMMANDS[command])
    assert said == (
        f"Database problem: database.url: PostgreSQL does not answer at 127.0.0.1:{port}; "
        "start it (or check the host and port in database.url), then try again"
    )


@needs_postgres
@pytest.mark.parametrize("command", ["run", "export", "cycle"])
def test_an_unknown_database_or_user_is_one_sentence_naming_it(
    tmp_path: Path, command: str
) -> None:
    assert POSTGRES_URL is not None
    server = make_url(POSTGRES_URL)
    where = f"{server.host}:{server.port or 5432}"
    no_database = server.set(database="no_such_dialogue_db").render_as_string(False)
    said = one_sentence(tmp_path, no_database, COMMANDS[command])
    assert said.startswith(
        f"Database problem: database.url: there is no database 'no_such_dialogue_db' at {where}"
    )
    no_user = server.set(username="no_such_dialogue_user").render_as_string(False)
    said = one_sentence(tmp_path, no_user, COMMANDS[command])
    assert said.startswith(
        f"Database problem: database.url: PostgreSQL at {where} does not let user "
        "'no_such_dialogue_user' in"
    )


@pytest.mark.parametrize("command", ["run", "export", "db"])
def test_a_sqlite_file_that_cannot_be_made_is_one_sentence(tmp_path: Path, command: str) -> None:
    blocked = tmp_path / "a-file"
    blocked.write_text("not a folder", encoding="utf-8")
    url = f"sqlite+aiosqlite:///{blocked / 'dialogue.db'}"
    said = one_sentence(tmp_path, url, COMMANDS[command])
    assert said == (
        f"Database problem: database.url: the SQLite file {blocked / 'dialogue.db'} cannot be "
        "opened; check that its folder can be made and written to by this account"
    )


@pytest.mark.parametrize("command", ["run", "export", "cycle"])
def test_a_pseudonym_key_too_short_is_one_sentence(tmp_path: Path, command: str) -> None:
    url = f"sqlite+aiosqlite:///{tmp_path / 'dialogue.db'}"
    said = one_sentence(tmp_path, url, COMMANDS[command], key="short")
    assert said.startswith(
        "DIALOGUE_PSEUDONYM_KEY: the pseudonym key is 5 bytes long and must be at least 16;"
    )
