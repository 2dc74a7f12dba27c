"""Engines for the configured database URL, and running the Alembic migrations."""

from __future__ import annotations

import importlib.util
import os
import re
import sqlite3
import sys
from collections.abc import AsyncIterator, Callable
from contextlib import asynccontextmanager
from functools import partial
from pathlib import Path
from typing import TYPE_CHECKING, Any, TypeVar, cast

from sqlalchemy import Connection, Engine, create_engine, event, inspect, text
from sqlalchemy.engine import URL, make_url
from sqlalchemy.exc import DBAPIError

from bot.private_files import private_file
from storage.keystore import MEMORY, OPTION, KeyStore

if TYPE_CHECKING:
    from alembic.config import Config
    from alembic.script import ScriptDirectory
    from sqlalchemy.ext.asyncio import AsyncConnection, AsyncEngine

MIGRATIONS = Path(__file__).parent / "migrations"

# Execution option naming the SQLite BEGIN mode; write paths ask for IMMEDIATE so a
# transaction that reads before it writes never fails to upgrade its lock.
SQLITE_BEGIN = "sqlite_begin"
E = TypeVar("E", Engine, "AsyncEngine")

# 32 MiB of page cache (the default is 2 MiB): once the indexes of replies outgrow the
# cache, every insert reads pages back in, and capture slows as the database grows.
CACHE = "PRAGMA cache_size=-32768"
SQLITE_PRAGMAS = (
    "PRAGMA journal_mode=WAL",
    "PRAGMA secure_delete=ON",
    "PRAGMA foreign_keys=ON",
    "PRAGMA busy_timeout=5000",
    "PRAGMA synchronous=NORMAL",
    CACHE,
    # Checkpoint every 64 MiB of WAL rather than every 4 MiB. Each batch of replies dirties a
    # page in every index for every group it touches, so at the default a checkpoint (page
    # copies and an fsync) followed nearly every commit once the indexes grew; measured here
    # (200,000 replies from 400 groups, plain sqlite3) inserts slowed from 27 to 126 µs a row
    # at the default and from 18 to 45 µs a row with this. Erasure still truncates the WAL.
    "PRAGMA wal_autocheckpoint=16384",
)


class DatabaseProblem(Exception):
    """The database cannot be opened for a reason a person can fix; the message says how."""


class DatabaseUnreachable(ConnectionError):
    """The database went away (stopped, restarting, the network down): worth trying again."""


def unreachable(exc: BaseException) -> bool:
    """Whether a failure means the database could not be reached (rather than refused it)."""
    # Imported on failure only: a bot on SQLite never loads the PostgreSQL driver.
    import asyncpg
    from asyncpg import exceptions as pg

    # Driver errors that mean the server or the connection is gone, not that a statement failed.
    gone = (
        OSError,
        pg.PostgresConnectionError,
        pg.CannotConnectNowError,
        pg.AdminShutdownError,
        pg.CrashShutdownError,
        asyncpg.InterfaceError,
    )
    for cause in _causes(exc):
        if isinstance(cause, gone):
            return True
        if isinstance(cause, DBAPIError) and cause.connection_invalidated:
            return True
    return False


def _causes(exc: BaseException) -> list[BaseException]:
    """The exception, the driver's error inside it, and what caused each."""
    found: list[BaseException] = []
    todo: list[BaseException | None] = [exc]
    while todo:
        item = todo.pop()
        if item is None or item in found:
            continue
        found.append(item)
        todo += [getattr(item, "orig", None), item.__cause__, item.__context__]
    return found


def database_problem(exc: BaseException, url: str) -> DatabaseProblem | None:
    """One sentence for a failure to open the database at ``url``; None if it is not one."""
    from asyncpg import exceptions as pg

    parsed = make_url(url)
    where = f"{parsed.host or 'localhost'}:{parsed.port or 5432}"
    for cause in _causes(exc):
        if isinstance(cause, pg.InvalidCatalogNameError):
            return DatabaseProblem(
                f"database.url: there is no database '{parsed.database}' at {where}; create it "
                f"(createdb {parsed.database}) or correct the name in database.url"
            )
        if isinstance(cause, pg.InvalidPasswordError):
            return DatabaseProblem(
                f"database.url: PostgreSQL at {where} refused the password of user "
                f"'{parsed.username}'; correct the password in database.url"
            )
        if isinstance(cause, pg.InvalidAuthorizationSpecificationError):
            return DatabaseProblem(
                f"database.url: PostgreSQL at {where} does not let user '{parsed.username}' "
                "in (no such role, or not allowed to connect); create the role or correct the "
                "user in database.url"
            )
        if isinstance(cause, pg.CannotConnectNowError | OSError) and parsed.host is not None:
            return DatabaseProblem(
                f"database.url: PostgreSQL does not answer at {where}; start it (or check the "
                "host and port in database.url), then try again"
            )
        sqlite = sqlite_file(url)
        if sqlite is not None and isinstance(cause, OSError | sqlite3.OperationalError):
            return DatabaseProblem(
                f"database.url: the SQLite file {sqlite} cannot be opened; check that its "
                "folder can be made and written to by this account"
            )
    return None


