"""The single writer: every capture goes through one bounded queue and one task.

Handlers of every group submit the captures of an event and wait until they are committed; the
writer takes whatever has queued up (up to ``batch_size`` submissions) and commits it in one
transaction, so a burst across many groups costs one commit per batch rather than one per
message, while a lone message is committed at once. A full queue makes submitters wait
(back-pressure); nothing is dropped. Other writes that must keep their order with captures
(erasure, roles) run in the same queue, between batches.
"""

from __future__ import annotations

import asyncio
import logging
from collections import deque
from collections.abc import Awaitable, Callable, Sequence
from dataclasses import dataclass
from datetime import UTC, datetime, timedelta
from functools import partial
from typing import Any, TypeVar

from sqlalchemy.ext.asyncio import AsyncConnection, AsyncEngine

from bot.core.captures import Capture
from bot.core.ids import GroupRef, MessageRef, PersonRef
from storage._batch import Submission, apply_submissions
from storage._handled import purge
from storage._replies import Known
from storage.records import Erasure
from storage.repositories import Repository

log = logging.getLogger(__name__)

T = TypeVar("T")
PURGE_EVERY = timedelta(hours=1)


class WriterStopped(RuntimeError):
    """A capture was submitted to a writer that is not running."""


class CaptureFailed(RuntimeError):
    """Captures could not be committed; none of them was written."""


@dataclass(slots=True)
class _Job:
    submission: Submission
    done: asyncio.Future[bool]


@dataclass(slots=True)
class _Operation:
    run: Callable[[], Awaitable[Any]]
    done: asyncio.Future[Any]


@dataclass(slots=True)
class WriterStats:
    """What the writer has done, for benchmarks and health checks."""

    batches: int = 0
    submissions: int = 0
    duplicates: int = 0
    failures: int = 0
    largest_batch: int = 0
    waited: int = 0  # submissions that found the queue full and waited for room


def _utcnow() -> datetime:
    return datetime.now(UTC)


