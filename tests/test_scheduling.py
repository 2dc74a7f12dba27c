"""The scheduler on a real database: scheduled sessions, reminders, step timers, cycle dates,
restarts and misses, the one-scheduler lease and the retention purge.

Most tests drive the jobs on a fake clock (``Bot.advance``); the restart test runs the real
APScheduler, with schedules whose time passed while the bot was stopped.
"""

from __future__ import annotations

import asyncio
from datetime import UTC, datetime, timedelta

from sqlalchemy import select

from bot.app import scheduler
from bot.core.captures import ConsentRecorded, ResponseCaptured
from bot.core.state import Status
from bot.scheduling.watch import LOOP
from bot.service.shell import utcnow
from storage.cycles import CLOSED, OPEN
from storage.tables import scheduled_sessions
from tests.support.capture import user_ids
from tests.support.clockwork import (
    FRAN,
    GROUP,
    Bot,
    FakeClock,
    content_root,
    settings_for,
    start_bot,
)

T0 = datetime(2027, 3, 27, 9, 0, tzinfo=UTC)  # a Saturday; British Summer Time starts next day
MINUTE = timedelta(minutes=1)


def t(bot: Bot, key: str, **params: object) -> str:
    return bot.app.texts.get("en", key, **params)


async def test_a_scheduled_session_opens_at_its_time_and_each_reminder_goes_out_once(
    database_url: str, tmp_path
) -> None:
    bot = await start_bot(settings_for(database_url, content_root(tmp_path)), FakeClock(T0))
    try:
        await bot.say(FRAN, "/schedule timed 2027-03-28 18:30")
        due = datetime(2027, 3, 28, 17, 30, tzinfo=UTC)  # 18:30 BST, after the clocks went forward
        when = "Sun, 28 Mar 2027, 18:30 United Kingdom Time"
        assert bot.platform.private(FRAN) == [
            t(bot, "schedule.done", title="A timed script", when=when)
        ]
        jobs = {j.id: j.next_run_time for j in bot.scheduler.aps.get_jobs(jobstore="default")}
        assert jobs == {
            "open:1": due,
            "remind:1:1440": due - timedelta(days=1),
            "remind:1:60": due - timedelta(hours=1),
        }
        bot.platform.actions.clear()

        await bot.advance(due - MINUTE)
        reminder = t(bot, "schedule.reminder", title="A timed script", when=when)
        assert bot.platform.private(FRAN) == [reminder, reminder]
        assert bot.platform.group_texts() == []
        assert GROUP not in bot.app.service.sessions

        await bot.advance(due + MINUTE)
        started = t(bot, "session.started", title="A timed script", minutes="20 minutes")
        assert bot.platform.group_texts()[0] == started
        state = bot.app.service.sessions[GROUP]
        assert (state.status, state.script_id, state.started_at) == (Status.RUNNING, "timed", due)

        seen = len(bot.platform.actions)
        await bot.scheduler.work.run("remind:1:60", due - timedelta(hours=1))
        await bot.scheduler.work.run("open:1", due)
        assert len(bot.platform.actions) == seen
    finally:
        await bot.close()


async def test_a_step_warning_and_an_auto_advance_fire_when_the_minutes_are_up(
    database_url: str, tmp_path
) -> None:
    clock = FakeClock(T0)
    bot = await start_bot(settings_for(database_url, content_root(tmp_path)), clock)
    try:
        await bot.say(FRAN, "/start timed")
        bot.platform.actions.clear()
        await bot.advance(T0 + 5 * MINUTE)
        warning = t(bot, "timer.warning", minutes="5 minutes", number=1, step="talk")
        # With the time check, who has replied and a suggested next move (core.support).
        pulse = "\n".join(
            [
                t(bot, "turnout.nobody"),
                t(bot, "pulse.time", elapsed=5, minutes=5),
                t(bot, "pulse.invite"),
            ]
        )
        assert bot.platform.private(FRAN) == [warning, pulse]
        assert bot.app.service.sessions[GROUP].step_index == 0

        await bot.advance(T0 + 7 * MINUTE)
        await bot.say(FRAN, "/next")
        bot.platform.actions.clear()
        await bot.advance(T0 + 10 * MINUTE - timedelta(seconds=1))
        assert bot.app.service.sessions[GROUP].step_index == 1
        await bot.advance(T0 + 10 * MINUTE)
        assert bot.app.service.sessions[GROUP].step_index == 2
        assert bot.platform.group_texts() == ["Thank you, that is all."]
        assert not bot.platform.private(FRAN)[0].startswith("Time check")
    finally:
        await bot.close()