def _normalise(url: str) -> URL:
    parsed = make_url(url)
    if parsed.drivername in ("postgresql", "postgres"):
        return parsed.set(drivername="postgresql+asyncpg")
    return parsed


def sqlite_file(url: str) -> Path | None:
    """Return the database file of a SQLite URL, or None for other backends and memory."""
    parsed = make_url(url)
    if parsed.get_backend_name() != "sqlite" or parsed.database in (None, "", ":memory:"):
        return None
    return Path(parsed.database)


def default_keys(url: str) -> str:
    """Where the per-person keys of a database live unless set (``database.keys``).

    Beside a SQLite file (``dialogue.db``: ``dialogue.keys``), in memory for a database in
    memory, and for a server's database in this account's data folder
    (``$XDG_DATA_HOME`` or ``~/.local/share``, then ``distributed-dialogue/``), named after the
    server and the database: the same file whichever folder a command runs in.
    """
    path = sqlite_file(url)
    if path is not None:
        return str(path.with_suffix(".keys"))
    parsed = make_url(url)
    if parsed.get_backend_name() == "sqlite":
        return MEMORY
    data = Path(os.environ.get("XDG_DATA_HOME") or Path.home() / ".local" / "share")
    name = f"{parsed.host or 'local'}-{parsed.port or 5432}-{parsed.database or 'dialogue'}"
    return str(data / "distributed-dialogue" / f"{name}.keys")


def _keys(url: str, keys: Path | str | None) -> dict[str, KeyStore]:
    return {OPTION: KeyStore(keys if keys is not None else default_keys(url))}


def make_engine(url: str, keys: Path | str | None = None) -> AsyncEngine:
    """Create an async engine; SQLite gets WAL, secure_delete and real transactions.

    Its connections carry the key store at ``keys`` (see ``default_keys``).
    """
    parsed = _normalise(url)
    # hide_parameters: statement errors must not carry participants' words into tracebacks.
    options = _keys(url, keys)
    if parsed.get_backend_name() != "sqlite":
        # pool_pre_ping: after the server restarted, a pooled connection is found dead and
        # replaced when it is taken, rather than failing the first query that uses it.
        return _create_async_engine(
            parsed, hide_parameters=True, pool_pre_ping=True, execution_options=options
        )
    engine = _create_async_engine(parsed, hide_parameters=True, execution_options=options)
    _sqlite_settings(engine.sync_engine, url)
    return engine


def _create_async_engine(url: URL, **options: Any) -> AsyncEngine:
    """SQLAlchemy's ``create_async_engine``, imported without the ORM.

    The package ``sqlalchemy.ext.asyncio`` imports its ORM session, and so ``sqlalchemy.orm``,
    in its ``__init__``: most of the extension's import time, before ``dialogue run``'s ready
    line (bench/README.md), and the engine needs none of it. So, unless the package is loaded
    already, its engine module is imported under a bare package object that is taken away
    again: a later ``import sqlalchemy.ext.asyncio`` runs the package whole and finds this
    same engine module (the same classes) in ``sys.modules``. Only the package's attribute
    ``engine`` is then missing (the names it exports are there); nothing of ours or of
    SQLAlchemy's reads it. While the bare package is in place, no other thread may import
    the extension: ``dialogue run`` makes its engine before it starts a thread that imports.
    """
    package = "sqlalchemy.ext.asyncio"
    bare = package not in sys.modules
    if bare:
        spec = importlib.util.find_spec(package)
        assert spec is not None, "SQLAlchemy has its asyncio extension"
        sys.modules[package] = importlib.util.module_from_spec(spec)
    try:
        from sqlalchemy.ext.asyncio.engine import create_async_engine
    finally:
        if bare:
            del sys.modules[package]
    return create_async_engine(url, **options)


