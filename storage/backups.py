"""Whole-database copies: SQLite through its online backup API, PostgreSQL through pg_dump.

A backup is a private folder (0700) of private files (0600): the database copy, the pseudonym
key when it lives in a file, and ``backup.json`` saying when it was made and what it holds.
"""

from __future__ import annotations

import json
import os
import sqlite3
import subprocess
from collections.abc import Sequence
from dataclasses import dataclass
from datetime import datetime
from pathlib import Path
from typing import TYPE_CHECKING, Any

from sqlalchemy import func, inspect, select
from sqlalchemy.engine import make_url

from bot.core.ids import PersonRef
from storage._keys import PERSON_COLUMNS, open_person
from storage.db import sqlite_file
from storage.keystore import keys_of
from storage.tables import metadata

if TYPE_CHECKING:
    from sqlalchemy.ext.asyncio import AsyncEngine

MANIFEST = "backup.json"
SQLITE_COPY = "dialogue.db"
POSTGRES_COPY = "dialogue.dump"
KEY_COPY = "dialogue.key"
# People's own keys, copied by `backup --keys-out` into a folder of their own.
KEYS_COPY = "person-keys.sqlite"


class BackupError(Exception):
    """A backup or restore that cannot go ahead; the message says why and what to do."""


@dataclass(frozen=True, slots=True)
class Manifest:
    """What a backup folder holds."""

    made_at: datetime
    dialect: str
    rows: dict[str, int]
    key: bool

    def write(self, folder: Path) -> None:
        """Write ``backup.json`` into ``folder``, private."""
        data = {
            "made_at": self.made_at.isoformat(),
            "dialect": self.dialect,
            "rows": self.rows,
            "key": self.key,
        }
        private_write(folder / MANIFEST, json.dumps(data, indent=2).encode("utf-8"))

    @classmethod
    def read(cls, folder: Path) -> Manifest:
        """The manifest of a backup folder, or a BackupError naming the folder."""
        try:
            data = json.loads((folder / MANIFEST).read_text(encoding="utf-8"))
            return cls(
                datetime.fromisoformat(data["made_at"]),
                data["dialect"],
                data["rows"],
                bool(data["key"]),
            )
        except (OSError, ValueError, KeyError) as exc:
            raise BackupError(
                f"{folder}: not a backup made by 'dialogue backup' ({MANIFEST}: {exc})"
            ) from None


def private_folder(path: Path) -> None:
    """Create ``path`` readable by its owner alone; it must not exist or be an empty folder."""
    if path.exists() and (not path.is_dir() or any(path.iterdir())):
        raise BackupError(f"{path}: not an empty folder; name a new one")
    path.mkdir(mode=0o700, parents=True, exist_ok=True)
    path.chmod(0o700)


def private_write(path: Path, data: bytes) -> None:
    """Write a new file readable by its owner alone."""
    descriptor = os.open(path, os.O_WRONLY | os.O_CREAT | os.O_EXCL, 0o600)
    with os.fdopen(descriptor, "wb") as handle:
        handle.write(data)


async def row_counts(engine: AsyncEngine) -> dict[str, int]:
    """How many rows each table of the schema holds."""
    async with engine.connect() as conn:
        return {
            name: int((await conn.execute(select(func.count()).select_from(table))).scalar_one())
            for name, table in sorted(metadata.tables.items())
        }


async def table_rows(engine: AsyncEngine) -> dict[str, list[tuple[Any, ...]]]:
    """Every row of every table, in a stable order (to compare two databases)."""
    found = {}
    async with engine.connect() as conn:
        for name, table in sorted(metadata.tables.items()):
            rows = (await conn.execute(select(table))).all()
            found[name] = sorted((tuple(row) for row in rows), key=repr)
    return found


async def holds_tables(engine: AsyncEngine) -> bool:
    """Whether the database holds any table already (a restore needs a new, empty one)."""
    async with engine.connect() as conn:
        names = await conn.run_sync(lambda sync: inspect(sync).get_table_names())
    return bool(names)


async def people(engine: AsyncEngine) -> list[PersonRef]:
    """Every person the database knows."""
    async with engine.connect() as conn:
        rows = await conn.execute(select(*PERSON_COLUMNS))
        keys = keys_of(conn)
        return [open_person(keys, *row) for row in rows]


def copy_sqlite(url: str, target: Path) -> None:
    """Copy the SQLite database at ``url`` to ``target`` (a new file) while others use it."""
    source = sqlite_file(url)
    if source is None or not source.is_file():
        raise BackupError(f"database.url: {source}: there is no SQLite database file there")
    copy_sqlite_file(source, target)


def restore_sqlite(copy: Path, url: str) -> None:
    """Write the backup ``copy`` into the (new) SQLite database at ``url``."""
    target = sqlite_file(url)
    assert target is not None
    copy_sqlite_file(copy, target)


def copy_sqlite_file(source: Path, target: Path) -> None:
    """Copy one SQLite file into another (made private), safely while others use it.

    Serves the database and the key store of people's own keys alike.
    """
    target.parent.mkdir(parents=True, exist_ok=True)
    if not target.exists():
        private_write(target, b"")
    with sqlite3.connect(source) as reading, sqlite3.connect(target) as writing:
        reading.backup(writing)
    writing.close()
    reading.close()


def pg_tool(command: Sequence[str], url: str) -> None:
    """Run pg_dump or pg_restore on ``url``; a failure is a BackupError with its first line.

    The password goes in the environment, so no process listing shows it.
    """
    parsed = make_url(url).set(drivername="postgresql")
    # The PostgreSQL tools take the database as their last argument (after --dbname: restore).
    env = dict(os.environ)
    if parsed.password is not None:
        env["PGPASSWORD"] = str(parsed.password)
    target = parsed.set(password=None).render_as_string(hide_password=False)
    try:
        done = subprocess.run(
            [*command, target], capture_output=True, text=True, check=False, env=env
        )
    except FileNotFoundError:
        raise BackupError(
            f"{command[0]} was not found; install the PostgreSQL client tools "
            "(Debian: apt-get install postgresql-client)"
        ) from None
    if done.returncode != 0:
        said = (done.stderr.strip().splitlines() or ["no message"])[0]
        raise BackupError(f"{command[0]} failed: {said}")
