"""The export's replies read in a process of their own: the same pages, in order; errors surface."""

import multiprocessing
from datetime import UTC, datetime
from pathlib import Path

import pytest
from sqlalchemy import text

from bot.content.check import load_library
from exporters.dataset import ExportOptions, export_dataset
from exporters.pseudonymise import Pseudonymiser
from exporters.reply_reader import ReplyReader
from exporters.walk import Walk
from storage.datasets import Datasets
from storage.db import make_engine
from storage.keystore import KeyGone
from tests.support.capture import LIBRARY
from tests.support.export_cycle import KEY, bench_database, cycle_engine

ROOT = Path(__file__).resolve().parents[1]


def _readers() -> list[str]:
    return [p.name for p in multiprocessing.active_children() if p.name == "dialogue-replies"]


def _options(out: Path) -> ExportOptions:
    return ExportOptions(
        out=out, cycle_id="c1", made_by="tester", now=datetime(2026, 3, 2, tzinfo=UTC)
    )


async def test_the_reader_process_gives_the_pages_read_here_in_their_order(
    migrated_url: str,
) -> None:
    async with cycle_engine(migrated_url) as engine:
        datasets = Datasets(engine, batch_size=3)
        sessions = await datasets.sessions("c1")
        here = [batch async for batch in datasets.reply_batches(sessions)]
        reader = ReplyReader(datasets, sessions)
        reader.start()
        try:
            assert _readers() == ["dialogue-replies"]
            there = [batch async for batch in reader.batches()]
        finally:
            reader.close()
    assert len(here) > 2
    assert [b.columns.to_pydict() for b in there] == [b.columns.to_pydict() for b in here]
    assert [dict(b.people) for b in there] == [dict(b.people) for b in here]
    assert not _readers()


async def test_a_database_in_memory_is_read_in_the_exports_own_process() -> None:
    engine = make_engine("sqlite+aiosqlite:///:memory:")
    try:
        datasets = Datasets(engine)
        assert datasets.source() is None, "no other process can open it"
        reader = ReplyReader(datasets, [])
        reader.start()
        assert not _readers()
        reader.close()
    finally:
        await engine.dispose()


async def test_an_error_in_the_reader_is_the_exports_own_error(
    migrated_url: str, tmp_path: Path
) -> None:
    async with cycle_engine(migrated_url) as engine:
        async with engine.begin() as conn:
            # A reply's text moved to another row: it fails closed as it is opened.
            await conn.execute(
                text(
                    "UPDATE responses SET text = (SELECT text FROM responses ORDER BY id LIMIT 1)"
                    " WHERE id = (SELECT MAX(id) FROM responses)"
                )
            )
        datasets = Datasets(engine, batch_size=3)
        assert datasets.source() is not None, "read in a process of its own"
        with pytest.raises(KeyGone, match="cannot be read"):
            await export_dataset(datasets, LIBRARY, KEY, _options(tmp_path / "out"))
    assert not _readers()


async def test_a_walk_that_stops_early_ends_its_reader(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    # More pages than the pipe holds: the reader waits, mid-cycle, for the walk to take one.
    db = await bench_database(tmp_path, 3000)
    pages: list[int] = []
    page = Walk._page

    async def broken_page(walk: Walk, *args: object) -> object:
        pages.append(1)
        if len(pages) > 1:
            assert _readers(), "the reader is still reading"
            raise RuntimeError("broken for the test")
        return await page(walk, *args)  # type: ignore[arg-type]

    monkeypatch.setattr(Walk, "_page", broken_page)
    engine = make_engine(f"sqlite+aiosqlite:///{db}")
    try:
        with pytest.raises(RuntimeError, match="broken for the test"):
            await export_dataset(
                Datasets(engine, batch_size=50),
                load_library(ROOT),
                Pseudonymiser(b"k" * 32),
                _options(tmp_path / "out"),
            )
    finally:
        await engine.dispose()
    assert not _readers()
