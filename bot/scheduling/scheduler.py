"""The scheduler: APScheduler 3 (asyncio) with its job store in the project's database.

APScheduler decides *when*, and whether a job missed its time (``misfire_grace_time``,
``coalesce``); what a moment means is decided by the engine, to which the scheduler reports
``TimerFired`` events through the service. A job's id says what it is for, so nothing but
the id and time is stored with it:

    open:ID  remind:ID:MINUTES    a scheduled session (row ID) opens / its facilitator is reminded
    step:SESSION:INDEX:MICROS     a step's suggested minutes are up
    nudge:ID:MICROS               a resident who stopped (progress row ID, at MICROS) is reminded
    cycle-open:ID  cycle-close:ID a cycle's dates
    retention                     the daily purge

The job function itself only returns its id; the listener, which knows the running bot,
does the work. Every run and every miss is recorded under the job id first, so a job that
somehow comes round again is a no-op: a schedule fires at most once.
"""

from __future__ import annotations

import asyncio
import logging
import os
import secrets
import socket
from collections.abc import Awaitable, Callable, Coroutine
from datetime import UTC, datetime, timedelta
from typing import TYPE_CHECKING, Any

from apscheduler.events import EVENT_JOB_EXECUTED, EVENT_JOB_MISSED, JobExecutionEvent
from apscheduler.jobstores.memory import MemoryJobStore
from apscheduler.schedulers.asyncio import AsyncIOScheduler

from bot.core import schedule
from bot.core.captures import SessionSaved, SoloSaved
from bot.core.context import Actor, Context, Transition
from bot.core.direct import NUDGE
from bot.core.effects import SessionScheduled
from bot.core.ids import GroupRef, PersonRef
from bot.scheduling.jobs import Audit, Jobs, due, micros
from bot.scheduling.watch import Watch
from bot.service.cycles import Cycles
from bot.service.shell import Service
from bot.settings import ScheduleSettings
from storage.cycles import (
    OPEN,
    PENDING,
    PLANNED,
    CycleRecord,
    CycleStore,
    Lease,
    ScheduledRecord,
)
from storage.direct import reminders
from storage.jobstore import DatabaseJobStore

if TYPE_CHECKING:
    from sqlalchemy.ext.asyncio import AsyncEngine

log = logging.getLogger(__name__)


