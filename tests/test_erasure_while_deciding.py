"""An event decided before its author's erasure and queued after it is decided again, not stored.

A person's erasure runs beside their groups' events, not in turn with them. Their consent is
forgotten first, then the erasure is queued on the writer after every capture queued before
it. An event of theirs whose actor was made before the forget but whose captures would be
queued after the erasure (it waited for a group's earlier commit, for the content versions
its session runs, or for room in the writer's queue) would outlive the erasure: it is decided
again, and without the consent the gate drops it.
"""

from __future__ import annotations

import asyncio
from collections.abc import Iterable
from dataclasses import replace
from typing import Any

import pytest
from sqlalchemy import select

from bot.content.version import Version
from bot.core.events import Event
from bot.core.ids import PersonRef
from bot.service.intake import IntakeRules
from storage.tables import person_languages
from tests.support.capture import (
    FRAN,
    LIBRARY,
    T0,
    Harness,
    at_a_prompt,
    command,
    group,
    on_decided,
    person,
    running,
    say,
    snapshot,
    stored_replies,
    t,
    user_ids,
)

ALICE, BOB = person("alice"), person("bob")
G1, G2 = group("g1"), group("g2")
# The shipped script with one word changed: a session started on it runs a content version
# that is not the files' own, which the service loads from the store at its first reply.
SCRIPT = LIBRARY.scripts["health-data-intro"]
REVISED = replace(
    LIBRARY,
    scripts={**LIBRARY.scripts, SCRIPT.id: SCRIPT.model_copy(update={"title": "Revised"})},
)


async def erased_by(h: Harness, how: str) -> None:
    """Alice erased by staff, by her ``/withdraw confirm`` in her private chat, or at the poll.

    At the poll: a staff erasure made elsewhere, which this process learns of from the audit
    and carries out again for what it kept meanwhile (``Service.forget_erased``).
    """
    if how == "staff":
        await h.service.erase(ALICE, T0)
    elif how == "poll":
        pseudonym = h.service.pseudonymise(ALICE)
        await h.service.forget_erased(frozenset({pseudonym}), frozenset({pseudonym}), T0)
    else:
        await h.service.handle(command(ALICE, None, "/withdraw confirm", "w-confirm"))


async def left_of(h: Harness, who: PersonRef) -> tuple[list[str], list[object], int]:
    """The person's stored replies, their votes, and how many identities are theirs."""
    replies = [r.message_id for r in await stored_replies(h.engine) if "ALICE" in r.text]
    votes = [v for v in (await snapshot(h.engine))["votes"] if v[1] == who.user_id]
    async with h.engine.connect() as conn:
        named = list((await user_ids(conn)).values()).count(who.user_id)
    return replies, votes, named


def decided(h: Harness, who: PersonRef) -> asyncio.Event:
    """Set once the engine is handed an event of ``who`` (from now on)."""
    seen = asyncio.Event()

    def told(event: Event, _: object) -> None:
        if event.person == who:
            seen.set()

    on_decided(h, told)
    return seen


def commits_held(
    h: Harness, monkeypatch: pytest.MonkeyPatch
) -> tuple[asyncio.Event, asyncio.Event]:
    """Every commit from now on waits until the first event is set; the second: one does."""
    held, reached = asyncio.Event(), asyncio.Event()
    real = h.store._committer.commit

    async def commit(batch: Any, now: Any) -> Any:
        reached.set()
        await held.wait()
        return await real(batch, now)

    monkeypatch.setattr(h.store._committer, "commit", commit)
    return held, reached


