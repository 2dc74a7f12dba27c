"""Capture benchmark: synthetic replies through the real service and writer into a database.

    python bench/capture_bench.py                    # SQLite, and PostgreSQL if configured
    python bench/capture_bench.py --messages 200000 --groups 500
    python bench/capture_bench.py --only-console     # one busy group through the console
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
import io
import json
import os
import resource
import secrets
import sqlite3
import sys
import tempfile
import time
from collections.abc import AsyncIterator
from concurrent.futures import ProcessPoolExecutor
from multiprocessing import get_context
from pathlib import Path
from typing import Any

from capture_load import (
    Shape,
    Submission,
    build,
    captured,
    paced,
    prepare,
    raw_ceiling,
    replies,
    reply_text,
    sustained,
)

from bot.platforms.console.adapter import ConsolePlatform
from bot.texts import Catalogue


async def service_run(url: str, shape: Shape, own_process: bool = True) -> dict[str, Any]:
    service, store, engine = await build(url, shape, own_process)
    try:
        await prepare(service, shape)
        await sustained(service.handle, replies(shape, 0, shape.warm))
        # A steady load first, as in a normal session; then as fast as the groups can post.
        before = store.stats.batches
        steady = await paced(service, shape, shape.warm, shape.paced)
        steady["batches"] = store.stats.batches - before
        before = store.stats.batches
        result = await sustained(service.handle, replies(shape, shape.ahead, shape.messages), store)
        result["rate"] = result["messages"] / result["seconds"]
        result["batches"] = store.stats.batches - before
        result["largest_batch"] = store.stats.largest_batch
        result["waited"] = store.stats.waited
        result["paced"] = steady
    finally:
        await store.close()
        await engine.dispose()
    result["peak_rss_mb"] = resource.getrusage(resource.RUSAGE_SELF).ru_maxrss / 1024
    return result


async def writer_run(url: str, shape: Shape) -> dict[str, Any]:
    """The writer alone: the captures the service would submit, over the same sizes."""
    service, store, engine = await build(url, shape)

    async def submit(submission: Submission) -> bool:
        return await store.apply_once(submission.message, submission.captures)

    try:
        await prepare(service, shape)
        await sustained(submit, captured(service, replies(shape, 0, shape.ahead)))
        result = await sustained(
            submit, captured(service, replies(shape, shape.ahead, shape.messages)), store
        )
        result["rate"] = result["messages"] / result["seconds"]
    finally:
        await store.close()
        await engine.dispose()
    return result


class Acks(io.StringIO):
    """The console's output, kept to count its acknowledgements."""

    def acknowledged(self) -> int:
        return self.getvalue().count("[ack ")


async def console_run(url: str, shape: Shape, count: int) -> dict[str, Any]:
    """One busy group through the console: ``count`` reply lines, fed as a replay feeds them.

    The lines are made before the clock starts; the clock stops at the last ``[ack N]``, once
    every reply is committed.
    """
    console = ConsolePlatform("busy", Catalogue.load(), "en", Acks(), "setup")
    service, store, engine = await build(url, shape, groups=frozenset({console.group}))
    service.attach(console)
    people = [f"p{p}" for p in range(shape.people)]
    setup = [f"lead: /{c}" for c in ("start health-data-intro", "next", "next")]
    setup += [f"{p}: /agree participate" for p in people]

    def said(start: int, n: int) -> list[str]:
        return [f"{people[i % len(people)]}: {reply_text(i)}" for i in range(start, start + n)]

    async def feed(input_id: str, lines: list[str]) -> Acks:
        out = Acks()
        platform = ConsolePlatform("busy", console.texts, "en", out, input_id)

        async def each() -> AsyncIterator[str]:
            for line in lines:
                yield line

        await platform.feed(each(), service.submit, service.clock, False, acknowledge=True)
        return out

    try:
        await feed("setup", setup)
        await feed("warm", said(0, shape.warm))
        timed = said(shape.warm, count)
        first, submitted = store.stats.batches, store.stats.submissions - store.stats.duplicates
        began, cpu = time.perf_counter(), time.process_time()
        out = await feed("timed", timed)
        elapsed, cpu = time.perf_counter() - began, time.process_time() - cpu
        commits = store.stats.batches - first
        stored = store.stats.submissions - store.stats.duplicates - submitted
    finally:
        await store.close()
        await engine.dispose()
    return {
        "messages": out.acknowledged(),
        "seconds": elapsed,
        "rate": out.acknowledged() / elapsed,
        "loop_us_per_message": 1e6 * cpu / count,
        "batches": commits,
        "stored": stored,
        "largest_batch": store.stats.largest_batch,
    }


def scenario(name: str, url: str | None, shape: Shape, console: int = 0) -> dict[str, Any]:
    """Run one scenario in this (fresh) process (``console``: the replies of that one)."""
    with tempfile.TemporaryDirectory(prefix="capture-bench-") as directory:
        if name == "raw":
            return raw_ceiling(shape, directory, shape.ahead)
        url = url or f"sqlite+aiosqlite:///{directory}/bench.db"
        if name == "console":
            return asyncio.run(console_run(url, shape, console))
        if name == "writer":
            return asyncio.run(writer_run(url, shape))
        return asyncio.run(service_run(url, shape, own_process=name == "service"))


