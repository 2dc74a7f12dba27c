"""The single capture writer: batches, acknowledgement after commit, back-pressure, drain."""

from __future__ import annotations

import asyncio
import os
import signal
import sqlite3
import time
from collections.abc import AsyncIterator
from dataclasses import replace
from datetime import UTC, datetime, timedelta

import pytest
from sqlalchemy import delete, func, select
from sqlalchemy.ext.asyncio import AsyncEngine

from bot.core.captures import ConsentRecorded, ResponseCaptured, SessionSaved
from bot.core.ids import GroupRef, MessageRef, PersonRef
from bot.core.state import SessionState, Status
from storage.db import make_engine, sqlite_file
from storage.tables import identities, responses
from storage.writer import CaptureFailed, QueuedRepository, WriterStopped
from tests.support.capture import STORE_KEY

T0 = datetime(2025, 3, 1, 18, 0, tzinfo=UTC)
ALICE = PersonRef("telegram", "4242")


def chat(n: int) -> GroupRef:
    return GroupRef("telegram", f"-100{n}")


def session(n: int) -> SessionSaved:
    return SessionSaved(
        SessionState(chat(n), Status.RUNNING, f"s{n}", "c1", "housing", "1", 2, T0, T0)
    )


def reply(n: int, mid: str, who: PersonRef = ALICE, text: str = "a reply") -> ResponseCaptured:
    return ResponseCaptured(f"s{n}", who, chat(n), "open", mid, text, T0)


def key(n: int, mid: str) -> MessageRef:
    return MessageRef("telegram", f"-100{n}", mid)


@pytest.fixture
async def engine(migrated_url: str) -> AsyncIterator[AsyncEngine]:
    engine = make_engine(migrated_url)
    yield engine
    await engine.dispose()


@pytest.fixture(params=[True, False], ids=["own-process", "in-process"])
def own_process(request: pytest.FixtureRequest) -> bool:
    """Whether the writer commits in a process of its own (the default) or in this one."""
    return bool(request.param)


@pytest.fixture
async def writer(engine: AsyncEngine, own_process: bool) -> AsyncIterator[QueuedRepository]:
    writer = QueuedRepository(
        engine, STORE_KEY, queue_size=1000, batch_size=500, own_process=own_process
    )
    await writer.start()
    yield writer
    await writer.close()


async def stored(engine: AsyncEngine) -> int:
    async with engine.connect() as conn:
        return (await conn.execute(select(func.count()).select_from(responses))).scalar_one()


async def test_a_burst_from_many_groups_shares_a_few_commits_and_loses_nothing(
    writer: QueuedRepository, engine: AsyncEngine
) -> None:
    await writer.apply([session(n) for n in range(300)])
    before = writer.stats.batches
    results = await asyncio.gather(
        *(writer.apply_once(key(n, "m1"), [reply(n, "m1")]) for n in range(300))
    )
    assert results == [True] * 300
    assert await stored(engine) == 300
    assert writer.stats.batches - before <= 3  # 300 handlers, a handful of transactions


async def test_a_capture_is_readable_elsewhere_as_soon_as_apply_returns(
    writer: QueuedRepository, migrated_url: str
) -> None:
    await writer.apply([session(1)])
    other = make_engine(migrated_url)  # another pool, as another process would have
    try:
        await writer.apply_once(key(1, "m7"), [reply(1, "m7", text="committed")])
        assert await stored(other) == 1
    finally:
        await other.dispose()


@pytest.mark.parametrize("database_url", ["sqlite"], indirect=True)
async def test_a_full_queue_makes_handlers_wait_and_nothing_is_lost(
    engine: AsyncEngine, migrated_url: str, own_process: bool
) -> None:
    writer = QueuedRepository(
        engine, STORE_KEY, queue_size=4, batch_size=2, own_process=own_process
    )
    await writer.start()
    await writer.apply([session(n) for n in range(20)])
    path = sqlite_file(migrated_url)
    assert path is not None
    blocker = sqlite3.connect(path, isolation_level=None)
    blocker.execute("BEGIN IMMEDIATE")  # the writer cannot commit until this ends
    try:
        pending = [
            asyncio.create_task(writer.apply_once(key(n, "m1"), [reply(n, "m1")]))
            for n in range(20)
        ]
        await asyncio.sleep(0.3)
        assert not any(task.done() for task in pending)
        assert writer.stats.waited > 0  # handlers waited for room; none was turned away
    finally:
        blocker.execute("ROLLBACK")
        blocker.close()
    assert await asyncio.gather(*pending) == [True] * 20
    assert await stored(engine) == 20
    await writer.close()