class QueuedRepository(Repository):
    """The repository, with every write going through the single writer task."""

    def __init__(
        self,
        engine: AsyncEngine,
        queue_size: int = 1000,
        batch_size: int = 500,
        remember: timedelta = timedelta(days=30),
        clock: Callable[[], datetime] = _utcnow,
    ) -> None:
        """Queue at most ``queue_size`` submissions and commit up to ``batch_size`` at once.

        Handled-message ids and waiting edits older than ``remember`` are purged.
        """
        super().__init__(engine)
        # A deque and two events rather than asyncio.Queue: this runs for every message, and
        # Queue checks fullness three times per put.
        self._items: deque[_Job | _Operation | None] = deque()
        self._queue_size = queue_size
        self._ready = asyncio.Event()  # something to write
        self._room = asyncio.Event()  # the queue has room
        self._room.set()
        self._batch_size = batch_size
        self._remember = remember
        self._clock = clock
        self._task: asyncio.Task[None] | None = None
        self._stopping = False
        self._purged_at: datetime | None = None
        self._known = Known()
        self._conn: AsyncConnection | None = None
        self.stats = WriterStats()

    async def start(self) -> None:
        """Start the writer task (and purge what is older than the retention)."""
        if self._task is not None:
            return
        self._task = asyncio.create_task(self._run(), name="capture-writer")
        await self._exclusive(self._purge)

    async def close(self) -> None:
        """Commit everything already submitted, then stop; later submissions are refused."""
        if self._task is None or self._stopping:
            return
        self._stopping = True
        self._items.append(None)
        self._ready.set()
        await self._task
        await self._release()

    async def apply(self, captures: Sequence[Capture]) -> None:
        """Commit captures through the writer; returns once they are durably stored."""
        await self.apply_once(None, captures)

    async def apply_once(self, message: MessageRef | None, captures: Sequence[Capture]) -> bool:
        """Commit captures unless ``message`` was handled before; whether they were applied.

        Returns only after the commit, so a platform may acknowledge the update then.
        """
        loop = asyncio.get_running_loop()
        done: asyncio.Future[bool] = loop.create_future()
        await self._put(_Job(Submission(message, tuple(captures)), done))
        return await done

    async def erase_person(self, person: PersonRef, pseudonym: str, at: datetime) -> Erasure:
        """Erase a person after every capture submitted before (a later one cannot undo it)."""
        return await self._exclusive(partial(Repository.erase_person, self, person, pseudonym, at))

    async def grant_facilitator(self, group: GroupRef, person: PersonRef, at: datetime) -> None:
        """Make a person a facilitator, in order with captures."""
        await self._exclusive(partial(Repository.grant_facilitator, self, group, person, at))

    async def revoke_facilitator(self, group: GroupRef, person: PersonRef) -> bool:
        """Stop a person facilitating, in order with captures."""
        return await self._exclusive(partial(Repository.revoke_facilitator, self, group, person))

    async def _exclusive(self, run: Callable[[], Awaitable[T]]) -> T:
        done: asyncio.Future[T] = asyncio.get_running_loop().create_future()
        await self._put(_Operation(run, done))
        return await done

    async def _put(self, item: _Job | _Operation) -> None:
        if self._task is None or self._stopping or self._task.done():
            raise WriterStopped("the capture writer is not running; call start() first")
        if len(self._items) >= self._queue_size:
            self.stats.waited += 1
            while len(self._items) >= self._queue_size:
                self._room.clear()
                await self._room.wait()
        self._items.append(item)
        self._ready.set()

    async def _run(self) -> None:
        stop = False
        # After the stop mark, whatever a waiting submitter still managed to queue is written.
        while not stop or self._items:
            if not self._items:
                self._ready.clear()
                await self._ready.wait()
                continue
            items = self._items
            batch = [items.popleft() for _ in range(min(len(items), self._batch_size))]
            self._room.set()
            jobs: list[_Job] = []
            for item in batch:
                if isinstance(item, _Job):
                    jobs.append(item)
                    continue
                # Operations and the stop mark keep their place: what came before goes first.
                await self._commit(jobs)
                jobs = []
                if item is None:
                    stop = True
                else:
                    await self._operate(item)
            await self._commit(jobs)
            if self._purged_at and self._clock() - self._purged_at > PURGE_EVERY:
                try:
                    await self._purge()
                except Exception as exc:
                    log.warning(
                        "purge of handled messages failed", extra={"kind": type(exc).__name__}
                    )

    async def _commit(self, jobs: list[_Job], retry: bool = True) -> None:
        if not jobs:
            return
        try:
            conn = await self._connection()
            async with conn.begin():
                applied = await apply_submissions(
                    conn, [job.submission for job in jobs], self._clock(), self._known
                )
        except Exception as exc:
            await self._release()
            # What the writer believed exists may be gone (deleted by another process): the
            # batch is tried once more without that belief, then each submission on its own,
            # so one bad submission cannot sink the others.
            self._known.forget()
            if retry:
                await self._commit(jobs, retry=False)
            elif len(jobs) > 1:
                for job in jobs:
                    await self._commit([job], retry=False)
            else:
                self._fail(jobs[0], exc)
            return
        self.stats.batches += 1
        self.stats.submissions += len(jobs)
        self.stats.duplicates += applied.count(False)
        self.stats.largest_batch = max(self.stats.largest_batch, len(jobs))
        for job, result in zip(jobs, applied, strict=True):
            _settle(job.done, result)

    def _fail(self, job: _Job, exc: Exception) -> None:
        self.stats.failures += 1
        # Only the type: a driver's message can quote a failing row, text included.
        log.error("captures could not be stored", extra={"kind": type(exc).__name__})
        _settle(job.done, error=CaptureFailed(f"could not store ({type(exc).__name__})"))

    async def _operate(self, operation: _Operation) -> None:
        # An operation may delete people (erasure): forget who is known to exist.
        self._known.forget()
        try:
            result = await operation.run()
        except Exception as exc:
            _settle(operation.done, error=exc)
        else:
            _settle(operation.done, result)

    async def _connection(self) -> AsyncConnection:
        # One connection for every batch: on SQLite each connection has its own page cache,
        # and a write by another connection empties it, so taking a different pooled
        # connection per batch would read the indexes back from disk every time.
        if self._conn is None:
            self._conn = await self._writer.connect()
        return self._conn

    async def _release(self) -> None:
        conn, self._conn = self._conn, None
        if conn is not None:
            await conn.close()

    async def _purge(self) -> None:
        now = self._clock()
        async with self._writer.begin() as conn:
            await purge(conn, now - self._remember)
        self._purged_at = now


def _settle(done: asyncio.Future[Any], result: Any = None, error: Exception | None = None) -> None:
    # The submitter may have been cancelled; its captures are committed all the same.
    if done.done():
        return
    if error is not None:
        done.set_exception(error)
    else:
        done.set_result(result)