async def test_a_moved_on_step_gets_no_warning_from_its_old_timer(
    database_url: str, tmp_path
) -> None:
    clock = FakeClock(T0)
    bot = await start_bot(settings_for(database_url, content_root(tmp_path)), clock)
    try:
        await bot.say(FRAN, "/start timed")
        (old,) = [j.id for j in bot.scheduler.aps.get_jobs(jobstore="default")]
        clock.now = T0 + MINUTE
        await bot.say(FRAN, "/back")  # already first: refused, the step keeps its timer
        await bot.say(FRAN, "/pause")
        bot.platform.actions.clear()
        await bot.scheduler.work.run(old, T0 + 5 * MINUTE)
        assert bot.platform.actions == []
    finally:
        await bot.close()


async def _until(condition, seconds: float = 5.0) -> None:  # type: ignore[no-untyped-def]
    for _ in range(int(seconds / 0.02)):
        if await condition():
            return
        await asyncio.sleep(0.02)
    raise AssertionError("the scheduler did not get there in time")


async def test_a_schedule_due_while_the_bot_was_stopped_fires_once_in_grace_or_is_reported_missed(
    database_url: str, tmp_path
) -> None:
    settings = settings_for(database_url, content_root(tmp_path), misfire_grace_seconds=60)
    first = await start_bot(settings, utcnow)
    now = utcnow()
    soon = await first.scheduler.schedule_session(GROUP, FRAN, "timed", now + timedelta(seconds=1))
    # As if the bot had been down for two hours when this one came due.
    late = await first.scheduler.schedule_session(GROUP, FRAN, "timed", now - timedelta(hours=2))
    await first.close()
    await asyncio.sleep(1.2)  # the first schedule comes due while no bot runs

    second = await start_bot(settings, utcnow, paused=False)
    try:

        async def both_handled() -> bool:
            return len(await second.app.repository.audit_entries("schedule_missed")) == 1 and (
                GROUP in second.app.service.sessions
            )

        await _until(both_handled)
        await second.scheduler.idle()
        started = t(second, "session.started", title="A timed script", minutes="20 minutes")
        assert second.platform.group_texts().count(started) == 1
        zone = second.app.service.zone
        missed_when = second.app.texts.datetime("en", late.due_at.astimezone(zone))
        missed = t(second, "schedule.missed", title="A timed script", when=missed_when)
        assert second.platform.private(FRAN).count(missed) == 1
        (entry,) = await second.app.repository.audit_entries("schedule_missed")
        assert entry.detail["job"] == "open"
        assert entry.detail["scheduled_session"] == late.id
        async with second.app.database.connect() as conn:
            rows = await conn.execute(select(scheduled_sessions.c.id, scheduled_sessions.c.state))
            states = {row.id: row.state for row in rows}
        assert states == {soon.id: "opened", late.id: "missed"}
    finally:
        await second.close()

    third = await start_bot(settings, utcnow, paused=False)
    try:
        await asyncio.sleep(0.3)
        await third.scheduler.idle()
        assert third.platform.actions == []
        assert [j.id for j in third.scheduler.aps.get_jobs() if j.id.startswith("open:")] == []
    finally:
        await third.close()


async def test_a_cycle_opens_and_closes_on_its_dates_and_its_sessions_end_politely(
    database_url: str, tmp_path
) -> None:
    root = content_root(tmp_path)
    settings = settings_for(database_url, root)
    settings.cycle.export_folder = tmp_path / "exports"
    clock = FakeClock(T0)
    bot = await start_bot(settings, clock)
    try:
        opens, closes = T0 + timedelta(days=1), T0 + timedelta(days=60)
        await bot.ops.create("2027-c1", "Data", "sharing", opens, closes, ["timed"], T0)
        await bot.scheduler.poll()
        await bot.say(FRAN, "/start timed")
        assert bot.platform.private(FRAN)[-1] == t(bot, "cycle.none_open")

        await bot.advance(opens)
        assert (await bot.ops.get("2027-c1")).state == OPEN
        await bot.say(FRAN, "/start health-data-intro")
        assert bot.platform.private(FRAN)[-1] == t(
            bot, "cycle.not_offered", script="health-data-intro", cycle="2027-c1", scripts="timed"
        )
        await bot.say(FRAN, "/start timed")
        assert bot.app.service.sessions[GROUP].cycle_id == "2027-c1"

        bot.platform.actions.clear()
        await bot.advance(closes)
        cycle = await bot.ops.get("2027-c1")
        assert (cycle.state, cycle.closed_at) == (CLOSED, closes)
        assert bot.app.service.sessions[GROUP].status is Status.ENDED
        assert t(bot, "cycle.session_closed") in bot.platform.group_texts()
        assert (root / "resources" / "heard-2027-c1.md").is_file()
        assert "heard-2027-c1" in bot.app.service.library.cards
        exported = sorted(p.name for p in (tmp_path / "exports" / "2027-c1").iterdir())
        assert "datapackage.json" in exported, exported
    finally:
        await bot.close()


