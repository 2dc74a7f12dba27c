"""Committing the writer's batches: here, on one connection, or in a process of their own."""

from __future__ import annotations

from collections.abc import AsyncIterator, Awaitable, Callable
from contextlib import asynccontextmanager
from datetime import datetime
from typing import TYPE_CHECKING, Any, Protocol, cast

from sqlalchemy import Connection, CursorResult, Dialect, Engine, Executable, Result

from storage._batch import Batch, apply_batch
from storage._erased import Marks
from storage._replies import Known
from storage.keystore import KeyStore

if TYPE_CHECKING:
    from sqlalchemy.ext.asyncio import AsyncConnection


class Committer(Protocol):
    """Commits batches for the single writer, in the order they come."""

    # How many batches may be committing at once (sent and not yet answered).
    overlap: int

    async def start(self) -> None:
        """Get ready to commit (a connection, a process), so the first batch need not wait."""
        ...

    async def commit(self, batch: Batch, now: datetime) -> list[bool]:
        """Write the batch in one transaction; for each submission, whether it was applied."""
        ...

    def forget(self) -> None:
        """Forget which people and groups exist (people may have been erased)."""
        ...

    async def release(self) -> None:
        """After a failure: let go of what may be broken (a connection, a process)."""
        ...

    async def close(self) -> None:
        """At the end: let go of everything."""
        ...


class LocalCommitter:
    """Commits on one connection, kept open from batch to batch.

    On SQLite each connection has its own page cache, and a write by another connection empties
    it, so taking a different pooled connection per batch would read the indexes back from disk
    every time.
    """

    overlap = 1

    def __init__(
        self,
        connect: Callable[[], Awaitable[AsyncConnection]],
        marks: Marks,
        keys: KeyStore | None = None,
    ) -> None:
        """Open the connection with ``connect`` (of ``storage.db.for_writes`` of an engine).

        ``marks`` name erased messages, which are never stored again. ``keys``, the
        database's key store, forgets its cached keys whenever the committer forgets who
        exists: someone may have been erased, their key destroyed.
        """
        self._connect = connect
        self._marks = marks
        self._conn: AsyncConnection | None = None
        self._known = Known()
        self._keys = keys

    async def start(self) -> None:
        """Open the connection."""
        if self._conn is None:
            self._conn = await self._connect()

    async def commit(self, batch: Batch, now: datetime) -> list[bool]:
        """Write the batch in one transaction."""
        await self.start()
        assert self._conn is not None, "start() opened it"
        async with self._conn.begin():
            return await apply_batch(self._conn, batch, now, self._marks, self._known)

    def forget(self) -> None:
        """Forget which people and groups exist, and their keys."""
        self._known.forget()
        if self._keys is not None:
            self._keys.forget()

    async def release(self) -> None:
        """Close the connection; the next batch opens another."""
        conn, self._conn = self._conn, None
        if conn is not None:
            await conn.close()

    async def close(self) -> None:
        """Close the connection."""
        await self.release()


class BlockingConnection:
    """What the writer uses of an AsyncConnection, over a plain (blocking) connection.

    Only for a process with nothing else to do while the database works: the writer's own
    process on SQLite, where the async driver would hop between two threads per statement.
    """

    def __init__(self, conn: Connection) -> None:
        """Wrap ``conn``."""
        self._conn = conn

    @property
    def dialect(self) -> Dialect:
        """The connection's dialect."""
        return self._conn.dialect

    def get_execution_options(self) -> Any:
        """The connection's execution options (its engine's key store among them)."""
        return self._conn.get_execution_options()

    async def execute(self, statement: Executable, parameters: Any = None) -> Result[Any]:
        """Run a statement."""
        return self._conn.execute(statement, parameters)

    async def exec_driver_sql(self, sql: str, parameters: Any = None) -> CursorResult[Any]:
        """Run SQL as the driver takes it."""
        return self._conn.exec_driver_sql(sql, parameters)

    async def scalar(self, statement: Executable, parameters: Any = None) -> Any:
        """Run a statement; the first column of its first row."""
        return self._conn.scalar(statement, parameters)

    @asynccontextmanager
    async def begin(self) -> AsyncIterator[None]:
        """A transaction: committed at the end of the block, rolled back on an error."""
        with self._conn.begin():
            yield

    async def close(self) -> None:
        """Close the connection."""
        self._conn.close()


def blocking(engine: Engine) -> Callable[[], Awaitable[AsyncConnection]]:
    """Connections of a blocking engine, as the writer's code takes them."""

    async def connect() -> AsyncConnection:
        # The writer's code only calls what BlockingConnection has (see storage._batch).
        return cast("AsyncConnection", BlockingConnection(engine.connect()))

    return connect
