"""Capture benchmark: synthetic replies through the real service and writer into a database.

    python bench/capture_bench.py                    # SQLite, and PostgreSQL if configured
    python bench/capture_bench.py --messages 200000 --groups 500
    DIALOGUE_BENCH_DATABASE_URL=postgresql+asyncpg://postgres@127.0.0.1:5432/postgres \\
        python bench/capture_bench.py

Many simulated groups, each with a running session at a prompt step and participants who all
consented, post replies. Each group's replies are handled in order, one at a time, as a platform
adapter does; groups run concurrently. Reported: sustained replies per second, the time from an
event to its durable commit (``Service.handle`` returning), and the peak memory of the process.
The raw ceiling is plain ``sqlite3`` ``executemany`` of the same rows into the same schema, in
transactions of the writer's batch size, on the same machine in the same run.
Every scenario runs in a fresh process, so peak memory is its own.
"""

from __future__ import annotations

import argparse
import asyncio
import gc
import json
import os
import resource
import secrets
import sqlite3
import statistics
import sys
import tempfile
import time
from concurrent.futures import ProcessPoolExecutor
from dataclasses import dataclass
from datetime import UTC, datetime, timedelta
from multiprocessing import get_context
from pathlib import Path
from typing import Any

ROOT = Path(__file__).resolve().parents[1]
sys.path.insert(0, str(ROOT))

from bot.content.check import load_library  # noqa: E402
from bot.core.actions import Action  # noqa: E402
from bot.core.events import CommandIssued, MessagePosted  # noqa: E402
from bot.core.ids import GroupRef, PersonRef  # noqa: E402
from bot.service import Policy, Service  # noqa: E402
from bot.texts import Catalogue  # noqa: E402
from exporters.pseudonymise import Pseudonymiser  # noqa: E402
from storage.db import SQLITE_PRAGMAS, make_engine, sqlite_file, upgrade  # noqa: E402
from storage.writer import QueuedRepository  # noqa: E402

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