def _watching() -> int:
    return sum(task.get_name() == LOOP for task in asyncio.all_tasks() if not task.done())


async def test_only_one_scheduler_runs_against_a_database(database_url: str, tmp_path) -> None:
    bot = await start_bot(settings_for(database_url, content_root(tmp_path)), FakeClock(T0))
    other = scheduler(bot.app, bot.ops)
    try:
        assert not await other.start(paused=True)
        assert _watching() == 1, "without the lease it polls on its own"
        await bot.scheduler.stop()
        assert await other.start(paused=True)
        assert _watching() == 0, "with the lease, the scheduler's poll polls for it"
    finally:
        await other.stop()
        await bot.app.close()


async def test_schedule_is_refused_while_no_scheduler_runs_in_the_process(
    database_url: str, tmp_path
) -> None:
    # A session scheduled ahead opens only by this process's scheduler: without one (its
    # schedule off, another process's lease, or a lease lost) nothing would ever open it.
    settings = settings_for(database_url, content_root(tmp_path))
    bot = await start_bot(settings, FakeClock(T0))
    taker = scheduler(bot.app, bot.ops)
    try:
        await bot.say(FRAN, "/schedule timed 2027-03-28 18:30")
        assert bot.platform.private(FRAN)[-1].startswith("Scheduled:")
        await bot.scheduler.store.release_lease(bot.scheduler._me.holder)
        await taker._claim()
        await bot.scheduler.poll()  # the lease is lost
        await bot.say(FRAN, "/schedule timed 2027-03-29 18:30")
        assert bot.platform.private(FRAN)[-1] == t(bot, "schedule.off")
        await bot.scheduler.stop()
        await bot.say(FRAN, "/schedule timed 2027-03-30 18:30")
        assert bot.platform.private(FRAN)[-1] == t(bot, "schedule.off")
        async with bot.app.database.connect() as conn:
            stored = (await conn.execute(select(scheduled_sessions.c.due_at))).all()
        assert len(stored) == 1, "only the one scheduled while the scheduler ran"
    finally:
        await taker.store.release_lease(taker._me.holder)
        await bot.app.close()


async def test_the_retention_purge_removes_old_replies_and_people_who_left_with_an_audit(
    database_url: str, tmp_path
) -> None:
    settings = settings_for(database_url, content_root(tmp_path))
    settings.retention.days = 30
    clock = FakeClock(T0)
    bot = await start_bot(settings, clock)
    try:
        await bot.say(FRAN, "/start timed")
        session_id = bot.app.service.sessions[GROUP].session_id
        assert session_id is not None
        old, recent = T0 - timedelta(days=45), T0 - timedelta(days=5)
        alice, bob = FRAN.__class__("console", "alice"), FRAN.__class__("console", "bob")
        await bot.app.repository.apply(
            [
                ResponseCaptured(session_id, alice, GROUP, "talk", "a1", "old words", old),
                ResponseCaptured(session_id, bob, GROUP, "talk", "b1", "new words", recent),
                ConsentRecorded(bob, GROUP, frozenset({"participate"}), "1", "h", recent),
            ]
        )
        assert bot.scheduler.aps.get_job("retention") is not None
        await bot.scheduler.work.run("retention", T0)
        (entry,) = await bot.app.repository.audit_entries("retention_purge")
        assert (entry.detail["responses"], entry.detail["identities"]) == (1, 1)
        async with bot.app.database.connect() as conn:
            people = set((await user_ids(conn)).values())
        assert "alice" not in people and "bob" in people
        await bot.scheduler.work.run("retention", T0)
        assert len(await bot.app.repository.audit_entries("retention_purge")) == 1
    finally:
        await bot.close()
