"""What an export's two processes load: nothing they do not use (each library costs memory)."""

import gc
import platform
import re
import subprocess
import sys
import tracemalloc
import weakref
import zipfile
from contextlib import AbstractAsyncContextManager
from datetime import UTC, datetime, timedelta
from pathlib import Path
from typing import Any

import numpy as np
import pytest
from sqlalchemy import insert
from sqlalchemy.ext.asyncio import AsyncConnection, AsyncEngine

import exporters.dataset
import storage.datasets
from bot.content.check import load_library
from bot.core.ids import GroupRef
from exporters.aggregates import Aggregates
from exporters.case_replies import CaseReplies
from exporters.cycle_read import Visits, read_cycle
from exporters.dataset import ExportOptions, export_dataset
from exporters.formats import FORMATS
from exporters.parquet_tables import arrow_schema
from exporters.pseudonymise import Pseudonymiser
from exporters.qdpx import Qdpx
from exporters.schema import tables_for
from exporters.sink import BATCH
from exporters.themes import OpenReplies, Theme, find_themes, reply_batches
from exporters.transcripts import Transcripts
from exporters.walk import give_back_freed_memory
from exporters.writer import Ending, Replies, SessionPart, Writers
from storage import tables
from storage.dataset_records import StepVisitRow
from storage.datasets import Datasets
from storage.db import make_engine, scanning, sqlite_pragma
from tests.support.export_cycle import bench_database

ROOT = Path(__file__).resolve().parents[1]

T0 = datetime(2026, 3, 1, 9, 0, tzinfo=UTC)
STEP = ("intro", "q1")


def _run(code: str, *args: str) -> str:
    """``code`` in a fresh interpreter at the project root; what it printed last."""
    done = subprocess.run(
        [sys.executable, "-c", code, *args],
        cwd=ROOT,
        capture_output=True,
        text=True,
        check=True,
        timeout=300,
    )
    return done.stdout.strip().splitlines()[-1]


def test_an_export_never_loads_pandas_into_its_own_process(tmp_path: Path) -> None:
    # pyarrow imports pandas (over 30 MB) on the first array it builds from Python objects.
    code = (
        "import sys; from pathlib import Path; sys.path.insert(0, 'bench'); "
        "import export_bench as bench; db = Path(sys.argv[1]); bench.generate(db, 400); "
        "bench.export(db, Path(sys.argv[2])); "
        "print(sorted(m for m in sys.modules if m.partition('.')[0] == 'pandas'))"
    )
    assert _run(code, str(tmp_path / "bench.db"), str(tmp_path / "out")) == "[]"
    assert (tmp_path / "out" / "responses.parquet").is_file()


def test_the_analyses_process_loads_no_database_library() -> None:
    # The analyses' process imports ``exporters.analyses`` for its code: SQLAlchemy and the
    # storage layer would add about 20 MB to its peak, for nothing it does.
    code = (
        "import sys, exporters.analyses; "
        "print(sorted({m.partition('.')[0] for m in sys.modules} & {'sqlalchemy', 'storage'}))"
    )
    assert _run(code) == "[]"


async def test_an_export_scan_reads_with_a_small_page_cache_and_leaves_the_usual_one(
    sqlite_url: str,
) -> None:
    # 32 MiB of page cache and as much for SQLite's sorter grew the export's peak with the
    # cycle; a scan reads each page once. (A SQLite connection's cache: PostgreSQL has none.)
    engine = make_engine(sqlite_url)
    try:
        async with scanning(engine) as conn:
            scanned = (await conn.get_raw_connection()).driver_connection
            during = await sqlite_pragma(conn, "PRAGMA cache_size")
        async with engine.connect() as conn:
            again = (await conn.get_raw_connection()).driver_connection
            after = await sqlite_pragma(conn, "PRAGMA cache_size")
    finally:
        await engine.dispose()
    assert during == (-2000,)
    assert again is scanned, "the pool hands the same connection back"
    assert after == (-32768,)


@pytest.mark.skipif(platform.libc_ver()[0] != "glibc", reason="glibc's malloc_trim")
def test_memory_freed_in_the_walk_goes_back_to_the_system() -> None:
    # 200 MB in 1 kB blocks (C heap, not Python's small-object arenas), a block kept every
    # hundred so the heap's top cannot shrink by itself, then the rest freed.
    code = (
        "from pathlib import Path; from exporters.walk import give_back_freed_memory\n"
        "def rss(): return int(Path('/proc/self/status').read_text()"
        ".split('VmRSS:')[1].split()[0]) // 1024\n"
        "freed = [bytes(1000) + bytes([n % 256]) for n in range(200_000)]\n"
        "kept = freed[::100]\n"
        "del freed\n"
        "before = rss(); give_back_freed_memory(); print(before - rss())"
    )
    assert int(_run(code)) > 100


