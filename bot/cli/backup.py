"""``dialogue backup OUT`` and ``dialogue restore IN``: a whole deployment's data, kept private.

A restore brings back people who were erased after the backup was made. ``--replay-from`` reads
the erasures recorded since then in the old database and erases those people again, by
pseudonym, through the same path as ``/withdraw confirm``; without it, restore says what to do.
"""

from __future__ import annotations

import argparse
from datetime import UTC, datetime
from pathlib import Path

from bot.app import build, key_file, pseudonym_key
from bot.service.shell import utcnow
from bot.settings import Settings
from storage.backups import (
    KEY_COPY,
    KEYS_COPY,
    POSTGRES_COPY,
    SQLITE_COPY,
    BackupError,
    Manifest,
    copy_sqlite,
    copy_sqlite_file,
    holds_tables,
    people,
    pg_tool,
    private_folder,
    private_write,
    restore_sqlite,
    row_counts,
)
from storage.db import default_keys, make_engine
from storage.repositories import Repository


async def run(args: argparse.Namespace, settings: Settings) -> int:
    """Carry out ``backup`` or ``restore``; a problem is one sentence and status 2."""
    try:
        if args.command == "backup":
            return await _backup(args.out, args.keys_out, settings)
        return await _restore(args.backup, args.keys_from, args.replay_from, settings)
    except BackupError as exc:
        print(f"Backup problem: {exc}")
        return 2


async def _backup(out: Path, keys_out: Path | None, settings: Settings) -> int:
    url = settings.database.url
    engine = make_engine(url)
    try:
        made_at = utcnow()
        rows = await row_counts(engine)
        dialect = engine.dialect.name
    finally:
        await engine.dispose()
    private_folder(out)
    if dialect == "sqlite":
        copy_sqlite(url, out / SQLITE_COPY)
    else:
        private_write(out / POSTGRES_COPY, b"")
        pg_tool(["pg_dump", "--format=custom", "--no-owner", f"--file={out / POSTGRES_COPY}"], url)
    key = key_file(settings)
    if key is not None and key.is_file():
        private_write(out / KEY_COPY, key.read_bytes())
    Manifest(made_at, dialect, rows, key is not None and key.is_file()).write(out)
    print(f"Backed up {sum(rows.values())} rows of {len(rows)} tables to {out} ({dialect}).")
    if not (out / KEY_COPY).exists():
        print("The pseudonym key comes from DIALOGUE_PSEUDONYM_KEY: keep it with this backup.")
    keys = person_keys(settings)
    if keys_out is not None:
        private_folder(keys_out)
        copy_sqlite_file(keys, keys_out / KEYS_COPY)
        print(f"People's own keys copied to {keys_out}: keep this apart, and only briefly.")
    else:
        print(
            f"People's own keys ({keys}) are not in this backup: without them its replies "
            "cannot be read. Copy them apart with --keys-out FOLDER, and keep those copies "
            "briefly (an old copy brings back the words of people erased since)."
        )
    return 0


async def _restore(
    folder: Path, keys_from: Path | None, replay_from: str | None, settings: Settings
) -> int:
    manifest = Manifest.read(folder)
    copy = folder / (SQLITE_COPY if manifest.dialect == "sqlite" else POSTGRES_COPY)
    if not copy.is_file():
        raise BackupError(f"{copy}: missing; this backup is incomplete")
    url = settings.database.url
    engine = make_engine(url)
    try:
        if engine.dialect.name != manifest.dialect:
            raise BackupError(
                f"database.url is {engine.dialect.name} but the backup is of {manifest.dialect}; "
                "restore into the same kind of database"
            )
        if await holds_tables(engine):
            raise BackupError(
                f"database.url: {engine.url.render_as_string()} holds tables already; "
                "restore into a new, empty database"
            )
        _restore_key(folder, manifest, settings)
        _restore_person_keys(keys_from, settings)
        if manifest.dialect == "sqlite":
            restore_sqlite(copy, url)
        else:
            pg_tool(["pg_restore", "--no-owner", "--exit-on-error", str(copy), "--dbname"], url)
        restored = await row_counts(engine)
    finally:
        await engine.dispose()
    print(
        f"Restored {sum(restored.values())} rows of {len(restored)} tables from the backup "
        f"made {manifest.made_at:%Y-%m-%d %H:%M} UTC."
    )
    if replay_from is None:
        print(
            "People erased after that time are back in this database: run the restore with "
            "--replay-from OLD_DATABASE_URL while the old database can be read, or erase each "
            "again with 'dialogue person erase'."
        )
        return 0
    erased = await _replay(replay_from, manifest.made_at, settings)
    print(f"Erased again {erased} people who were erased after the backup was made.")
    return 0


def _restore_key(folder: Path, manifest: Manifest, settings: Settings) -> None:
    if not manifest.key:
        return
    saved = (folder / KEY_COPY).read_bytes()
    current = key_file(settings)
    if current is None:
        print(f"Set DIALOGUE_PSEUDONYM_KEY to the key saved in {folder / KEY_COPY}.")
    elif not current.exists():
        current.parent.mkdir(parents=True, exist_ok=True)
        private_write(current, saved)
    elif current.read_bytes().strip() != saved.strip():
        raise BackupError(
            f"privacy.key_file: {current} holds another pseudonym key than the backup's; "
            f"move it away, or point privacy.key_file at {folder / KEY_COPY}"
        )


def person_keys(settings: Settings) -> Path:
    """Where the deployment keeps people's own keys."""
    return settings.database.keys or Path(default_keys(settings.database.url))


def _restore_person_keys(keys_from: Path | None, settings: Settings) -> None:
    target = person_keys(settings)
    if keys_from is None:
        if not target.exists():
            print(
                f"No keys at {target}: the restored replies cannot be read until people's own "
                "keys are restored (--keys-from FOLDER)."
            )
        return
    copy = keys_from / KEYS_COPY
    if not copy.is_file():
        raise BackupError(f"{copy}: missing; give the folder 'dialogue backup --keys-out' wrote")
    if target.exists():
        raise BackupError(
            f"database.keys: {target} exists already; move it away to restore the keys"
        )
    copy_sqlite_file(copy, target)


async def _replay(old_url: str, since: datetime, settings: Settings) -> int:
    old = make_engine(old_url)
    try:
        entries = await Repository(old, pseudonym_key(settings)).audit_entries("erasure")
    finally:
        await old.dispose()
    wanted = {
        str(e.detail["pseudonym"])
        for e in entries
        if (e.at if e.at.tzinfo else e.at.replace(tzinfo=UTC)) > since
    }
    app = await build(settings)
    try:
        now = utcnow()
        again = [p for p in await people(app.database) if app.service.pseudonymise(p) in wanted]
        for person in again:
            await app.service.erase(person, now)
    finally:
        await app.close()
    return len(again)
