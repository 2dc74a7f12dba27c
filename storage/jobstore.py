"""The scheduler's job store: jobs in memory, written through to the project's database.

The table (``scheduler_jobs``) has the layout of APScheduler's own SQL store.

Why not APScheduler's SQLAlchemyJobStore: APScheduler 3 calls its job store synchronously on
the event loop. With SQLite, a synchronous write waiting for the file's one write lock would
block the loop, and with it the very async transaction holding that lock, until the busy
timeout fails it. So the store answers APScheduler from memory (loaded from the database
before the scheduler starts) and hands every change, in order, to one writer task on the
application's async engine. A change reaches the database within milliseconds; the scheduler's
domain rows (cycles, scheduled sessions) are authoritative and rebuild their jobs anyway.
"""

from __future__ import annotations

import asyncio
import logging
import pickle
from typing import TYPE_CHECKING, Any

from apscheduler.job import Job
from apscheduler.jobstores.memory import MemoryJobStore
from apscheduler.util import datetime_to_utc_timestamp
from sqlalchemy import delete, select

from storage._keys import dialect_insert
from storage.db import for_writes
from storage.tables import scheduler_jobs

if TYPE_CHECKING:
    from sqlalchemy.ext.asyncio import AsyncEngine

log = logging.getLogger(__name__)

_Change = tuple[str, str, float | None, bytes | None]


class DatabaseJobStore(MemoryJobStore):  # type: ignore[misc]
    """Jobs in memory for APScheduler, every change written through to the database."""

    def __init__(self, engine: AsyncEngine, states: list[bytes]) -> None:
        """Use :meth:`load` to create one with the stored jobs."""
        super().__init__()
        self._writer = for_writes(engine)
        self._stored = states
        self._changes: asyncio.Queue[_Change] = asyncio.Queue()
        self._task: asyncio.Task[None] | None = None

    @classmethod
    async def load(cls, engine: AsyncEngine) -> DatabaseJobStore:
        """A store holding every job saved in the database."""
        async with engine.connect() as conn:
            states = [row.job_state for row in await conn.execute(select(scheduler_jobs))]
        return cls(engine, states)

    def start(self, scheduler: Any, alias: str) -> None:
        """Bring the stored jobs back (undecodable ones are dropped and logged)."""
        super().start(scheduler, alias)
        self._task = asyncio.get_running_loop().create_task(self._write())
        for state in self._stored:
            try:
                job = Job.__new__(Job)
                job.__setstate__({**pickle.loads(state), "jobstore": self})
                job._scheduler, job._jobstore_alias = scheduler, alias
            except Exception:
                log.exception("a stored job could not be restored; removing it")
                continue
            super().add_job(job)
        self._stored = []

    def add_job(self, job: Job) -> None:
        """Add to memory, then to the database."""
        super().add_job(job)
        self._save(job)

    def update_job(self, job: Job) -> None:
        """Update in memory, then in the database."""
        super().update_job(job)
        self._save(job)

    def remove_job(self, job_id: str) -> None:
        """Remove from memory, then from the database."""
        super().remove_job(job_id)
        self._changes.put_nowait(("remove", job_id, None, None))

    def remove_all_jobs(self) -> None:
        """Remove every job, here and in the database."""
        for job in self.get_all_jobs():
            self.remove_job(job.id)

    def shutdown(self) -> None:
        """Forget the jobs in memory only: they stay stored for the next start."""
        super().remove_all_jobs()

    async def saved(self) -> None:
        """Wait until every change so far is in the database."""
        if self._task is not None:
            await self._changes.join()

    async def close(self) -> None:
        """Write what is left, then stop the writer."""
        await self.saved()
        if self._task is not None:
            self._task.cancel()
            self._task = None

    def _save(self, job: Job) -> None:
        state = pickle.dumps(job.__getstate__(), pickle.HIGHEST_PROTOCOL)
        timestamp = datetime_to_utc_timestamp(job.next_run_time)
        self._changes.put_nowait(("save", job.id, timestamp, state))

    async def _write(self) -> None:
        while True:
            kind, job_id, timestamp, state = await self._changes.get()
            try:
                async with self._writer.begin() as conn:
                    if kind == "remove":
                        await conn.execute(
                            delete(scheduler_jobs).where(scheduler_jobs.c.id == job_id)
                        )
                    else:
                        stmt = dialect_insert(conn, scheduler_jobs).values(
                            id=job_id, next_run_time=timestamp, job_state=state
                        )
                        await conn.execute(
                            stmt.on_conflict_do_update(
                                index_elements=["id"],
                                set_={"next_run_time": timestamp, "job_state": state},
                            )
                        )
            except Exception:
                log.exception("a scheduler job could not be saved", extra={"job": job_id})
            finally:
                self._changes.task_done()