def test_step_visits_wait_for_the_report_in_a_few_bytes_each() -> None:
    # A visit for every step of every session is held from before the walk to the report: as
    # rows (a dataclass and a datetime each) about 200 bytes a visit, 17 MB at 1,000,000 replies.
    sessions = [f"session-{n}" for n in range(5_000)]

    def page(n: int) -> list[StepVisitRow]:
        # Rows as the database read makes them, a page at a time.
        at = T0 + timedelta(minutes=n, microseconds=7)
        return [StepVisitRow(sessions[n], step, at + timedelta(seconds=step)) for step in range(17)]

    tracemalloc.start()
    try:
        before = tracemalloc.get_traced_memory()[0]
        visits = Visits()
        for n in range(len(sessions)):
            visits.add(page(n))
        held = tracemalloc.get_traced_memory()[0] - before
    finally:
        tracemalloc.stop()
    assert held < 40 * 85_000, f"{held / 85_000:.0f} bytes a visit"
    assert visits.of(sessions[3]) == page(3)
    assert visits.of(sessions[-1])[-1].started_at.tzinfo is UTC
    assert visits.shown(sessions[3]) == frozenset(range(17))
    assert visits.of("no such session") == [] and not visits.shown("no such session")


def test_step_visits_of_a_session_that_came_apart_are_refused() -> None:
    visits = Visits()
    visits.add([StepVisitRow("a", 0, T0), StepVisitRow("b", 0, T0)])
    with pytest.raises(RuntimeError, match="came apart"):
        visits.add([StepVisitRow("a", 1, T0)])


async def test_an_export_reads_step_visits_as_the_database_holds_them(tmp_path: Path) -> None:
    db = await bench_database(tmp_path, 2_000)
    engine = make_engine(f"sqlite+aiosqlite:///{db}")
    try:
        datasets = Datasets(engine)
        read = await read_cycle(datasets, load_library(ROOT), "c1")
        rows = await datasets.step_visits("c1")
    finally:
        await engine.dispose()
    assert rows, "the bench's sessions show steps"
    assert [v for s in read.sessions for v in read.visits.of(s.session_id)] == rows