def make_blocking_sqlite_engine(url: str, keys: Path | str | None = None) -> Engine:
    """A plain (blocking) engine on a SQLite file, set up as make_engine's.

    For a process that has nothing else to do while the database works (the capture writer's
    own process), where each statement through the async driver would cost two thread hops.
    """
    parsed = _normalise(url)
    engine = create_engine(
        parsed.set(drivername="sqlite+pysqlite"),
        hide_parameters=True,
        execution_options=_keys(url, keys),
    )
    _sqlite_settings(engine, url)
    return engine


def _bind_as_they_are() -> None:
    """Have the sqlite3 module bind None and bytes as they are, without searching for more.

    Python 3.11's sqlite3 looks for an adapter of every parameter that is not an int, float,
    str or bytearray; finding none, it asks the PrepareProtocol type for ``__adapt__``, which
    formats an AttributeError and drops it: about 2,000 instructions a None or bytes bound (four
    a stored reply: its mark, and the reply-to, original length and language it often lacks).
    An adapter registered for the exact type is found by one dictionary look-up and returns the
    value unchanged, so what is bound is the same. ``{}.get`` gives None for None, ``bytes``
    gives back the bytes it is given: both in C, with no Python frame.
    """
    sqlite3.register_adapter(type(None), cast("Callable[[None], None]", {}.get))
    sqlite3.register_adapter(bytes, bytes)


def _sqlite_settings(engine: Engine, url: str) -> None:
    _bind_as_they_are()
    path = sqlite_file(url)
    if path is not None:
        # SQLite gives its -wal and -shm files the database file's mode.
        private_file(path)

    @event.listens_for(engine, "connect")
    def _on_connect(dbapi_connection: Any, _record: Any) -> None:
        # Take BEGIN away from the sqlite3 driver, which skips it for SELECT and DDL.
        dbapi_connection.isolation_level = None
        cursor = dbapi_connection.cursor()
        for pragma in SQLITE_PRAGMAS:
            cursor.execute(pragma)
        cursor.close()

    @event.listens_for(engine, "begin")
    def _on_begin(conn: Connection) -> None:
        mode = conn.get_execution_options().get(SQLITE_BEGIN, "DEFERRED")
        conn.exec_driver_sql(f"BEGIN {mode}")


def for_writes(engine: E) -> E:
    """The engine for transactions that write.

    They take SQLite's write lock at BEGIN, so two writers queue up rather than one failing
    when it upgrades its lock (PostgreSQL ignores the option).
    """
    return engine.execution_options(**{SQLITE_BEGIN: "IMMEDIATE"})


def alembic_config() -> Config:
    """Build the Alembic configuration in code, pointing at the packaged migrations."""
    from alembic.config import Config

    cfg = Config()
    cfg.set_main_option("script_location", str(MIGRATIONS))
    return cfg


# Before the migrations formed one chain, 0012_content depended on 0007 and so stood for it too.
BRANCHED_DEPENDENCIES = {"0012_content": "0007"}


def version(connection: Connection, script: ScriptDirectory) -> str | None:
    """The migration the database is at (None: none yet).

    Databases made before the migrations formed one chain hold a version row for each branch
    that grew from 0001. Each such branch is one step of today's chain, so together the rows
    stand for the last of them, provided they cover the chain from its start without a gap.
    """
    rows = version_rows(connection)
    if len(rows) <= 1:
        return rows[0] if rows else None
    chain = [found.revision for found in reversed(list(script.walk_revisions()))]
    unknown = sorted(set(rows) - set(chain))
    if unknown:
        raise DatabaseProblem(
            f"the database has migrations this release does not know ({', '.join(unknown)}); "
            "run the newer release that made them"
        )
    applied = {*rows, *(BRANCHED_DEPENDENCIES[r] for r in rows if r in BRANCHED_DEPENDENCIES)}
    last = max(chain.index(row) for row in rows)
    missing = [step for step in chain[1 : last + 1] if step not in applied]
    if missing:
        raise DatabaseProblem(
            f"the database lacks migrations {', '.join(missing)} but has later ones; upgrade "
            "it with the release that made it first ('dialogue db upgrade'), then with this one"
        )
    return chain[last]


def head() -> str:
    """The newest migration's revision, read from its file without loading Alembic.

    The migrations form one chain in number order, so the newest is the last file by name.
    """
    newest = max((MIGRATIONS / "versions").glob("[0-9]*.py"))
    found = re.search(r'^revision: str = "([^"]+)"$', newest.read_text(encoding="utf-8"), re.M)
    if found is None:
        raise RuntimeError(f"{newest} names no revision")
    return found.group(1)


def version_rows(connection: Connection) -> list[str]:
    """The revisions in the database's Alembic version table (none before the first)."""
    if not inspect(connection).has_table("alembic_version"):
        return []
    return list(connection.scalars(text("SELECT version_num FROM alembic_version")))


