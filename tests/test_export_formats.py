"""Export formats are listed once: the walk feeds every listed writer, and names none of them."""

import ast
from collections.abc import Mapping
from datetime import datetime, timedelta
from pathlib import Path

import pyarrow as pa
import pytest

import exporters.dataset
from exporters.dataset import ExportOptions, export_dataset
from exporters.formats import FORMATS
from exporters.qdpx import Value
from exporters.sink import BATCH
from exporters.writer import Casts, Ending, Replies, SessionPart, Start, Writer
from storage.datasets import Datasets
from storage.db import make_engine
from storage.repositories import Repository
from tests.support.capture import STORE_KEY
from tests.support.cli import ROOT
from tests.support.export_cycle import KEY, LIBRARY, T0, TITLES, cycle_captures
from tests.support.export_text import csv_rows

# The modules of the formats; only exporters/formats.py may import their writers.
FORMAT_MODULES = {"csv_tables", "parquet_tables", "transcripts", "qdpx", "polis"}
WRITER_NAMES = {"CsvTable", "ParquetTable", "Transcripts", "Qdpx", "PolisWriter", "open_writer"}


@pytest.mark.parametrize("module", ["exporters/walk.py", "exporters/dataset.py"])
def test_the_walk_and_the_export_name_no_format(module: str) -> None:
    tree = ast.parse((ROOT / module).read_text(encoding="utf-8"))
    named = set()
    for node in ast.walk(tree):
        if isinstance(node, ast.ImportFrom) and node.module:
            leaf = node.module.split(".")[-1]
            named |= {a.name for a in node.names if leaf in FORMAT_MODULES}
            if node.module == "exporters":
                named |= {a.name for a in node.names} & FORMAT_MODULES
    assert not named & (WRITER_NAMES | FORMAT_MODULES)


class Recorder(Writer):
    """A format added to the list: it records what it is fed."""

    def __init__(self, start: Start) -> None:
        self.profile = start.profile
        self.tables: dict[str, int] = {}
        self.batches: list[int] = []
        self.sessions: list[str] = []
        self.said = 0
        self.open = False
        self.people: list[str] = []
        self.ballots = 0
        self.finished = False

    def rows(self, table: str, batch: pa.RecordBatch) -> None:
        self.tables[table] = self.tables.get(table, 0) + batch.num_rows
        self.batches.append(batch.num_rows)

    def cases(self, cases: Mapping[str, Mapping[str, Value]]) -> None:
        self.people += list(cases)

    def session(self, part: SessionPart) -> None:
        assert not self.open
        self.sessions.append(part.name)
        self.open = True

    def replies(self, batch: Replies) -> None:
        assert self.open
        self.said += len(batch)

    def end_session(self) -> None:
        self.open = False

    def casts(self, batch: Casts) -> None:
        self.ballots += len(batch)

    def finish(self, ending: Ending) -> dict[Path, int]:
        self.finished = True
        return {}


async def test_a_format_added_to_the_list_is_fed_the_whole_export(
    migrated_url: str, tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    made: list[Recorder] = []

    def open_recorder(start: Start) -> Writer:
        made.append(Recorder(start))
        return made[-1]

    monkeypatch.setattr(exporters.dataset, "FORMATS", (*FORMATS, open_recorder))
    engine = make_engine(migrated_url)
    try:
        repo = Repository(engine, STORE_KEY)
        for group, title in TITLES.items():
            await repo.set_group_title(group, title)
        await repo.apply(cycle_captures())
        for profile, day in (("research", 10), ("public", 11)):
            now: datetime = T0 + timedelta(days=day)
            options = ExportOptions(
                out=tmp_path / profile, cycle_id="c1", made_by="t", now=now, profile=profile
            )
            await export_dataset(Datasets(engine, batch_size=5), LIBRARY, KEY, options)
    finally:
        await engine.dispose()
    for recorder in made:
        out = tmp_path / recorder.profile
        assert recorder.finished and not recorder.open
        tables = {p.stem: len(csv_rows(p)) for p in out.glob("*.csv")}
        assert {t: n for t, n in tables.items() if n} == recorder.tables
        assert all(0 < n <= BATCH for n in recorder.batches)
        assert sorted(recorder.sessions) == sorted(p.stem for p in (out / "transcripts").iterdir())
        assert recorder.said == tables["responses"] > 0
    research, public = made
    votes = csv_rows(tmp_path / "research" / "polis" / "votes.csv")
    assert research.people and research.ballots == len(votes) > 0
    assert not public.people