def postgres_url(server: str) -> tuple[str, Any]:
    """A fresh database on the server, and a function that drops it."""
    import asyncpg  # only needed for PostgreSQL runs
    from sqlalchemy.engine import make_url

    from storage.db import default_keys

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

    def drop() -> None:
        asyncio.run(admin(f'DROP DATABASE "{name}" WITH (FORCE)'))
        Path(default_keys(url)).unlink(missing_ok=True)  # its people's keys go with it

    return url, drop


def report(label: str, result: dict[str, Any], raw_rate: float | None) -> None:
    print(f"\n{label}")
    print(
        f"  sustained: {result['rate']:,.0f} replies/s ({result['messages']:,} in "
        f"{result['seconds']:.2f} s, {result['batches']:,} commits, largest batch "
        f"{result['largest_batch']})"
    )
    print(
        f"  CPU time per reply: {result['cpu_us_per_message']:.0f} µs in all, "
        f"{result['loop_us_per_message']:.0f} µs on the event loop's thread, "
        f"{result['writer_process_us_per_message']:.0f} µs in the writer's process"
    )
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
    here = result.get("here")
    if here:
        print(
            f"  with the writer committing in the bot's own process instead: "
            f"{here['rate']:,.0f} replies/s, {here['loop_us_per_message']:.0f} µs of event-loop "
            f"CPU per reply, p99 {here['paced']['p99_ms']:.1f} ms at "
            f"{here['paced']['messages'] / here['paced']['seconds']:,.0f} replies/s"
            + (f"; ratio to the raw ceiling {here['rate'] / raw_rate:.2f}" if raw_rate else "")
        )
    alone = result.get("writer")
    if alone:
        print(
            f"  the writer alone (the same captures, submitted straight to it): "
            f"{alone['rate']:,.0f} replies/s, {alone['loop_us_per_message']:.0f} µs of "
            f"event-loop CPU per reply"
            + (f"; ratio to the raw ceiling {alone['rate'] / raw_rate:.2f}" if raw_rate else "")
        )


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.split("\n")[0])
    parser.add_argument("--groups", type=int, default=400)
    parser.add_argument("--people", type=int, default=8)
    parser.add_argument("--messages", type=int, default=100_000)
    parser.add_argument("--batch-size", type=int, default=500)
    parser.add_argument("--rate", type=float, default=1000.0)
    parser.add_argument("--paced-seconds", type=float, default=10.0)
    parser.add_argument("--postgres", default=os.environ.get("DIALOGUE_BENCH_DATABASE_URL"))
    parser.add_argument(
        "--console",
        type=int,
        default=20_000,
        help="replies fed to one busy group through the console (0: none)",
    )
    parser.add_argument(
        "--only-console", action="store_true", help="the raw ceiling and the console alone"
    )
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
    if args.console:
        with ProcessPoolExecutor(max_workers=1, mp_context=get_context("spawn")) as pool:
            busy = pool.submit(scenario, "console", None, shape, args.console).result()
        results["console"] = busy
        print(
            f"\nOne group of {shape.people} through the console, {busy['messages']:,} replies: "
            f"{busy['rate']:,.0f} replies/s ({busy['seconds']:.2f} s, {busy['batches']:,} "
            f"commits, largest batch {busy['largest_batch']}, "
            f"{busy['loop_us_per_message']:.0f} µs of the bot's CPU per reply); "
            f"ratio to the raw ceiling {busy['rate'] / results['raw']['rate']:.2f}"
        )
    if args.only_console:
        if args.json:
            print(json.dumps(results, indent=2, default=str))
        return
    with ProcessPoolExecutor(max_workers=1, mp_context=get_context("spawn")) as pool:
        results["sqlite"] = pool.submit(scenario, "service", None, shape).result()
    with ProcessPoolExecutor(max_workers=1, mp_context=get_context("spawn")) as pool:
        results["sqlite"]["here"] = pool.submit(scenario, "service-here", None, shape).result()
    with ProcessPoolExecutor(max_workers=1, mp_context=get_context("spawn")) as pool:
        results["sqlite"]["writer"] = pool.submit(scenario, "writer", None, shape).result()
    report("SQLite through Service + writer", results["sqlite"], results["raw"]["rate"])
    if args.postgres:
        url, drop = postgres_url(args.postgres)
        try:
            with ProcessPoolExecutor(max_workers=1, mp_context=get_context("spawn")) as pool:
                results["postgresql"] = pool.submit(scenario, "service", url, shape).result()
        finally:
            drop()
        url, drop = postgres_url(args.postgres)
        try:
            with ProcessPoolExecutor(max_workers=1, mp_context=get_context("spawn")) as pool:
                here = pool.submit(scenario, "service-here", url, shape).result()
                results["postgresql"]["here"] = here
        finally:
            drop()
        report("PostgreSQL through Service + writer", results["postgresql"], None)
    if args.json:
        print(json.dumps(results, indent=2, default=str))


if __name__ == "__main__":
    main()