def replies(shape: Shape, start: int, count: int) -> list[list[MessagePosted]]:
    """Per group, ``count`` replies in all, round-robin over groups and their people."""
    per_group: list[list[MessagePosted]] = [[] for _ in range(shape.groups)]
    for n in range(start, start + count):
        g, p = n % shape.groups, (n // shape.groups) % shape.people
        at = T0 + timedelta(milliseconds=n)
        event = MessagePosted(person_of(g, p), group_of(g), f"m{n}", reply_text(n), at)
        per_group[g].append(event)
    return per_group


async def build(url: str, shape: Shape) -> tuple[Service, QueuedRepository, Any]:
    await upgrade(url)
    engine = make_engine(url)
    store = QueuedRepository(engine, queue_size=4 * shape.batch_size, batch_size=shape.batch_size)
    await store.start()
    groups = frozenset(group_of(g) for g in range(shape.groups))
    lead = PersonRef(PLATFORM, "lead")
    policy = Policy(facilitators={g: frozenset({lead}) for g in groups}, registered=groups)
    service = Service(
        store,
        load_library(ROOT),
        Catalogue.load(),
        policy,
        Pseudonymiser(secrets.token_bytes(32)),
        clock=lambda: T0,
    )
    service.attach(Quiet())
    return service, store, engine


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


async def sustained(service: Service, per_group: list[list[MessagePosted]]) -> dict[str, float]:
    """Every group posts its replies back to back; groups run concurrently."""
    latencies: list[float] = []

    async def group_worker(events: list[MessagePosted]) -> None:
        clock = time.perf_counter
        for event in events:
            started = clock()
            await service.handle(event)
            latencies.append(clock() - started)

    began, cpu = time.perf_counter(), time.process_time()
    await asyncio.gather(*(group_worker(events) for events in per_group))
    elapsed, cpu = time.perf_counter() - began, time.process_time() - cpu
    return {
        "messages": len(latencies),
        "seconds": elapsed,
        "cpu_us_per_message": 1e6 * cpu / len(latencies),
        **percentiles(latencies),
    }


async def paced(
    service: Service, per_group: list[list[MessagePosted]], rate: float
) -> dict[str, float]:
    """Replies arrive at ``rate`` a second, spread over the groups, each handled on arrival."""
    order = [e for round_ in zip(*per_group, strict=False) for e in round_]
    latencies: list[float] = []
    tasks: list[asyncio.Task[None]] = []

    async def one(event: MessagePosted) -> None:
        started = time.perf_counter()
        await service.handle(event)
        latencies.append(time.perf_counter() - started)

    began = time.perf_counter()
    for n, event in enumerate(order):
        delay = began + n / rate - time.perf_counter()
        if delay > 0:
            await asyncio.sleep(delay)
        tasks.append(asyncio.create_task(one(event)))
    await asyncio.gather(*tasks)
    elapsed = time.perf_counter() - began
    return {"messages": len(latencies), "seconds": elapsed, **percentiles(latencies)}


def percentiles(latencies: list[float]) -> dict[str, float]:
    ordered = sorted(latencies)
    return {
        "p50_ms": 1000 * statistics.median(ordered),
        "p99_ms": 1000 * ordered[min(len(ordered) - 1, int(0.99 * len(ordered)))],
    }


async def service_run(url: str, shape: Shape) -> dict[str, Any]:
    service, store, engine = await build(url, shape)
    try:
        await prepare(service, shape)
        warm = max(shape.groups * 5, 2000)
        await sustained(service, replies(shape, 0, warm))
        events = replies(shape, warm, shape.messages)
        # The pre-built events are the benchmark's, not the bot's: keep the collector from
        # scanning them over and over (a bot receives events one at a time).
        gc.freeze()
        before = store.stats.batches
        result = await sustained(service, events)
        result["rate"] = result["messages"] / result["seconds"]
        result["batches"] = store.stats.batches - before
        result["largest_batch"] = store.stats.largest_batch
        result["waited"] = store.stats.waited
        paced_count = int(shape.rate * shape.paced_seconds)
        before = store.stats.batches
        result["paced"] = await paced(
            service, replies(shape, warm + shape.messages, paced_count), shape.rate
        )
        result["paced"]["batches"] = store.stats.batches - before
    finally:
        await store.close()
        await engine.dispose()
    result["peak_rss_mb"] = resource.getrusage(resource.RUSAGE_SELF).ru_maxrss / 1024
    return result


def raw_ceiling(shape: Shape, directory: str) -> dict[str, Any]:
    """Plain sqlite3: the same rows into the same schema, committed batch by batch."""
    url = f"sqlite+aiosqlite:///{directory}/raw.db"
    asyncio.run(upgrade(url))
    path = sqlite_file(url)
    assert path is not None
    db = sqlite3.connect(path, isolation_level=None)
    for pragma in SQLITE_PRAGMAS:  # the bot's own settings: WAL, synchronous=NORMAL, cache
        db.execute(pragma)
    db.execute("BEGIN")
    db.execute("INSERT INTO groups (platform, chat_id, created_at) VALUES ('bench', 'g', ?)", (T0,))
    db.executemany(
        "INSERT INTO identities (platform, user_id, created_at) VALUES ('bench', ?, ?)",
        [(str(p), T0) for p in range(shape.people)],
    )
    db.execute(
        "INSERT INTO sessions (id, group_id, status, step_index, updated_at) "
        "VALUES ('s', 1, 'running', 2, ?)",
        (T0,),
    )
    db.execute("COMMIT")
    rows = [
        (
            "s",
            1 + n % shape.people,
            1,
            "first-thoughts",
            PLATFORM,
            group_of(n % shape.groups).chat_id,
            f"m{n}",
            reply_text(n),
            "text",
            None,
            (T0 + timedelta(milliseconds=n)).replace(tzinfo=None).isoformat(" "),
        )
        for n in range(shape.messages)
    ]
    sql = (
        "INSERT INTO responses (session_id, participant_id, group_id, step_id, platform, "
        "chat_id, message_id, text, kind, reply_to, posted_at) "
        "VALUES (?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?)"
    )
    began = time.perf_counter()
    for start in range(0, len(rows), shape.batch_size):
        db.execute("BEGIN")
        db.executemany(sql, rows[start : start + shape.batch_size])
        db.execute("COMMIT")
    elapsed = time.perf_counter() - began
    db.close()
    return {"messages": len(rows), "seconds": elapsed, "rate": len(rows) / elapsed}


def scenario(name: str, url: str | None, shape: Shape) -> dict[str, Any]:
    """Run one scenario in this (fresh) process."""
    with tempfile.TemporaryDirectory(prefix="capture-bench-") as directory:
        if name == "raw":
            return raw_ceiling(shape, directory)
        return asyncio.run(service_run(url or f"sqlite+aiosqlite:///{directory}/bench.db", shape))


def postgres_url(server: str) -> tuple[str, Any]:
    """A fresh database on the server, and a function that drops it."""
    import asyncpg  # only needed for PostgreSQL runs
    from sqlalchemy.engine import make_url

    base = make_url(server)
    name = f"capture_bench_{secrets.token_hex(4)}"
    dsn = base.set(drivername="postgresql").render_as_string(hide_password=False)

    async def admin(sql: str) -> None:
        conn = await asyncpg.connect(dsn)
        try:
            await conn.execute(sql)
        finally:
            await conn.close()

    asyncio.run(admin(f'CREATE DATABASE "{name}"'))
    url = base.set(database=name).render_as_string(hide_password=False)
    return url, lambda: asyncio.run(admin(f'DROP DATABASE "{name}" WITH (FORCE)'))


def report(label: str, result: dict[str, Any], raw_rate: float | None) -> None:
    print(f"\n{label}")
    print(
        f"  sustained: {result['rate']:,.0f} replies/s ({result['messages']:,} in "
        f"{result['seconds']:.2f} s, {result['batches']:,} commits, largest batch "
        f"{result['largest_batch']})"
    )
    print(f"  CPU time (all threads) per reply: {result['cpu_us_per_message']:.0f} µs")
    print(
        f"  event to commit at full load: p50 {result['p50_ms']:.1f} ms, "
        f"p99 {result['p99_ms']:.1f} ms"
    )
    paced_result = result["paced"]
    print(
        f"  event to commit at {paced_result['messages'] / paced_result['seconds']:,.0f} "
        f"replies/s: p50 {paced_result['p50_ms']:.1f} ms, p99 {paced_result['p99_ms']:.1f} ms"
    )
    print(f"  peak memory (RSS): {result['peak_rss_mb']:.0f} MB")
    if raw_rate:
        print(f"  ratio to the raw sqlite3 ceiling: {result['rate'] / raw_rate:.2f}")


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.split("\n")[0])
    parser.add_argument("--groups", type=int, default=400)
    parser.add_argument("--people", type=int, default=8)
    parser.add_argument("--messages", type=int, default=100_000)
    parser.add_argument("--batch-size", type=int, default=500)
    parser.add_argument("--rate", type=float, default=1000.0)
    parser.add_argument("--paced-seconds", type=float, default=10.0)
    parser.add_argument("--postgres", default=os.environ.get("DIALOGUE_BENCH_DATABASE_URL"))
    parser.add_argument("--json", action="store_true", help="print the results as JSON too")
    args = parser.parse_args()
    shape = Shape(
        args.groups, args.people, args.messages, args.batch_size, args.rate, args.paced_seconds
    )
    print(
        f"{os.cpu_count()} CPUs, Python {sys.version.split()[0]}, SQLite "
        f"{sqlite3.sqlite_version}; {shape.groups} groups x {shape.people} people, "
        f"{shape.messages:,} replies, batches of up to {shape.batch_size}"
    )
    results: dict[str, Any] = {}
    with ProcessPoolExecutor(max_workers=1, mp_context=get_context("spawn")) as pool:
        results["raw"] = pool.submit(scenario, "raw", None, shape).result()
    print(f"\nraw sqlite3 executemany ceiling: {results['raw']['rate']:,.0f} rows/s")
    with ProcessPoolExecutor(max_workers=1, mp_context=get_context("spawn")) as pool:
        results["sqlite"] = pool.submit(scenario, "service", None, shape).result()
    report("SQLite through Service + writer", results["sqlite"], results["raw"]["rate"])
    if args.postgres:
        url, drop = postgres_url(args.postgres)
        try:
            with ProcessPoolExecutor(max_workers=1, mp_context=get_context("spawn")) as pool:
                results["postgresql"] = pool.submit(scenario, "service", url, shape).result()
        finally:
            drop()
        report("PostgreSQL through Service + writer", results["postgresql"], None)
    if args.json:
        print(json.dumps(results, indent=2, default=str))


if __name__ == "__main__":
    main()
