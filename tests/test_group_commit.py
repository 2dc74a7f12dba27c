"""Group commit: a busy group's replies ride one batch, and each is acknowledged after its commit.

A group's events are still decided one at a time, in order (``Service.submit``), but a plain
reply ends its turn once queued: the group's next event is decided while it waits for the
writer. What acknowledges an event (its finish) comes after the commit, in order.
"""

from __future__ import annotations

import asyncio
import gc
import io
import logging
import pickle
from collections.abc import AsyncIterator, Sequence
from dataclasses import replace

import pytest
from sqlalchemy import func, select
from sqlalchemy.ext.asyncio import AsyncEngine

from bot.core.captures import ConsentRecorded, ResponseCaptured, ResponseDeleted, SessionSaved
from bot.core.context import Transition
from bot.core.events import Event
from bot.core.ids import MessageRef
from bot.platforms.console.adapter import ConsolePlatform
from storage._batch import Submission, _runs, batch_of
from storage._replies import reply_row
from storage.db import DatabaseUnreachable, make_engine
from storage.tables import responses
from storage.writer import CaptureFailed, QueuedRepository
from tests.support.capture import (
    FRAN,
    STORE_KEY,
    T0,
    TEXTS,
    Harness,
    at_a_prompt,
    command,
    group,
    person,
    running,
    say,
    stored_replies,
)

ALICE, BOB = person("alice"), person("bob")
G1 = group("g1")


async def count(engine: AsyncEngine) -> int:
    async with engine.connect() as conn:
        return (await conn.execute(select(func.count()).select_from(responses))).scalar_one()


async def submit_all(h: Harness, events: Sequence[Event]) -> list[asyncio.Future[None]]:
    """Decide each event in order without waiting for any commit, as the console does."""
    # Bounded: an event that waited for its commit here would wait out an outage.
    return [await asyncio.wait_for(h.service.submit(event), 10) for event in events]


def replies(n: int, who: object = ALICE, prefix: str = "m") -> list[Event]:
    return [say(who, G1, f"{prefix}{i}", f"thought number {i}") for i in range(n)]  # type: ignore[arg-type]


async def test_a_busy_groups_replies_share_commits_and_are_acknowledged_in_order(
    migrated_url: str,
) -> None:
    async with running(migrated_url, [G1]) as h:
        await at_a_prompt(h, G1, ALICE)
        committed: set[str] = set()
        h.store.on_commit = lambda stored, _: committed.update(
            s.message.message_id for s in stored if s.message is not None
        )
        before = h.store.stats.batches
        finished: list[str] = []
        events = replies(60)
        finishes = await submit_all(h, events)
        # Decided before the earlier replies were committed: none waited for a commit.
        assert not finishes[-1].done()
        for event, finish in zip(events, finishes, strict=True):
            message_id = event.message_id  # type: ignore[attr-defined]

            def acknowledged(_: object, message_id: str = message_id) -> None:
                # An acknowledgement never comes before its reply's commit.
                assert message_id in committed
                finished.append(message_id)

            finish.add_done_callback(acknowledged)
        await asyncio.gather(*finishes)
        await asyncio.sleep(0)  # the last callbacks
        assert finished == [e.message_id for e in events]  # type: ignore[attr-defined]
        assert h.store.stats.batches - before < 10, "one commit per reply: no group commit"
        assert [r.text for r in await stored_replies(h.engine)] == [
            f"thought number {i}" for i in range(60)
        ]