@pytest.mark.parametrize("line", ["/vote 1", "/language bn"])
async def test_a_command_waiting_behind_anothers_reply_is_not_stored_after_its_authors_erasure(
    migrated_url: str, monkeypatch: pytest.MonkeyPatch, line: str
) -> None:
    # A vote, and a language (which storage keeps only with a consent): one command at once
    # is allowed (the clock stands still), hers; decided again, it is not counted again.
    async with running(migrated_url, [G1], rules=IntakeRules(command_burst=1)) as h:
        await at_a_prompt(h, G1, ALICE, BOB)
        await h.service.handle(command(FRAN, G1, "/goto research-comfort", "c-go"))
        held, _ = commits_held(h, monkeypatch)
        bobs = await h.service.submit(say(BOB, G1, "b1", "BOB-STAYS his words"))
        alices = decided(h, ALICE)
        hers = asyncio.ensure_future(h.service.handle(command(ALICE, G1, line, "c-hers")))
        # Her command is decided for her actor, and waits for Bob's reply's commit.
        await alices.wait()
        erasure = asyncio.ensure_future(h.service.erase(ALICE, T0))
        await asyncio.sleep(0)  # her consent is forgotten, her erasure queued
        held.set()
        await asyncio.wait_for(asyncio.gather(hers, erasure, bobs), 30)
        assert await left_of(h, ALICE) == ([], [], 0)
        assert [r.text for r in await stored_replies(h.engine)] == ["BOB-STAYS his words"]
        async with h.engine.connect() as conn:
            assert (await conn.execute(select(person_languages))).all() == []
        slow_down = t("limits.slow_down", seconds="").split(",")[0]
        assert not [text for text in h.platform.private(ALICE) if slow_down in text]


@pytest.mark.parametrize("how", ["staff", "withdraw", "poll"])
async def test_a_first_reply_waiting_for_its_sessions_content_is_not_stored_after_an_erasure(
    migrated_url: str, how: str
) -> None:
    async with running(migrated_url, [G1], library=REVISED) as h:
        await at_a_prompt(h, G1, ALICE)
    async with running(migrated_url, [G1]) as h:
        await h.service.resume()
        held, reached = asyncio.Event(), asyncio.Event()
        load = h.store.content_versions

        async def held_load(digests: Iterable[str]) -> dict[str, Version]:
            found = await load(digests)
            if not reached.is_set():
                reached.set()
                await held.wait()
            return found

        h.store.content_versions = held_load  # type: ignore[method-assign]
        reply = asyncio.ensure_future(h.service.handle(say(ALICE, G1, "a1", "ALICE-SECRET")))
        await reached.wait()
        await erased_by(h, how)
        held.set()
        await asyncio.wait_for(reply, 30)
        assert await left_of(h, ALICE) == ([], [], 0)


async def test_a_reply_waiting_for_room_in_the_writers_queue_is_queued_before_a_later_erasure(
    migrated_url: str, monkeypatch: pytest.MonkeyPatch
) -> None:
    size = 2
    async with running(migrated_url, [G1, G2], queue_size=size) as h:
        await at_a_prompt(h, G1, ALICE)
        await at_a_prompt(h, G2, BOB)
        held, _ = commits_held(h, monkeypatch)
        # Bob's replies fill the writer: its batches in flight wait, and then its queue.
        finishes = []
        n = 0
        while h.store.queued < size:
            finishes.append(await h.service.submit(say(BOB, G2, f"b{n}", "BOB-STAYS")))
            n += 1
            for _ in range(5):
                await asyncio.sleep(0)
        waited = h.store.stats.waited
        alices = asyncio.ensure_future(h.service.submit(say(ALICE, G1, "a1", "ALICE-SECRET")))
        for _ in range(5):
            await asyncio.sleep(0)
        assert h.store.stats.waited == waited + 1  # her reply waits for room
        held.set()
        # The erasure asked for the moment the writer makes room, before her reply is queued.
        while h.store.queued >= size and not alices.done():
            await asyncio.sleep(0)
        await h.service.erase(ALICE, T0)  # awaited, not a task: it asks at once
        await asyncio.wait_for(asyncio.gather(await alices, *finishes), 30)
        assert await left_of(h, ALICE) == ([], [], 0)
        assert len(await stored_replies(h.engine)) == n


async def test_a_facilitator_erased_while_their_step_commits_is_not_stored_as_its_lead(
    migrated_url: str, monkeypatch: pytest.MonkeyPatch
) -> None:
    async with running(migrated_url, [G1]) as h:
        await at_a_prompt(h, G1, ALICE)
        held, reached = commits_held(h, monkeypatch)
        moved = asyncio.ensure_future(h.service.handle(command(FRAN, G1, "/next", "c-next")))
        await reached.wait()  # the step is decided, and its commit under way
        erasure = asyncio.ensure_future(h.service.erase(FRAN, T0))
        await asyncio.sleep(0)  # his consent is forgotten, his erasure queued after the step
        held.set()
        await asyncio.wait_for(asyncio.gather(moved, erasure), 30)
        async with h.engine.connect() as conn:
            assert FRAN.user_id not in (await user_ids(conn)).values()
