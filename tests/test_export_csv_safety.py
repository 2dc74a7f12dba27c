"""Replies a spreadsheet would run as formulas are neutralised in every CSV, exact in Parquet."""

import re
from datetime import timedelta
from pathlib import Path

import pyarrow.parquet as pq

from bot.content.check import Library
from bot.core.captures import ResponseCaptured
from exporters.dataset import ExportOptions, export_dataset
from storage.datasets import Datasets
from storage.db import make_engine
from storage.repositories import Repository
from tests.support.capture import STORE_KEY
from tests.support.export_cycle import (
    ALICE,
    CAROL,
    G1,
    G2,
    KEY,
    LIBRARY,
    SCRIPT,
    T0,
    TITLES,
    cycle_captures,
)
from tests.support.export_text import csv_rows

FORMULAS = (
    "=SUM(1+2) is what rent feels like",
    "+ more buses please",
    "-- fewer cars",
    "@ the meeting: damp everywhere",
    "\tindented thought",
    "\rcarriage return first",
)
NUMBERS = ("-5", "+3.5", "12")
STATEMENT = "=Landlords should share repair records with tenants."


def _library() -> Library:
    steps = tuple(
        s.model_copy(update={"text": STATEMENT}) if s.id == "statement" else s for s in SCRIPT.steps
    )
    script = SCRIPT.model_copy(update={"steps": steps})
    return Library(scripts={script.id: script}, cards=LIBRARY.cards)


def _replies() -> list[ResponseCaptured]:
    texts = [*FORMULAS, *NUMBERS]
    return [
        ResponseCaptured(
            session, who, group, "open", f"risky-{who.user_id}-{n}", text, T0 + timedelta(minutes=n)
        )
        for n, text in enumerate(texts)
        for who, group, session in ((ALICE, G1, "s-g1"), (CAROL, G2, "s-g2"))
    ]


async def _exports(url: str, tmp_path: Path) -> list[Path]:
    engine = make_engine(url)
    try:
        repo = Repository(engine, STORE_KEY)
        for group, title in TITLES.items():
            await repo.set_group_title(group, title)
        await repo.apply([*cycle_captures(), *_replies()])
        folders = []
        for day, profile in enumerate(("research", "public"), start=10):
            options = ExportOptions(
                out=tmp_path / profile,
                cycle_id="c1",
                made_by="tester",
                now=T0 + timedelta(days=day),
                profile=profile,
            )
            await export_dataset(Datasets(engine), _library(), KEY, options)
            folders.append(tmp_path / profile)
        return folders
    finally:
        await engine.dispose()


def _is_plain_number(cell: str) -> bool:
    return re.fullmatch(r"[+-]?(\d+\.?\d*|\.\d+)([eE][+-]?\d+)?", cell) is not None


async def test_formula_replies_are_neutralised_in_every_csv_and_exact_in_parquet(
    migrated_url: str, tmp_path: Path
) -> None:
    for folder in await _exports(migrated_url, tmp_path):
        files = sorted(folder.rglob("*.csv"))
        assert files
        cells = [c for f in files for row in csv_rows(f) for c in row.values()]
        risky = [c for c in cells if c[:1] in ("=", "+", "-", "@", "\t", "\r")]
        assert [c for c in risky if not _is_plain_number(c)] == [], folder.name
        texts = [r["text"] for r in csv_rows(folder / "responses.csv")]
        for formula in FORMULAS:
            assert texts.count("'" + formula) == 2, (folder.name, formula)
        for number in NUMBERS:
            assert texts.count(number) == 2, (folder.name, number)
        exact = pq.read_table(folder / "responses.parquet").column("text").to_pylist()
        for text in (*FORMULAS, *NUMBERS):
            assert exact.count(text) == 2, (folder.name, text)
    comments = csv_rows(tmp_path / "research" / "polis" / "comments.csv")
    assert [c["comment-body"] for c in comments] == ["'" + STATEMENT]
    readme = (tmp_path / "public" / "README.md").read_text(encoding="utf-8")
    assert "formula" in readme and "Parquet keeps" in readme