async def test_a_reply_delivered_again_while_its_first_delivery_is_pending_is_stored_once(
    migrated_url: str, monkeypatch: pytest.MonkeyPatch
) -> None:
    async with running(migrated_url, [G1]) as h:
        await at_a_prompt(h, G1, ALICE)
        # Commits wait until every delivery is decided, so the first is surely still pending
        # when the second comes (a quick writer could otherwise commit it in between).
        real = h.store._committer.commit
        decided = asyncio.Event()

        async def held(batch, now):  # type: ignore[no-untyped-def]
            await decided.wait()
            return await real(batch, now)

        monkeypatch.setattr(h.store._committer, "commit", held)
        first = say(ALICE, G1, "m1", "said once")
        again = say(ALICE, G1, "m1", "said once")
        finishes = await submit_all(h, [first, again, *replies(5, prefix="n")])
        assert not finishes[0].done()
        decided.set()
        await asyncio.gather(*finishes)
        assert [r.message_id for r in await stored_replies(h.engine)] == [
            "m1",
            *(f"n{i}" for i in range(5)),
        ]


async def test_a_withdrawal_after_pending_replies_leaves_nothing_of_them(
    migrated_url: str,
) -> None:
    async with running(migrated_url, [G1]) as h:
        await at_a_prompt(h, G1, ALICE, BOB)
        events = [
            *replies(20),
            say(BOB, G1, "b1", "bob stays"),
            command(ALICE, G1, "/withdraw", "w1"),
            command(ALICE, G1, "/withdraw confirm", "w2"),
            *replies(5, prefix="late"),
        ]
        finishes = await submit_all(h, events)
        await asyncio.gather(*finishes)
        assert [r.text for r in await stored_replies(h.engine)] == ["bob stays"]


async def test_consent_then_a_reply_at_once_stores_the_reply(migrated_url: str) -> None:
    async with running(migrated_url, [G1]) as h:
        await at_a_prompt(h, G1)
        finishes = await submit_all(
            h, [command(BOB, G1, "/agree participate", "c1"), say(BOB, G1, "b1", "right after")]
        )
        await asyncio.gather(*finishes)
        assert [r.text for r in await stored_replies(h.engine)] == ["right after"]


async def test_a_reply_after_a_consent_that_failed_to_commit_is_not_stored(
    migrated_url: str, monkeypatch: pytest.MonkeyPatch
) -> None:
    async with running(migrated_url, [G1]) as h:
        await at_a_prompt(h, G1)
        real = h.store._committer.commit

        async def refuse_consent(batch, now):  # type: ignore[no-untyped-def]
            if any(isinstance(c, ConsentRecorded) for _, s in batch.others for c in s.captures):
                raise RuntimeError("the consent could not be stored")
            return await real(batch, now)

        monkeypatch.setattr(h.store._committer, "commit", refuse_consent)
        consenting = asyncio.create_task(
            h.service.handle(command(BOB, G1, "/agree participate", "c1"))
        )
        replying = asyncio.create_task(h.service.handle(say(BOB, G1, "b1", "never kept")))
        with pytest.raises(CaptureFailed):
            await consenting
        await replying
        assert await count(h.engine) == 0


async def test_an_outage_holds_every_pending_reply_unacknowledged_until_the_database_is_back(
    migrated_url: str, monkeypatch: pytest.MonkeyPatch
) -> None:
    async with running(migrated_url, [G1]) as h:
        await at_a_prompt(h, G1, ALICE)
        real = h.store._committer.commit
        back = asyncio.Event()

        async def away(batch, now):  # type: ignore[no-untyped-def]
            if not back.is_set():
                raise DatabaseUnreachable("gone")
            return await real(batch, now)

        monkeypatch.setattr(h.store._committer, "commit", away)
        monkeypatch.setattr(h.store._outage, "_first", 0.01)
        try:
            finishes = await submit_all(h, replies(30))
            await asyncio.sleep(0.2)
            assert not any(f.done() for f in finishes), "acknowledged while it was away"
        finally:
            back.set()  # else closing the writer would wait for the database for good
        await asyncio.gather(*finishes)
        assert await count(h.engine) == 30


