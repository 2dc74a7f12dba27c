"""`dialogue backup` and `dialogue restore` on SQLite and PostgreSQL, compared table by table."""

from __future__ import annotations

import stat
from collections.abc import AsyncIterator, Awaitable, Callable
from contextlib import AsyncExitStack
from pathlib import Path

import pytest

from storage.backups import table_rows
from storage.db import make_engine
from tests.support.cli import dialogue, write_config
from tests.support.databases import POSTGRES_URL, fresh_postgres_database
from tests.support.staff import run_session, staff_config


@pytest.fixture
async def new_database(
    database_url: str, tmp_path: Path
) -> AsyncIterator[Callable[[], Awaitable[str]]]:
    """Makes new, empty databases of the same kind as ``database_url``."""
    async with AsyncExitStack() as stack:
        made: list[str] = []

        async def make() -> str:
            if database_url.startswith("sqlite"):
                url = f"sqlite+aiosqlite:///{tmp_path}/restored-{len(made)}/d.db"
            else:
                assert POSTGRES_URL is not None
                url = await stack.enter_async_context(fresh_postgres_database(POSTGRES_URL))
            made.append(url)
            return url

        yield make


async def _rows(url: str) -> dict[str, list[tuple[object, ...]]]:
    engine = make_engine(url)
    try:
        return await table_rows(engine)
    finally:
        await engine.dispose()


def _private(path: Path) -> bool:
    return stat.S_IMODE(path.stat().st_mode) & 0o077 == 0


async def test_a_backup_restores_into_a_new_database_table_for_table(
    database_url: str, tmp_path: Path, new_database: Callable[[], Awaitable[str]]
) -> None:
    config = staff_config(tmp_path, database_url)
    run_session(config, tmp_path)
    out, keys = tmp_path / "backup", tmp_path / "keys-backup"
    alone = dialogue(config, "backup", str(tmp_path / "without-keys"))
    assert alone.returncode == 0, alone.stdout + alone.stderr
    assert "are not in this backup: without them its replies cannot be read" in alone.stdout
    made = dialogue(config, "backup", str(out), "--keys-out", str(keys))
    assert made.returncode == 0, made.stdout + made.stderr
    assert _private(out) and all(_private(p) for p in out.iterdir())
    assert _private(keys) and all(_private(p) for p in keys.iterdir())
    assert not any(p.name.endswith("keys.sqlite") for p in out.iterdir())  # kept apart
    assert {p.name for p in out.iterdir()} >= {"backup.json", "dialogue.key"}
    before = await _rows(database_url)
    assert before["responses"] and before["consents"]

    # Alice asks to be erased after the backup was made.
    alice = ("--platform", "console", "--user-id", "alice")
    assert dialogue(config, "person", "erase", *alice, "--yes").returncode == 0

    target = await new_database()
    key = tmp_path / "restored.key"
    restored_config = write_config(
        tmp_path / "restored.toml",
        str(target),
        f'[privacy]\nkey_file = "{key}"\n',
        tmp_path / "content",
    )
    restored = dialogue(restored_config, "restore", str(out), "--keys-from", str(keys))
    assert restored.returncode == 0, restored.stdout + restored.stderr
    assert "--replay-from OLD_DATABASE_URL" in restored.stdout
    assert await _rows(str(target)) == before
    assert key.read_bytes() == (tmp_path / "k.key").read_bytes() and _private(key)
    # Without the replay, the restore (with keys copied before her erasure) brought Alice back.
    shown = dialogue(restored_config, "person", "show", *alice)
    assert "ALICE-EMAIL-REQUEST" in shown.stdout

    again = dialogue(restored_config, "restore", str(out))
    assert again.returncode == 2
    assert "holds tables already; restore into a new, empty database" in again.stdout

    replayed_db = await new_database()
    replayed_config = write_config(
        tmp_path / "replayed.toml",
        str(replayed_db),
        f'[privacy]\nkey_file = "{tmp_path / "replayed.key"}"\n',
        tmp_path / "content",
    )
    replayed = dialogue(
        replayed_config,
        "restore",
        str(out),
        "--keys-from",
        str(keys),
        "--replay-from",
        database_url,
    )
    assert replayed.returncode == 0, replayed.stdout + replayed.stderr
    assert "Erased again 1 people" in replayed.stdout
    gone = dialogue(replayed_config, "person", "show", *alice)
    assert "We don't store anything about you." in gone.stdout
    bob = dialogue(replayed_config, "person", "show", "--platform", "console", "--user-id", "bob")
    assert "BOB-STAYS" in bob.stdout
