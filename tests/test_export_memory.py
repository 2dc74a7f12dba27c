"""What an export's two processes load: nothing they do not use (each library costs memory)."""

import platform
import subprocess
import sys
from pathlib import Path

import pytest

from storage.db import make_engine, scanning, sqlite_pragma

ROOT = Path(__file__).resolve().parents[1]


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