class Scheduler:
    """The deployment's one scheduler, fed by the service and feeding it TimerFired events."""

    def __init__(
        self,
        service: Service,
        cycles: Cycles,
        engine: AsyncEngine,
        audit: Audit,
        settings: ScheduleSettings,
        retention_days: int = 0,
        reload_content: Callable[[], None] = lambda: None,
    ) -> None:
        self.service = service
        self.cycles = cycles
        self.store: CycleStore = cycles.store
        self.settings = settings
        self._engine = engine
        self._retention_days = retention_days
        self.work = Jobs(
            service, cycles, engine, audit, retention_days, reload_content, self.reconcile
        )
        self.aps = AsyncIOScheduler(
            timezone=UTC,
            jobstores={"memory": MemoryJobStore()},
            job_defaults={
                "coalesce": True,
                "misfire_grace_time": settings.misfire_grace_seconds,
                "max_instances": 1,
            },
        )
        self.aps.add_listener(self._on_job, EVENT_JOB_EXECUTED | EVENT_JOB_MISSED)
        self._tasks: set[asyncio.Task[None]] = set()
        self.jobstore: DatabaseJobStore | None = None
        self._step_jobs: dict[str, str] = {}
        # What this process picks up that others changed: at this poll, or on its own without
        # the lease.
        self.watch = Watch(service, cycles, engine, settings.poll_seconds)
        host = socket.gethostname()
        self._me = Lease(f"{host}:{os.getpid()}:{secrets.token_hex(4)}", host, os.getpid(), _now())

    # --- life --------------------------------------------------------------------------------

    async def start(self, *, paused: bool = False) -> bool:
        """Claim the lease and start; False if another process runs one (only the watch runs)."""
        await self.watch.start()
        if not await self._claim():
            holder = await self.store.lease()
            log.warning(
                "another scheduler runs for this database; this process runs without one",
                extra={"holder": holder.holder if holder else None},
            )
            await self.watch.poll()
            self.watch.begin()
            return False
        await self.watch.stop()  # if it polled on its own before: the scheduler's poll does now
        self.jobstore = await DatabaseJobStore.load(self._engine)
        self.aps.add_jobstore(self.jobstore, "default")
        self.aps.start(paused=paused)
        self.service.scheduling = True
        self.aps.add_job(
            self.poll,
            "interval",
            seconds=self.settings.poll_seconds,
            id="poll",
            jobstore="memory",
            misfire_grace_time=None,
        )
        self.service.observers.append(self.observe)
        await self.reconcile()
        return True

    async def stop(self) -> None:
        """Stop firing, finish what is under way, and give the lease up."""
        await self.watch.stop()
        await self.idle()
        if self.aps.running:
            self.aps.shutdown(wait=False)
        if self.jobstore is not None:
            await self.jobstore.close()
        if self.observe in self.service.observers:
            self.service.observers.remove(self.observe)
            self.service.scheduling = False
        await self.store.release_lease(self._me.holder)

    async def idle(self) -> None:
        """Wait until every job handed to the bot so far has been handled."""
        while self._tasks:
            await asyncio.gather(*list(self._tasks))
        if self.jobstore is not None:
            await self.jobstore.saved()

    async def _claim(self) -> bool:
        now = _now()
        current = await self.store.lease()
        dead = (
            [current.pid]
            if current and current.host == self._me.host and not _alive(current.pid)
            else []
        )
        ttl = timedelta(seconds=max(3 * self.settings.poll_seconds, 30))
        self._me = Lease(self._me.holder, self._me.host, self._me.pid, now + ttl)
        return (await self.store.claim_lease(self._me, now, dead)).holder == self._me.holder

    async def poll(self) -> None:
        """Keep the lease and pick up cycles and schedules made from the command line."""
        if not await self._claim():
            log.error("the scheduler lease was taken by another process; stopping this scheduler")
            self.aps.shutdown(wait=False)
            self.service.scheduling = False
            self.watch.begin()
            return
        await self.watch.erasures()
        await self.reconcile()

    # --- what the service tells us -------------------------------------------------------------

    async def observe(self, transition: Transition, actor: Actor, ctx: Context) -> None:
        """Step timers for sessions that moved, and sessions facilitators scheduled in chat."""
        for capture in transition.captures:
            if isinstance(capture, SessionSaved):
                self._set_step_timer(
                    capture.state.session_id, schedule.step_timer(capture.state, ctx)
                )
            elif isinstance(capture, SoloSaved) and capture.state.remind:
                await self._sync_jobs()  # a resident stopped and wants one reminder
        for effect in transition.effects:
            if isinstance(effect, SessionScheduled):
                await self.schedule_session(
                    effect.group, effect.person, effect.script_id, effect.at
                )

    async def schedule_session(
        self, group: GroupRef, person: PersonRef | None, script_id: str, at: datetime
    ) -> ScheduledRecord:
        """Store a scheduled session and add its jobs (opening and reminders)."""
        now = self.service.clock()
        record = await self.store.schedule_session(group, person, script_id, at, now)
        # Only the jobs: ending sessions here could wait on the very group being handled.
        await self._sync_jobs()
        return record

    def _set_step_timer(self, session_id: str | None, timer: schedule.StepTimer | None) -> None:
        old = self._step_jobs.pop(session_id or "", None)
        if old is not None and self.aps.get_job(old) is not None:
            self.aps.remove_job(old)
        if timer is None:
            return
        job_id = f"step:{timer.session_id}:{timer.step_index}:{micros(timer.step_started_at)}"
        self._add(job_id, timer.due)
        self._step_jobs[timer.session_id] = job_id

    # --- keeping jobs in line with cycles and schedules ------------------------------------

    async def reconcile(self) -> None:
        """Add the jobs pending schedules and cycles need; end sessions of closed cycles."""
        await self.watch.follow(await self._sync_jobs())

    async def _sync_jobs(self) -> list[CycleRecord]:
        wanted: dict[str, tuple[datetime, bool]] = {}
        cycles = await self.store.cycles()
        for cycle in cycles:
            if cycle.state == PLANNED:
                wanted[f"cycle-open:{cycle.id}"] = (cycle.opens_at, False)
            if cycle.state in (PLANNED, OPEN):
                wanted[f"cycle-close:{cycle.id}"] = (cycle.closes_at, False)
        for record in await self.store.scheduled([PENDING]):
            wanted[f"open:{record.id}"] = (record.due_at, True)
            for minutes in self.settings.reminder_minutes:
                remind_at = record.due_at - timedelta(minutes=minutes)
                if remind_at > record.created_at:
                    wanted[f"remind:{record.id}:{minutes}"] = (remind_at, True)
        delay = self.service.policy.solo_reminder
        if delay is not None:
            for progress_id, stopped_at in await reminders(self._engine):
                # However late the bot comes back, a wanted reminder still goes (once).
                job_id = f"{NUDGE}:{progress_id}:{micros(stopped_at)}"
                wanted[job_id] = (stopped_at + delay, False)
        done = await self.store.runs(wanted)
        for job_id, (at, graced) in wanted.items():
            if job_id not in done and self.aps.get_job(job_id) is None:
                self._add(job_id, at, graced)
        if self._retention_days and self.aps.get_job("retention") is None:
            # However long the bot was down, the purge runs once when it is back.
            self.aps.add_job(
                due, "interval", args=["retention"], id="retention", days=1, misfire_grace_time=None
            )
        return cycles

    def _add(self, job_id: str, at: datetime, graced: bool = True) -> None:
        # Cycles open and close however late the bot comes back; other jobs have a grace time.
        extra: dict[str, Any] = {} if graced else {"misfire_grace_time": None}
        self.aps.add_job(
            due, "date", args=[job_id], id=job_id, run_date=at, replace_existing=True, **extra
        )

    # --- jobs coming due ---------------------------------------------------------------------

    def _on_job(self, event: JobExecutionEvent) -> None:
        if event.job_id == "poll":
            return
        if event.code == EVENT_JOB_MISSED:
            self._spawn(self.work.missed(event.job_id, event.scheduled_run_time))
        else:
            self._spawn(self.work.run(event.job_id, event.scheduled_run_time))

    def _spawn(self, work: Coroutine[Any, Any, None]) -> None:
        task = asyncio.get_running_loop().create_task(self._guarded(work))
        self._tasks.add(task)
        task.add_done_callback(self._tasks.discard)

    async def _guarded(self, work: Awaitable[None]) -> None:
        try:
            await work
        except Exception:
            log.exception("a scheduled job failed")


def _now() -> datetime:
    return datetime.now(UTC)


def _alive(pid: int) -> bool:
    try:
        os.kill(pid, 0)
    except ProcessLookupError:
        return False
    except PermissionError:
        return True
    return True