async def test_what_an_export_reads_before_its_walk_is_read_in_scans(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    # Each reads much of the database once (the returning people's query a union of every
    # reply and vote, sorted): with the connection's 32 MiB page cache, its pages were freed
    # afterwards into holes of the C heap, resident through the whole walk.
    db = await bench_database(tmp_path, 2_000)
    scans = 0

    def scan(engine: AsyncEngine) -> AbstractAsyncContextManager[AsyncConnection]:
        nonlocal scans
        scans += 1
        return scanning(engine)

    monkeypatch.setattr(storage.datasets, "scanning", scan)
    engine = make_engine(f"sqlite+aiosqlite:///{db}")
    datasets = Datasets(engine)
    reads = {
        "returning": lambda: datasets.returning("c1", T0),
        "counts": lambda: datasets.counts("c1"),
        "step_visits": lambda: datasets.step_visits("c1"),
        "card_exposures": lambda: datasets.card_exposures("c1"),
        "reply counts": lambda: datasets._reply_counts(["s1"]),
    }
    unscanned = []
    try:
        for name, read in reads.items():
            before = scans
            await read()
            if scans == before:
                unscanned.append(name)
    finally:
        await engine.dispose()
    assert unscanned == []


def test_a_themes_replies_go_to_the_tables_a_batch_at_a_time() -> None:
    # A Python row a themed reply, made from a theme's whole list of numbers at once, took
    # tens of MB at the end of an export of 1,000,000 replies.
    refs = np.arange(1, 300_001, dtype=np.int64)[::-1].copy()
    theme = Theme("care-data", "Care data", ("care", "data"), refs, 9, ())
    small = Theme("trust", "Trust", ("trust",), np.array([5, 2, 9]), 2, ())
    schema = arrow_schema(next(t for t in tables_for("research") if t.name == "theme_replies"))
    list(reply_batches([small], schema, BATCH))  # pyarrow loads what it needs the first time
    tracemalloc.start()
    try:
        sizes, ids, numbers = [], set(), []
        for batch in reply_batches([theme, small], schema, BATCH):
            sizes.append(batch.num_rows)
            ids.update(batch.column(0).unique().to_pylist())
            numbers.append(batch.column(1).to_numpy())
            assert batch.schema == schema
        peak = tracemalloc.get_traced_memory()[1]
    finally:
        tracemalloc.stop()
    assert sizes == [BATCH] * 60 + [3]
    assert ids == {"care-data", "trust"}
    assert np.array_equal(np.concatenate(numbers), np.concatenate([refs, [5, 2, 9]]))
    assert peak < 8 * 300_000, f"{peak / 300_000:.0f} bytes a themed reply at the peak"


def test_the_open_replies_details_are_read_back_in_arrays_made_once() -> None:
    # Read while the themes' answer waits, at the end of the export: pieces joined at the
    # end held every reply's number, author and quotability twice (26 bytes a reply).
    replies = OpenReplies()
    count = 200_000
    numbers = range(count)
    replies.extend(
        [n * 3 for n in numbers],
        [f"p{n % 1_000}" for n in numbers],
        ["a reply"] * count,
        [n % 2 == 0 for n in numbers],
    )
    try:
        replies.details()  # the temporary file is read once before measuring
        tracemalloc.start()
        try:
            found = replies.details()
            peak = tracemalloc.get_traced_memory()[1]
        finally:
            tracemalloc.stop()
    finally:
        replies.close()
    assert np.array_equal(found.refs, np.arange(count) * 3)
    assert found.authors[1_001] == 1 and found.quotable[:2].tolist() == [True, False]
    assert peak < 18 * count, f"{peak / count:.0f} bytes a reply at the peak"


async def test_freed_memory_goes_back_after_the_walk_the_analyses_and_the_writers(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    # Each leaves freed pages (the walk's pages of replies; every open reply's details and
    # the analyses' answer; what the writers kept for their finish, REFI-QDA's cases) that
    # would stay resident to the end of the export.
    db = await bench_database(tmp_path, 2_000)
    trims: list[str] = []

    def trim() -> None:
        trims.append("trim")
        give_back_freed_memory()

    monkeypatch.setattr(exporters.dataset, "give_back_freed_memory", trim)
    analysed = exporters.dataset._analyses_of

    def analyses(*args: Any) -> Any:
        trims.append("analyses")
        found = analysed(*args)
        trims.append("answered")
        return found

    monkeypatch.setattr(exporters.dataset, "_analyses_of", analyses)
    finished = Writers.finish

    def finish(writers: Writers, ending: Ending) -> dict[Path, int]:
        kept = [weakref.ref(w) for w in writers._all]
        counted = finished(writers, ending)
        gc.collect()
        trims.append(f"finished, {sum(w() is not None for w in kept)} of {len(kept)} kept")
        return counted

    monkeypatch.setattr(Writers, "finish", finish)
    engine = make_engine(f"sqlite+aiosqlite:///{db}")
    options = ExportOptions(out=tmp_path / "out", cycle_id="c1", made_by="test", now=T0)
    try:
        await export_dataset(
            Datasets(engine), load_library(ROOT), Pseudonymiser(b"k" * 32), options
        )
    finally:
        await engine.dispose()
    kept = f"finished, 0 of {len(FORMATS)} kept"  # the research profile: every format
    assert trims == ["trim", "analyses", "trim", "answered", kept, "trim"]


def test_the_themes_keep_four_bytes_a_themed_reply_to_the_end_of_the_export() -> None:
    # Each theme kept its rows in the open replies (4 bytes a reply) and their numbers (8),
    # from the analyses' answer to the report, where only the numbers are used, and fit 32 bits.
    replies = OpenReplies()
    count = 100_000
    replies.extend(list(range(7, count + 7)), ["p1", "p2"] * (count // 2), ["a reply"] * count,
                   [True] * count)  # fmt: skip
    try:
        half = np.arange(count // 2, dtype=np.int32)
        tracemalloc.start()
        try:
            placed = [(("care",), half * 2), (("trust",), half * 2 + 1)]
            found = find_themes(replies, placed)
            del placed
            gc.collect()
            kept = tracemalloc.get_traced_memory()[0]
        finally:
            tracemalloc.stop()
    finally:
        replies.close()
    assert [(t.id, t.refs[:2].tolist(), len(t.refs)) for t in found] == [
        ("care", [7, 9], count // 2),
        ("trust", [8, 10], count // 2),
    ]
    assert kept < 5 * count, f"{kept / count:.1f} bytes a themed reply kept"


def test_a_refi_qda_project_keeps_nothing_a_reply_until_its_cases_are_written(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    # Each case kept its person's reply ids (8 bytes a reply) from the walk to the finish.
    monkeypatch.setattr(CaseReplies, "BATCH", 1_000)
    qdpx = Qdpx(tmp_path / "dialogue.qdpx", "Cycle c1", "seed", T0)
    people = [f"p{n}" for n in range(10)]
    qdpx.cases({person: {"groups": "g1"} for person in people})
    said, named = iter(range(1, 1_000_000)), iter(range(100))

    def replies(sessions: int) -> None:
        # Sessions of 2,000 replies, in runs of 100.
        for _ in range(sessions):
            qdpx.session(SessionPart(f"s{next(named)}", "g1", "c1", "intro", "1", None, T0, T0))
            for _ in range(20):
                refs = [next(said) for _ in range(100)]
                speakers = [people[r % 10] for r in refs]
                qdpx.replies(
                    Replies(refs, [("intro", "q1")] * 100, speakers, ["yes"] * 100, [T0] * 100)
                )
            qdpx.end_session()

    replies(3)
    tracemalloc.start()
    try:
        replies(20)
        grown = tracemalloc.get_traced_memory()[0]
    finally:
        tracemalloc.stop()
    qdpx.finish(Ending((), {}))
    assert grown < 40_000, f"{grown / 40_000:.1f} bytes a reply kept"
    with zipfile.ZipFile(tmp_path / "dialogue.qdpx") as project:
        qde = project.read("project.qde").decode("utf-8")
    cases = re.findall(r'<Case guid="[^"]+" name="(p\d)">(.*?)</Case>', qde)
    assert [name for name, _ in cases] == people
    for n, (_, case) in enumerate(cases):
        numbers = [int(x, 16) for x in re.findall(r'-0001-([0-9a-f]{12})"/>', case)]
        assert numbers == list(range(10 if n == 0 else n, 46_001, 10))


def test_the_cases_replies_are_read_back_a_bounded_range_of_cases_at_a_time(
    monkeypatch: pytest.MonkeyPatch,
) -> None:
    monkeypatch.setattr(CaseReplies, "BATCH", 1_000)
    waiting = CaseReplies(limit=2_000)
    rng = np.random.default_rng(5)
    cases = rng.integers(0, 50, 100_000)
    cases[cases == 7] = 8  # a case with no replies
    for at in range(0, len(cases), 300):
        waiting.add(cases[at : at + 300].tolist(), range(at, min(at + 300, len(cases))))
    tracemalloc.start()
    try:
        found = [replies.copy() for replies in waiting.by_case(51)]
        peak = tracemalloc.get_traced_memory()[1] - sum(r.nbytes for r in found)
    finally:
        tracemalloc.stop()
        waiting.close()
    for case, replies in enumerate(found):
        assert np.array_equal(replies, np.flatnonzero(cases == case))
    assert peak < 100_000, f"{peak} bytes at the peak for 100,000 replies"


def test_the_transcripts_keep_nothing_a_session(tmp_path: Path) -> None:
    # Each session's file path was kept to the end of the export (about 280 bytes a session).
    transcripts = Transcripts(tmp_path / "transcripts")

    def sessions(names: range) -> None:
        for n in names:
            transcripts.session(SessionPart(f"s{n}", "g1", "c1", "intro", "1", None, T0, T0))
            transcripts.replies(Replies([n], [("intro", "q1")], ["p1"], ["yes"], [T0], [False]))
        transcripts.end_session()

    sessions(range(10))
    tracemalloc.start()
    try:
        sessions(range(10, 2_010))
        grown = tracemalloc.get_traced_memory()[0]
    finally:
        tracemalloc.stop()
    transcripts.finish(Ending((), {}))
    assert grown < 20 * 2_000, f"{grown / 2_000:.0f} bytes a session kept"
    assert len(list((tmp_path / "transcripts").iterdir())) == 2_010


def test_the_people_of_each_group_and_step_take_a_few_bytes_a_pair() -> None:
    # A set of people a (group, step), and one a group, took about 90 bytes a (group, person)
    # pair between them: with a cycle's groups, they grew to the end of the export.
    agg = Aggregates()
    people = [f"p-{n:016x}" for n in range(40)]
    for person in people:
        agg.reply("g-first", STEP, person, T0.date())
    groups = [f"g{n}" for n in range(5_000)]
    tracemalloc.start()
    try:
        for group in groups:
            for person in people:
                agg.reply(group, STEP, person, T0.date())
        grown = tracemalloc.get_traced_memory()[0]
    finally:
        tracemalloc.stop()
    pairs = len(groups) * len(people)
    assert grown < 40 * pairs, f"{grown / pairs:.0f} bytes a (group, person) pair kept"
    assert set(agg.repliers.counts().values()) == {len(people)}
    assert len(agg.repliers.counts()) == len(groups) + 1


def test_the_people_of_each_group_and_step_are_counted_once_each() -> None:
    # Pairs are merged a bufferful at a time: the same pair in two buffers is one person.
    agg = Aggregates()
    seen: dict[tuple[str, str, str], set[str]] = {}
    groups: dict[str, set[str]] = {}
    for n in range(150_000):
        group, person = f"g{n % 7}", f"p{(n * 7919) % 3_001}"
        step = ("s", f"q{n % 3}")
        agg.reply(group, step, person, T0.date())
        seen.setdefault((group, *step), set()).add(person)
        groups.setdefault(group, set()).add(person)
    agg.vote("g-voted", STEP, "p-only-voted", [1])
    groups["g-voted"] = {"p-only-voted"}
    assert agg.repliers.counts() == {key: len(who) for key, who in seen.items()}
    assert agg.people.counts() == {group: len(who) for group, who in groups.items()}
    assert agg.new_and_returning == {"new": 3_002, "returning": 0}


async def test_the_sessions_an_export_holds_keep_what_they_share_once(migrated_url: str) -> None:
    # Every session's group, cycle, script, version and status were strings of their own as
    # the driver made them (about 790 bytes a session in all, held through the export).
    engine = make_engine(migrated_url)
    try:
        async with engine.begin() as conn:
            await conn.execute(
                insert(tables.groups),
                [
                    {"id": g + 1, "platform": "telegram", "chat_id": f"-{g}", "title": f"G {g}"}
                    | {"created_at": T0}
                    for g in range(5)
                ],
            )
            await conn.execute(
                insert(tables.sessions),
                [
                    {
                        "id": f"session-{n:06d}",
                        "group_id": n % 5 + 1,
                        "cycle_id": "c1",
                        "script_id": "intro",
                        "script_version": "1",
                        "content_version": "ab" * 32,
                        "status": "ended",
                        "step_index": 2,
                        "started_at": T0 + timedelta(minutes=n),
                        "ended_at": T0 + timedelta(minutes=n + 50),
                        "updated_at": T0,
                    }
                    for n in range(2_000)
                ],
            )
        datasets = Datasets(engine)
        await datasets.sessions("c1")  # the query compiled, the driver's caches filled
        tracemalloc.start()
        try:
            sessions = await datasets.sessions("c1")
            kept = tracemalloc.get_traced_memory()[0]
        finally:
            tracemalloc.stop()
    finally:
        await engine.dispose()
    assert len(sessions) == 2_000
    assert {s.group for s in sessions} == {GroupRef("telegram", f"-{g}") for g in range(5)}
    assert sessions[7].group_title == "G 2" and sessions[7].content_version == "ab" * 32
    assert kept < 450 * len(sessions), f"{kept / len(sessions):.0f} bytes a session"


def test_a_page_of_replies_is_counted_as_its_replies_one_by_one() -> None:
    # The walk counts a page at once (``replies_of``): the same counts as a reply at a time.
    rows = [
        (f"g{n % 3}", ("s", f"q{n % 4}"), f"p{(n * 31) % 17}", T0.date() + timedelta(days=n % 5))
        for n in range(2_000)
    ]
    one_by_one, paged = Aggregates(), Aggregates()
    for row in rows:
        one_by_one.reply(*row)
    for at in range(0, len(rows), 300):
        groups, steps, people, days = zip(*rows[at : at + 300], strict=True)
        paged.replies_of(groups, steps, people, days)
    for agg in (one_by_one, paged):
        agg.vote("g9", STEP, "p-voter", [2])
    assert list(paged.replies.items()) == list(one_by_one.replies.items())
    assert list(paged.days.items()) == list(one_by_one.days.items())
    assert paged.repliers.counts() == one_by_one.repliers.counts()
    assert (
        paged.people.counts()
        == one_by_one.people.counts()
        == {"g0": 17, "g1": 17}
        | {
            "g2": 17,
            "g9": 1,
        }
    )
    assert paged.new_and_returning == one_by_one.new_and_returning == {"new": 18, "returning": 0}
