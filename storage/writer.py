"""The single writer: every capture goes through one bounded queue and one task.

Handlers of every group submit the captures of an event and wait until they are committed; the
writer takes whatever has queued up (up to ``batch_size`` submissions) and commits it in one
transaction, so a burst across many groups costs one commit per batch rather than one per
message, while a lone message is committed at once. A full queue makes submitters wait
(back-pressure); nothing is dropped. Other writes that must keep their order with captures
(erasure, invitations, roles, session leads) run in the same queue, between batches.
"""

from __future__ import annotations

import asyncio
import logging
import time
from collections import deque
from collections.abc import Awaitable, Callable, Sequence
from dataclasses import dataclass
from datetime import UTC, datetime, timedelta
from functools import partial
from typing import TYPE_CHECKING, Any, TypeVar

from bot.core.captures import Capture
from bot.core.ids import GroupRef, MessageRef, PersonRef
from bot.core.records import ErasureRequest
from storage._batch import Submission, Submitted, batch_of
from storage._commit import Committer, LocalCommitter
from storage._handled import purge
from storage._outage import Outage
from storage.db import sqlite_file, unreachable
from storage.keystore import keys_of
from storage.records import Erasure
from storage.repositories import Repository
from storage.writer_process import ProcessCommitter

if TYPE_CHECKING:
    from sqlalchemy.ext.asyncio import AsyncEngine

log = logging.getLogger(__name__)

T = TypeVar("T")
PURGE_EVERY = timedelta(hours=1)


class WriterStopped(RuntimeError):
    """A capture was submitted to a writer that is not running."""


class CaptureFailed(RuntimeError):
    """Captures could not be committed; none of them was written."""


