"""The load for the capture benchmark: groups, people, their replies, and how they arrive."""

from __future__ import annotations

import asyncio
import os
import secrets
import sqlite3
import statistics
import sys
import time
from collections.abc import Awaitable, Callable
from dataclasses import dataclass
from datetime import UTC, datetime, timedelta
from pathlib import Path
from typing import Any, TypeVar

ROOT = Path(__file__).resolve().parents[1]
sys.path.insert(0, str(ROOT))

from bot.content.check import load_library  # noqa: E402
from bot.core.actions import Action  # noqa: E402
from bot.core.captures import ResponseCaptured  # noqa: E402
from bot.core.context import Actor, Context, Transition  # noqa: E402
from bot.core.events import CommandIssued, MessagePosted  # noqa: E402
from bot.core.ids import GroupRef, MessageRef, PersonRef  # noqa: E402
from bot.service.shell import Policy, Service  # noqa: E402
from bot.texts import Catalogue  # noqa: E402
from exporters.pseudonymise import Pseudonymiser  # noqa: E402
from storage._batch import Submission  # noqa: E402
from storage._keys import identity_row  # noqa: E402
from storage.collector import settle  # noqa: E402
from storage.db import SQLITE_PRAGMAS, default_keys, make_engine, sqlite_file, upgrade  # noqa: E402
from storage.keystore import KeyStore  # noqa: E402
from storage.writer import QueuedRepository  # noqa: E402

T = TypeVar("T")
SCRIPT = "health-data-intro"
PLATFORM = "bench"
T0 = datetime(2025, 3, 1, 18, 0, tzinfo=UTC)
WORDS = (
    "I think the council should ask people first before sharing anything with researchers, "
    "and tell us afterwards what it was used for"
).split()


@dataclass(frozen=True)
class Shape:
    """How big a run is."""

    groups: int
    people: int
    messages: int
    batch_size: int
    rate: float  # replies per second for the paced run (latency at a steady load)
    paced_seconds: float

    @property
    def warm(self) -> int:
        """Replies that warm up the caches before anything is timed."""
        return max(self.groups * 5, 2000)

    @property
    def paced(self) -> int:
        """Replies in the paced run."""
        return int(self.rate * self.paced_seconds)

    @property
    def ahead(self) -> int:
        """Replies stored before the sustained run starts."""
        return self.warm + self.paced


class Quiet:
    """A platform that accepts every action and shows nothing."""

    name = PLATFORM

    async def start(self) -> None:
        """Nothing to start."""

    async def stop(self) -> None:
        """Nothing to stop."""

    async def perform(self, action: Action) -> None:
        """Drop the action."""


def group_of(g: int) -> GroupRef:
    return GroupRef(PLATFORM, f"-100{g:06d}")


def person_of(g: int, p: int) -> PersonRef:
    return PersonRef(PLATFORM, f"{g:06d}{p:03d}")


def reply_text(n: int) -> str:
    words = WORDS[n % 7 :] + WORDS[: n % 7]
    return " ".join(words[: 12 + n % 9])