async def test_a_failed_commit_fails_every_pending_reply_and_acknowledges_none(
    migrated_url: str, monkeypatch: pytest.MonkeyPatch
) -> None:
    async with running(migrated_url, [G1]) as h:
        await at_a_prompt(h, G1, ALICE)

        async def broken(batch, now):  # type: ignore[no-untyped-def]
            raise RuntimeError("a commit that fails")

        monkeypatch.setattr(h.store._committer, "commit", broken)
        finishes = await submit_all(h, replies(12))
        outcomes = await asyncio.gather(*finishes, return_exceptions=True)
        assert all(isinstance(o, CaptureFailed) for o in outcomes)
        assert await count(h.engine) == 0


async def test_a_deletion_queued_behind_its_reply_in_one_batch_deletes_it(
    migrated_url: str,
) -> None:
    async with running(migrated_url, [G1]) as h:
        await at_a_prompt(h, G1, ALICE)
        session_id = h.service.sessions[G1].session_id
    assert session_id is not None
    engine = make_engine(migrated_url)
    # Committing here, a batch takes everything queued (see QueuedRepository._take).
    writer = QueuedRepository(engine, STORE_KEY, own_process=False)
    await writer.start()
    try:
        said = ResponseCaptured(session_id, ALICE, G1, "first-thoughts", "m1", "gone soon", T0)
        gone = ResponseDeleted(G1, "m1", T0, ALICE)
        before = writer.stats.batches
        pending = [
            await writer.submit_once(MessageRef(G1.platform, G1.chat_id, "m1"), [said]),
            await writer.submit_once(MessageRef(G1.platform, G1.chat_id, "d1"), [gone]),
        ]
        assert await asyncio.gather(*pending) == [True, True]
        assert writer.stats.batches - before == 1, "both rode one batch"
        assert await count(engine) == 0
    finally:
        await writer.close()
        await engine.dispose()


def test_a_submission_keeps_its_place_in_a_batch() -> None:
    said = ResponseCaptured("s", ALICE, G1, "q", "m1", "text", T0)
    gone = ResponseDeleted(G1, "m1", T0, ALICE)
    plain = Submission(MessageRef(G1.platform, G1.chat_id, "m1"), (said,))
    other = Submission(MessageRef(G1.platform, G1.chat_id, "d1"), (gone,))
    runs = _runs(batch_of([other, plain, plain, other, plain]))
    assert [([p for p, _ in r], [p for p, _ in o]) for r, o in runs] == [
        ([1, 2], [0]),
        ([4], [3]),
    ]


def test_a_batch_is_made_from_the_plain_pairs_the_writer_queues() -> None:
    said = ResponseCaptured("s", ALICE, G1, "q", "m1", "text", T0)
    gone = ResponseDeleted(G1, "m1", T0, ALICE)
    plain = (MessageRef(G1.platform, G1.chat_id, "m1"), (said,))
    other = (MessageRef(G1.platform, G1.chat_id, "d1"), (gone,))
    batch = batch_of([other, plain])
    assert batch.replies == ((1, reply_row(said)),)
    # Kept whole, as the writer's process and on_commit read it.
    assert batch.others == ((0, Submission(*other)),)
    assert batch.others[0][1].captures == (gone,)
    assert pickle.loads(pickle.dumps(batch, protocol=pickle.HIGHEST_PROTOCOL)) == batch


async def test_the_console_decides_lines_ahead_and_acknowledges_each_in_order(
    migrated_url: str,
) -> None:
    async with running(migrated_url, [G1]) as h:
        await at_a_prompt(h, G1, ALICE)
        out = io.StringIO()
        console = ConsolePlatform(G1.chat_id, TEXTS, "en", out, "replay")
        before = h.store.stats.batches

        async def lines() -> AsyncIterator[str]:
            for i in range(200):
                yield f"alice: line {i}"

        # The console's group is its own platform's: route its lines to G1.
        async def submit(event: Event) -> asyncio.Future[None]:
            return await h.service.submit(replace(event, group=G1, person=ALICE))

        await console.feed(lines(), submit, lambda: T0, echo=False, acknowledge=True)
        assert out.getvalue().splitlines() == [f"[ack {n}]" for n in range(1, 201)]
        assert h.store.stats.batches - before < 20, "each line waited for its commit"
        assert len(await stored_replies(h.engine)) == 200