# A submission, what is told once it is committed, and whether that says if it was new: a
# plain tuple, as one is made for every reply (a class with fields costs three times as much).
_Job = tuple[Submitted, asyncio.Future[Any], bool]


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
        key: bytes,
        queue_size: int = 1000,
        batch_size: int = 500,
        remember: timedelta = timedelta(days=30),
        clock: Callable[[], datetime] = _utcnow,
        own_process: bool = True,
    ) -> None:
        """Queue at most ``queue_size`` submissions and commit up to ``batch_size`` at once.

        ``key``: the pseudonym key, for the marks of erased messages (see storage._erased).
        Handled-message ids and waiting edits older than ``remember`` are purged (the marks
        of erased messages never are). With ``own_process`` the commits run in a process of
        their own (see storage.writer_process), unless the database lives in this process's
        memory.
        """
        super().__init__(engine, key)
        # A deque and an event rather than asyncio.Queue: this runs for every message, and
        # Queue checks fullness three times per put.
        self._items: deque[_Job | _Operation | None] = deque()
        self._queue_size = queue_size
        self._ready = asyncio.Event()  # something to write
        # What waits for room, in the order it came, each with what tells it it is queued.
        # The writer queues them as it makes room, and nothing newer goes ahead of them: an
        # erasure asked for later stays behind a capture that waited (see _put).
        self._waiting: deque[tuple[_Job | _Operation, asyncio.Future[None]]] = deque()
        self._batch_size = batch_size
        self._remember = remember
        self._clock = clock
        self._task: asyncio.Task[None] | None = None
        self._flying: set[asyncio.Task[None]] = set()  # batches being committed
        self._stopping = False
        self._purged_at: datetime | None = None
        keys = keys_of(engine)
        self._committer: Committer = (
            ProcessCommitter(engine.url.render_as_string(hide_password=False), keys.path, key)
            if own_process and _on_disk_or_server(engine) and not keys.memory
            else LocalCommitter(self._writer.connect, self._marks, keys)
        )
        self.stats = WriterStats()
        self._outage = Outage()
        # Told of each committed batch: the submissions stored (not duplicates), and seconds.
        self.on_commit: Callable[[Sequence[Submission], float], None] | None = None

    @property
    def queued(self) -> int:
        """Submissions and operations waiting for the writer."""
        return len(self._items)

    @property
    def running(self) -> bool:
        """Whether the writer task is alive (started and neither stopped nor crashed)."""
        return self._task is not None and not self._task.done()

    @property
    def process_id(self) -> int | None:
        """The id of the writer's own process, while it runs (None when it commits here)."""
        return self._committer.pid if isinstance(self._committer, ProcessCommitter) else None

    async def start(self) -> None:
        """Start the writer task (and purge what is older than the retention)."""
        if self._task is not None:
            return
        await self._committer.start()
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
        await self._committer.close()

    async def apply(self, captures: Sequence[Capture]) -> None:
        """Commit captures through the writer; returns once they are durably stored."""
        await self.apply_once(None, captures)

    async def apply_once(self, message: MessageRef | None, captures: Sequence[Capture]) -> bool:
        """Commit captures unless ``message`` was handled before; whether they were applied.

        Returns only after the commit, so a platform may acknowledge the update then.
        """
        return await (await self.submit_once(message, captures))

    async def submit_once(
        self, message: MessageRef | None, captures: Sequence[Capture]
    ) -> asyncio.Future[bool]:
        """Queue captures as ``apply_once`` commits them; once queued, the commit's outcome.

        Submissions are committed in the order they are queued: the next may be queued before
        the last one's commit, and ride in the same batch.
        """
        done: asyncio.Future[bool] = asyncio.get_running_loop().create_future()
        job = ((message, tuple(captures)), done, True)
        if not self._append(job):  # the queue is full: wait for room (no coroutine otherwise)
            await self._put(job)
        return done

    async def submit_quietly(
        self, message: MessageRef | None, captures: Sequence[Capture]
    ) -> asyncio.Future[None]:
        """Queue captures as ``submit_once`` does; once queued, a future done once committed.

        Its result is None whether or not the message was new, for a caller that only waits.
        """
        done: asyncio.Future[None] = asyncio.get_running_loop().create_future()
        job = ((message, tuple(captures)), done, False)
        if not self._append(job):
            await self._put(job)
        return done

    async def erase_person(
        self,
        person: PersonRef,
        pseudonym: str,
        at: datetime,
        request: ErasureRequest = "person",
    ) -> Erasure:
        """Erase a person after every capture submitted before (a later one cannot undo it)."""
        erase = partial(Repository.erase_person, self, person, pseudonym, at, request)
        return await self._exclusive(erase)

    async def remember_invitation(self, key: str, at: datetime) -> None:
        """Remember an invitation, in order with erasures (which forget it)."""
        await self._exclusive(partial(Repository.remember_invitation, self, key, at))

    async def set_lead(self, session_id: str, person: PersonRef, at: datetime) -> None:
        """Make the person the session's lead, in order with captures (its session among them).

        Written beside the writer, it would also wait for the writer's lock on SQLite.
        """
        await self._exclusive(partial(Repository.set_lead, self, session_id, person, at))

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
        """Queue the item, once there is room, after everything that came before it.

        Waiting in line, not racing for the room when it comes: what came later, and found
        the room before a waiter woke, would be written before it. An item whose submitter is
        cancelled while it waits is queued all the same, in its place.
        """
        if self._append(item):
            return
        self.stats.waited += 1
        queued: asyncio.Future[None] = asyncio.get_running_loop().create_future()
        self._waiting.append((item, queued))
        await queued

    def _append(self, item: _Job | _Operation) -> bool:
        """Queue the item if there is room and nothing waits for it; whether it was queued."""
        if self._task is None or self._stopping or self._task.done():
            raise WriterStopped("the capture writer is not running; call start() first")
        if len(self._items) >= self._queue_size or self._waiting:
            return False
        self._items.append(item)
        self._ready.set()
        return True

    async def _run(self) -> None:
        stop = False
        # After the stop mark, whatever a waiting submitter still managed to queue is written.
        while not stop or self._items:
            if not self._items:
                self._ready.clear()
                await self._ready.wait()
                continue
            while len(self._flying) >= self._committer.overlap:
                await asyncio.wait(self._flying, return_when=asyncio.FIRST_COMPLETED)
            items = self._items
            batch = [items.popleft() for _ in range(self._take(len(items)))]
            if self._waiting:
                self._admit()
            jobs: list[_Job] = []
            for item in batch:
                if isinstance(item, tuple):
                    jobs.append(item)
                    continue
                # Operations and the stop mark keep their place: what came before goes first.
                await self._commit(jobs)
                await self._landed()
                jobs = []
                if item is None:
                    stop = True
                else:
                    await self._operate(item)
            if jobs:
                flying = asyncio.create_task(self._commit(jobs))
                self._flying.add(flying)
                flying.add_done_callback(self._flying.discard)
            if self._purged_at and self._clock() - self._purged_at > PURGE_EVERY:
                try:
                    await self._purge()
                except Exception as exc:
                    log.warning(
                        "purge of handled messages failed", extra={"kind": type(exc).__name__}
                    )
        await self._landed()

    def _admit(self) -> None:
        """Queue what waits for room, in the order it came, as far as there is room."""
        items, waiting = self._items, self._waiting
        while waiting and len(items) < self._queue_size:
            item, queued = waiting.popleft()
            items.append(item)
            _settle(queued)

    def _take(self, queued: int) -> int:
        """How many queued items the next batch takes.

        Where commits overlap (in the writer's own process), a batch sent while none is in
        flight takes half of what waits: the rest goes next, and is committed while the bot
        handles what comes after the first. Taking everything would have every group wait on
        one commit, then the writer wait on every group, turn about.
        """
        if self._committer.overlap > 1 and not self._flying:
            queued = (queued + 1) // 2
        return min(queued, self._batch_size)

    async def _landed(self) -> None:
        """Wait until every batch in flight is committed (or has failed)."""
        while self._flying:
            await asyncio.wait(self._flying)

    async def _commit(self, jobs: list[_Job], retry: bool = True) -> None:
        if not jobs:
            return
        while True:
            try:
                batch = batch_of([job[0] for job in jobs])
                started = time.perf_counter()
                applied = await self._committer.commit(batch, self._clock())
                break
            except Exception as exc:
                await self._committer.release()
                # What the writer believed exists may be gone (deleted by another process).
                self._committer.forget()
                if not unreachable(exc):
                    await self._failed(jobs, retry, exc)
                    return
                # The database went away: the batch waits (and its submitters with it, so
                # nothing is acknowledged) and is tried again until the database is back.
                await self._outage.wait()
        self._outage.over()
        self.stats.batches += 1
        self.stats.submissions += len(jobs)
        self.stats.duplicates += applied.count(False)
        self.stats.largest_batch = max(self.stats.largest_batch, len(jobs))
        if self.on_commit is not None:
            stored = [Submission(*job[0]) for job, new in zip(jobs, applied, strict=True) if new]
            self.on_commit(stored, time.perf_counter() - started)
        for (_, done, told), result in zip(jobs, applied, strict=True):
            _settle(done, result if told else None)

    async def _failed(self, jobs: list[_Job], retry: bool, exc: Exception) -> None:
        """Try the batch once more, then each submission alone: one bad one sinks no other."""
        if retry:
            await self._commit(jobs, retry=False)
        elif len(jobs) > 1:
            for job in jobs:
                await self._commit([job], retry=False)
        else:
            self._fail(jobs[0], exc)

    def _fail(self, job: _Job, exc: Exception) -> None:
        self.stats.failures += 1
        # Only the type: a driver's message can quote a failing row, text included.
        log.error("captures could not be stored", extra={"kind": type(exc).__name__})
        _settle(job[1], error=CaptureFailed(f"could not store ({type(exc).__name__})"))

    async def _operate(self, operation: _Operation) -> None:
        # An operation may delete people (erasure): forget who is known to exist.
        self._committer.forget()
        try:
            result = await operation.run()
        except Exception as exc:
            _settle(operation.done, error=exc)
        else:
            _settle(operation.done, result)

    async def _purge(self) -> None:
        now = self._clock()
        async with self._writer.begin() as conn:
            await purge(conn, now - self._remember)
        self._purged_at = now


def _on_disk_or_server(engine: AsyncEngine) -> bool:
    """Whether another process can open the same database (not SQLite in memory)."""
    url = engine.url
    return url.get_backend_name() != "sqlite" or sqlite_file(url.render_as_string()) is not None


def _settle(done: asyncio.Future[Any], result: Any = None, error: Exception | None = None) -> None:
    # The submitter may have been cancelled; its captures are committed all the same.
    if done.done():
        return
    if error is not None:
        done.set_exception(error)
    else:
        done.set_result(result)