async def missing_migrations(engine: AsyncEngine) -> list[str]:
    """The migrations the database lacks, newest first (all of them on an empty database).

    Raises whatever the driver raises when the database does not answer.
    """
    async with engine.connect() as conn:
        await conn.execute(text("SELECT 1"))
        return await conn.run_sync(_missing)


def _missing(connection: Connection) -> list[str]:
    from alembic.script import ScriptDirectory

    script = ScriptDirectory.from_config(alembic_config())
    lower = version(connection, script)
    return [found.revision for found in script.iterate_revisions("head", lower or "base")]


def _upgrade(connection: Connection) -> None:
    rows = version_rows(connection)
    if rows == [head()]:
        return  # up to date: a bot's every start, without loading Alembic
    from alembic import command
    from alembic.script import ScriptDirectory

    cfg = alembic_config()
    cfg.attributes["connection"] = connection
    if len(rows) > 1:
        # The version rows of the old branching layout become the one row of the chain.
        joined = version(connection, ScriptDirectory.from_config(cfg))
        assert joined is not None, "several version rows stand for one migration"
        command.stamp(cfg, joined, purge=True)
    command.upgrade(cfg, "head")


async def sqlite_pragma(conn: AsyncConnection, pragma: str) -> tuple[Any, ...] | None:
    """Run a PRAGMA outside any transaction (some are ignored or refused inside one)."""
    driver = (await conn.get_raw_connection()).driver_connection
    assert driver is not None, "a checked-out connection has a driver connection"
    cursor = await driver.execute(pragma)
    row: tuple[Any, ...] | None = await cursor.fetchone()
    await cursor.close()
    return row


# A scan's page cache: SQLite's default, 2 MiB.
SCAN_CACHE = "PRAGMA cache_size=-2000"


@asynccontextmanager
async def scanning(engine: AsyncEngine) -> AsyncIterator[AsyncConnection]:
    """A connection for reading much of the database once (an export's reads), then freed.

    A connection may hold ``cache_size`` (32 MiB) of pages, and SQLite's sorter (GROUP BY,
    ORDER BY without an index) as much again: a scan reads each page once, and the operating
    system's cache keeps it warm for another, so the scan gets SQLite's default cache and the
    connection goes back to the pool with its cache freed and its usual size.
    """
    async with engine.connect() as conn:
        if conn.dialect.name != "sqlite":
            yield conn
            return
        await sqlite_pragma(conn, SCAN_CACHE)
        try:
            yield conn
        finally:
            await sqlite_pragma(conn, "PRAGMA shrink_memory")
            await sqlite_pragma(conn, CACHE)


async def migrate(
    url: str, run: Callable[[Connection], object], keys: Path | str | None = None
) -> None:
    """Call ``run`` in one transaction on a connection fit for schema changes.

    Every command opens the database here first, so a database that cannot be opened is a
    ``DatabaseProblem`` saying what to do, never a driver's traceback.
    """
    engine: AsyncEngine | None = None
    try:
        engine = make_engine(url, keys)
        conn = await engine.connect()
    except (DBAPIError, OSError) as exc:
        if engine is not None:
            await engine.dispose()
        problem = database_problem(exc, url)
        if problem is None:
            raise
        raise problem from None
    try:
        sqlite = conn.dialect.name == "sqlite"
        if sqlite:
            # Batch migrations rebuild tables; with foreign keys on, dropping the old
            # table would cascade-delete the rows that refer to it.
            await sqlite_pragma(conn, "PRAGMA foreign_keys=OFF")
        async with conn.begin():
            await conn.run_sync(run)
            if sqlite and (await conn.exec_driver_sql("PRAGMA foreign_key_check")).first():
                raise RuntimeError("migration left rows with dangling foreign keys")
    finally:
        await conn.close()
        # Also discards the connection that had foreign keys switched off.
        await engine.dispose()


async def upgrade(url: str, keys: Path | str | None = None) -> None:
    """Migrate the database at ``url`` to the newest schema; safe inside a running loop.

    Texts stored before they were sealed are sealed with keys from ``keys`` on the way.
    """
    await migrate(url, _upgrade, keys)


def _downgrade(connection: Connection, revision: str) -> None:
    from alembic import command

    cfg = alembic_config()
    cfg.attributes["connection"] = connection
    command.downgrade(cfg, revision)


async def downgrade(url: str, revision: str, keys: Path | str | None = None) -> None:
    """Migrate the database at ``url`` back to ``revision`` ("base": no tables at all)."""
    await migrate(url, partial(_downgrade, revision=revision), keys)