async def test_one_failing_submission_does_not_sink_the_others_in_its_batch(
    writer: QueuedRepository, engine: AsyncEngine
) -> None:
    await writer.apply([session(n) for n in range(5)])
    # Session s99 does not exist: this reply breaks a foreign key.
    broken = ResponseCaptured("s99", ALICE, chat(1), "open", "bad", "SECRET-WORDS", T0)
    outcomes = await asyncio.gather(
        *(writer.apply_once(key(n, "ok"), [reply(n, "ok")]) for n in range(5)),
        writer.apply_once(key(1, "bad"), [broken]),
        return_exceptions=True,
    )
    assert outcomes[:5] == [True] * 5
    failure = outcomes[5]
    assert isinstance(failure, CaptureFailed)
    assert "SECRET" not in str(failure)
    assert await stored(engine) == 5
    assert writer.stats.failures == 1


async def test_close_commits_everything_already_submitted_then_refuses_more(
    engine: AsyncEngine, own_process: bool
) -> None:
    writer = QueuedRepository(engine, STORE_KEY, own_process=own_process)
    await writer.start()
    await writer.apply([session(1)])
    submitted = [
        asyncio.create_task(writer.apply_once(key(1, f"m{i}"), [reply(1, f"m{i}")]))
        for i in range(200)
    ]
    await asyncio.sleep(0)  # every task has queued its reply
    await writer.close()
    assert all(task.done() for task in submitted)
    assert await stored(engine) == 200
    with pytest.raises(WriterStopped):
        await writer.apply_once(key(1, "late"), [reply(1, "late")])


async def test_an_erasure_after_a_reply_erases_it_even_in_the_same_burst(
    writer: QueuedRepository, engine: AsyncEngine
) -> None:
    consent = ConsentRecorded(ALICE, chat(1), frozenset({"participate"}), "1", "h", T0)
    await writer.apply([session(1), consent])
    racing = asyncio.create_task(writer.apply_once(key(1, "m1"), [reply(1, "m1")]))
    await asyncio.sleep(0)
    erased = await writer.erase_person(ALICE, "p-alice", T0)
    await racing
    assert erased.responses == 1
    assert await stored(engine) == 0


async def test_a_message_twice_in_one_batch_is_applied_once(writer: QueuedRepository) -> None:
    await writer.apply([session(1)])
    first, second = await asyncio.gather(
        writer.apply_once(key(1, "m1"), [reply(1, "m1", text="first")]),
        writer.apply_once(key(1, "m1"), [reply(1, "m1", text="copy")]),
    )
    assert (first, second) == (True, False)
    assert [r.text for r in (await writer.person_data(ALICE)).responses] == ["first"]


async def test_a_submitter_cancelled_before_the_commit_leaves_its_batch_committed_and_answered(
    writer: QueuedRepository, engine: AsyncEngine
) -> None:
    await writer.apply([session(n) for n in range(3)])
    futures = [await writer.submit_once(key(n, "m1"), [reply(n, "m1")]) for n in range(3)]
    futures[0].cancel()  # its handler gave up waiting; the others ride in the same batch
    assert await asyncio.wait_for(asyncio.gather(*futures[1:]), 10) == [True, True]
    assert await stored(engine) == 3
    assert await writer.apply_once(key(0, "m1"), [reply(0, "m1")]) is False  # it was stored
    assert writer.running


async def test_a_reply_that_comes_with_more_is_stored_and_is_its_messages_mark(
    writer: QueuedRepository,
) -> None:
    await writer.apply([session(1)])
    moved = SessionSaved(replace(session(1).state, step_index=3))
    assert await writer.apply_once(key(1, "m1"), [reply(1, "m1"), moved]) is True
    assert await writer.apply_once(key(1, "m1"), [reply(1, "m1", text="copy")]) is False
    assert [r.text for r in (await writer.person_data(ALICE)).responses] == ["a reply"]