async def test_a_caller_that_stops_waiting_leaves_the_reply_committed_and_the_group_going(
    migrated_url: str,
) -> None:
    errors: list[dict[str, object]] = []
    asyncio.get_running_loop().set_exception_handler(lambda _, context: errors.append(context))
    async with running(migrated_url, [G1]) as h:
        await at_a_prompt(h, G1, ALICE)
        finishes = await submit_all(h, replies(3))
        finishes[0].cancel()  # a platform's handler cancelled while it waited
        await asyncio.gather(*finishes[1:])
        more = await submit_all(h, replies(2, prefix="n"))
        await asyncio.gather(*more)
        assert len(await stored_replies(h.engine)) == 5
    assert errors == []


async def test_a_reply_with_nothing_pending_finishes_with_none_once_committed_and_logs_on_info(
    migrated_url: str, caplog: pytest.LogCaptureFixture
) -> None:
    """Its commit is its finish (no future or callback of the service's own) while nothing
    earlier of its group is pending and INFO is off; the finish says nothing more than done."""
    caplog.set_level(logging.WARNING, logger="bot.service.shell")
    async with running(migrated_url, [G1]) as h:
        await at_a_prompt(h, G1, ALICE)
        turn = h.service._dispatch.turn(G1)
        first = await h.service.submit(say(ALICE, G1, "q1", "a first thought"))
        assert turn.tail is first and not first.done()
        assert await first is None
        again = await h.service.submit(say(ALICE, G1, "q1", "a first thought"))
        assert await again is None, "a redelivery finishes as a new reply does"
        assert len(await stored_replies(h.engine)) == 1
        assert "event handled" not in caplog.text
        caplog.set_level(logging.INFO, logger="bot.service.shell")
        assert await (await h.service.submit(say(ALICE, G1, "q2", "a second one"))) is None
        assert [r.message for r in caplog.records] == ["event handled"]
        # Settled by the service's own callback, the tail is removed.
        assert turn.tail is None
        finishes = await submit_all(h, replies(5))
        await asyncio.gather(*finishes)
        assert turn.tail is None
        assert len(await stored_replies(h.engine)) == 7


async def test_a_busy_groups_settled_replies_are_freed_at_once_not_left_to_the_collector(
    migrated_url: str,
) -> None:
    """A reply's decision and captures go as soon as it is settled: no reference cycle holds
    them for the cyclic collector, which would otherwise run (and walk every one of them)
    about once a thousand replies."""
    async with running(migrated_url, [G1]) as h:
        await at_a_prompt(h, G1, ALICE)
        gc.collect()
        gc.set_debug(gc.DEBUG_SAVEALL)
        try:
            await asyncio.gather(*await submit_all(h, replies(50)))
            gc.collect()
            left = [o for o in gc.garbage if isinstance(o, Transition | ResponseCaptured)]
        finally:
            gc.set_debug(0)
            gc.garbage.clear()
        assert len(await stored_replies(h.engine)) == 50
        assert left == []


async def test_observers_are_told_of_a_moved_session_not_of_each_plain_reply(
    migrated_url: str,
) -> None:
    """The scheduler watches transitions for sessions that move; a plain reply moves none, so
    it is not handed to observers, nor made to wait in a task of its own for them."""
    async with running(migrated_url, [G1]) as h:
        await at_a_prompt(h, G1, ALICE)
        told: list[set[type]] = []

        async def observe(transition: Transition, *_: object) -> None:
            told.append({type(c) for c in transition.captures})

        h.service.observers.append(observe)
        finishes = await submit_all(h, [*replies(20), command(FRAN, G1, "/next", "c-next")])
        await asyncio.gather(*finishes)
        assert len(told) == 1 and SessionSaved in told[0], told
        assert len(await stored_replies(h.engine)) == 20