def reply(shape: Shape, n: int) -> MessagePosted:
    """Reply number ``n``: round-robin over the groups, and over the people in each."""
    g, p = n % shape.groups, (n // shape.groups) % shape.people
    at = T0 + timedelta(milliseconds=n)
    return MessagePosted(person_of(g, p), group_of(g), f"m{n}", reply_text(n), at)


def replies(shape: Shape, start: int, count: int) -> list[list[MessagePosted]]:
    """Per group, its share of ``count`` replies, in the order it posts them.

    Made before the clock starts, as the raw ceiling makes its rows: the benchmark measures
    the bot, not the making of synthetic events (a platform adapter's own cost).
    """
    return [
        [reply(shape, n) for n in range(start + g, start + count, shape.groups)]
        for g in range(shape.groups)
    ]


async def build(
    url: str, shape: Shape, own_process: bool = True, groups: frozenset[GroupRef] | None = None
) -> tuple[Service, QueuedRepository, Any]:
    """The service on a fresh database, its writer committing in a process of its own or not.

    ``groups``: those that run sessions (the shape's by default), each facilitated by the
    person "lead" of its platform.
    """
    await upgrade(url)
    engine = make_engine(url)
    key = secrets.token_bytes(32)
    store = QueuedRepository(
        engine,
        key,
        queue_size=4 * shape.batch_size,
        batch_size=shape.batch_size,
        own_process=own_process,
    )
    await store.start()
    groups = groups or frozenset(group_of(g) for g in range(shape.groups))
    facilitators = {g: frozenset({PersonRef(g.platform, "lead")}) for g in groups}
    policy = Policy(facilitators=facilitators, registered=groups)
    service = Service(
        store,
        load_library(ROOT),
        Catalogue.load(),
        policy,
        Pseudonymiser(key),
        clock=lambda: T0,
    )
    service.attach(Quiet())
    # `dialogue run`'s scheduler observes the service (Scheduler.observe): an observer here
    # keeps the benchmark on the path the bot's events take.
    service.observers.append(_observe)
    settle()  # as `dialogue run` does once the bot is ready
    return service, store, engine


async def _observe(transition: Transition, actor: Actor, ctx: Context) -> None:
    """Told of what the service decided, as the scheduler is; it sets no timer here."""


async def prepare(service: Service, shape: Shape) -> None:
    """Start a session in every group, move it to a prompt step, and let everyone consent."""

    def command(person: PersonRef, group: GroupRef, text: str) -> CommandIssued:
        name, *args = text.split()
        return CommandIssued(person, group, name, tuple(args), T0)

    async def one(g: int) -> None:
        group, lead = group_of(g), PersonRef(PLATFORM, "lead")
        for text in ("start " + SCRIPT, "next", "next"):
            await service.handle(command(lead, group, text))
        for p in range(shape.people):
            await service.handle(command(person_of(g, p), group, "agree participate"))

    await asyncio.gather(*(one(g) for g in range(shape.groups)))


def captured(service: Service, per_group: list[list[MessagePosted]]) -> list[list[Submission]]:
    """What the service submits to the writer for each reply: for timing the writer alone."""
    step = "first-thoughts"
    return [
        [
            Submission(
                MessageRef(e.group.platform, e.group.chat_id, e.message_id),
                (
                    ResponseCaptured(
                        service.sessions[e.group].session_id or "",
                        e.person,
                        e.group,
                        step,
                        e.message_id,
                        e.text,
                        e.at,
                    ),
                ),
            )
            for e in events
        ]
        for events in per_group
    ]


def cpu_seconds(pid: int | None) -> float:
    """CPU time of another process so far (Linux), 0 for none."""
    if pid is None:
        return 0.0
    fields = Path(f"/proc/{pid}/stat").read_text().rpartition(")")[2].split()
    return (int(fields[11]) + int(fields[12])) / os.sysconf("SC_CLK_TCK")


async def sustained(
    handle: Callable[[T], Awaitable[object]],
    per_group: list[list[T]],
    writer: QueuedRepository | None = None,
) -> dict[str, float]:
    """Every group posts its replies back to back; groups run concurrently.

    ``handle`` is the service's (events) or the writer's (what the service would submit).
    The CPU time of the ``writer``'s own process, if it has one, is counted with the rest.
    """
    latencies: list[float] = []

    async def group_worker(items: list[T]) -> None:
        clock = time.perf_counter
        for item in items:
            started = clock()
            await handle(item)
            latencies.append(clock() - started)

    pid = writer.process_id if writer else None
    began, cpu, loop = time.perf_counter(), time.process_time(), time.thread_time()
    child = cpu_seconds(pid)
    await asyncio.gather(*(group_worker(items) for items in per_group))
    elapsed, cpu = time.perf_counter() - began, time.process_time() - cpu
    loop = time.thread_time() - loop
    child = cpu_seconds(pid) - child
    cpu += child
    return {
        "messages": len(latencies),
        "seconds": elapsed,
        "cpu_us_per_message": 1e6 * cpu / len(latencies),
        "loop_us_per_message": 1e6 * loop / len(latencies),
        "writer_process_us_per_message": 1e6 * child / len(latencies),
        **percentiles(latencies),
    }


async def paced(service: Service, shape: Shape, start: int, count: int) -> dict[str, float]:
    """Replies arrive at a steady rate, spread over the groups, each handled on arrival."""
    latencies: list[float] = []
    tasks: set[asyncio.Task[None]] = set()

    async def one(event: MessagePosted) -> None:
        started = time.perf_counter()
        await service.handle(event)
        latencies.append(time.perf_counter() - started)

    began = time.perf_counter()
    for n in range(count):
        delay = began + n / shape.rate - time.perf_counter()
        if delay > 0:
            await asyncio.sleep(delay)
        task = asyncio.create_task(one(reply(shape, start + n)))
        tasks.add(task)
        task.add_done_callback(tasks.discard)
    while tasks:
        await asyncio.gather(*tasks)
    elapsed = time.perf_counter() - began
    return {"messages": len(latencies), "seconds": elapsed, **percentiles(latencies)}


def percentiles(latencies: list[float]) -> dict[str, float]:
    ordered = sorted(latencies)
    return {
        "p50_ms": 1000 * statistics.median(ordered),
        "p99_ms": 1000 * ordered[min(len(ordered) - 1, int(0.99 * len(ordered)))],
    }


def raw_ceiling(shape: Shape, directory: str, before: int) -> dict[str, Any]:
    """Plain sqlite3: the same rows into the same schema, committed batch by batch.

    The same rows as the service run: each reply in its own group's session, from its own
    person, so the indexes grow as they do there. The ``before`` replies the service run stores
    ahead of its timed run go in first, untimed, so both are timed over the same sizes.
    """
    url = f"sqlite+aiosqlite:///{directory}/raw.db"
    asyncio.run(upgrade(url))
    path = sqlite_file(url)
    assert path is not None
    db = sqlite3.connect(path, isolation_level=None)
    for pragma in SQLITE_PRAGMAS:  # the bot's own settings: WAL, synchronous=NORMAL, cache
        db.execute(pragma)
    groups = range(shape.groups)
    db.execute("BEGIN")
    db.executemany(
        "INSERT INTO groups (id, platform, chat_id, created_at) VALUES (?, ?, ?, ?)",
        [(1 + g, PLATFORM, group_of(g).chat_id, T0) for g in groups],
    )
    # User ids stored sealed under each person's key, as the bot stores them.
    keys = KeyStore(default_keys(url))
    people = {
        1 + g * shape.people + p: person_of(g, p) for g in groups for p in range(shape.people)
    }
    keys.ensure(people)
    db.executemany(
        "INSERT INTO identities (id, platform, user_key, sealed_user_id, created_at)"
        " VALUES (?, ?, ?, ?, ?)",
        [(*identity_row(keys, pid, PLATFORM, who.user_id), T0) for pid, who in people.items()],
    )
    db.executemany(
        "INSERT INTO sessions (id, group_id, status, step_index, updated_at) "
        "VALUES (?, ?, 'running', 2, ?)",
        [(f"s{g}", 1 + g, T0) for g in groups],
    )
    db.execute("COMMIT")

    def row(n: int) -> tuple[object, ...]:
        g, p = n % shape.groups, (n // shape.groups) % shape.people
        return (
            f"s{g}",
            1 + g * shape.people + p,
            1 + g,
            "first-thoughts",
            PLATFORM,
            group_of(g).chat_id,
            f"m{n}",
            reply_text(n),
            "text",
            None,
            (T0 + timedelta(milliseconds=n)).replace(tzinfo=None).isoformat(" "),
        )

    sql = (
        "INSERT INTO responses (session_id, participant_id, group_id, step_id, platform, "
        "chat_id, message_id, text, kind, reply_to, posted_at) "
        "VALUES (?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?)"
    )

    def insert(rows: list[tuple[object, ...]]) -> None:
        for start in range(0, len(rows), shape.batch_size):
            db.execute("BEGIN")
            db.executemany(sql, rows[start : start + shape.batch_size])
            db.execute("COMMIT")

    insert([row(n) for n in range(before)])
    rows = [row(n) for n in range(before, before + shape.messages)]
    began = time.perf_counter()
    insert(rows)
    elapsed = time.perf_counter() - began
    db.close()
    return {"messages": len(rows), "seconds": elapsed, "rate": len(rows) / elapsed}