async def test_a_stored_reply_redelivered_with_more_moves_nothing(
    writer: QueuedRepository,
) -> None:
    await writer.apply([session(1)])
    assert await writer.apply_once(key(1, "m1"), [reply(1, "m1")]) is True
    moved = SessionSaved(replace(session(1).state, step_index=3))
    assert await writer.apply_once(key(1, "m1"), [reply(1, "m1", text="copy"), moved]) is False
    stored_session = await writer.session("s1")
    assert stored_session is not None and stored_session.step_index == 2
    assert [r.text for r in (await writer.person_data(ALICE)).responses] == ["a reply"]


async def test_a_sessions_lead_is_written_after_the_session_submitted_before_it(
    writer: QueuedRepository,
) -> None:
    # Through the writer, in order: written beside it, the lead could come before its session.
    started = asyncio.create_task(writer.apply([session(1)]))
    await asyncio.sleep(0)  # the session is queued first
    await writer.set_lead("s1", ALICE, T0)
    await started
    assert await writer.lead("s1") == ALICE


async def test_handled_ids_are_forgotten_after_the_retention_period(engine: AsyncEngine) -> None:
    now = [T0]
    writer = QueuedRepository(engine, STORE_KEY, remember=timedelta(days=1), clock=lambda: now[0])
    await writer.start()
    assert await writer.apply_once(key(1, "cmd"), []) is True
    assert await writer.apply_once(key(1, "cmd"), []) is False
    await writer.close()
    now[0] = T0 + timedelta(days=2)
    later = QueuedRepository(engine, STORE_KEY, remember=timedelta(days=1), clock=lambda: now[0])
    await later.start()  # purges what is older than a day
    assert await later.apply_once(key(1, "cmd"), []) is True
    await later.close()


async def test_a_person_deleted_behind_the_writers_back_is_recreated_not_lost(
    writer: QueuedRepository, engine: AsyncEngine
) -> None:
    await writer.apply([session(1)])
    await writer.apply_once(key(1, "m1"), [reply(1, "m1")])
    async with engine.begin() as conn:  # e.g. a retention purge run by another process
        await conn.execute(delete(responses))
        await conn.execute(delete(identities))
    assert await writer.apply_once(key(1, "m2"), [reply(1, "m2", text="after")]) is True
    assert [r.text for r in (await writer.person_data(ALICE)).responses] == ["after"]


async def test_a_writer_process_killed_mid_burst_is_replaced_and_nothing_is_lost(
    engine: AsyncEngine,
) -> None:
    writer = QueuedRepository(engine, STORE_KEY, batch_size=50)
    await writer.start()
    await writer.apply([session(n) for n in range(50)])
    first = writer.process_id
    assert first is not None
    burst = [
        asyncio.create_task(writer.apply_once(key(n, f"m{i}"), [reply(n, f"m{i}")]))
        for i in range(4)
        for n in range(50)
    ]
    await asyncio.sleep(0)  # the first batches are on their way
    os.kill(first, signal.SIGKILL)
    # Each is stored: by the first process (if it committed before it died) or by the next.
    await asyncio.gather(*burst)
    assert await stored(engine) == 200
    assert writer.stats.failures == 0
    assert writer.process_id not in (None, first)
    await writer.close()
    assert writer.process_id is None


async def test_the_writer_process_ends_with_the_writer(engine: AsyncEngine) -> None:
    writer = QueuedRepository(engine, STORE_KEY)
    await writer.start()
    await writer.apply([session(1)])
    child = writer.process_id
    assert child is not None
    await writer.close()
    assert ended(child)


def ended(pid: int, seconds: float = 10.0) -> bool:
    """Whether the process is gone (it exits as soon as its input ends) within the time."""
    deadline = time.monotonic() + seconds
    while time.monotonic() < deadline:
        try:
            os.kill(pid, 0)
        except ProcessLookupError:
            return True
        time.sleep(0.02)
    return False
