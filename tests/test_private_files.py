"""Everything the bot writes is its owner's alone (files 0600, folders 0700) under umask 022."""

from __future__ import annotations

import os
import stat
from collections.abc import Iterator
from datetime import timedelta
from pathlib import Path

import pytest

from bot import logs
from exporters.dataset import ExportOptions, export_dataset
from storage.datasets import Datasets
from storage.db import make_engine, upgrade
from storage.repositories import Repository
from tests.support.capture import STORE_KEY
from tests.support.cli import dialogue, launch, type_lines, write_config
from tests.support.export_cycle import KEY, LIBRARY, T0, cycle_captures

EXPORT_FILES = (
    "responses.csv",
    "responses.parquet",
    "README.md",
    "MANIFEST.json",
    "datapackage.json",
    "dialogue.qdpx",
    "report.html",
    "polis/votes.csv",
)


@pytest.fixture
def usual_umask() -> Iterator[None]:
    """The umask of a shared server's accounts, inherited by the commands the test runs."""
    before = os.umask(0o022)
    try:
        yield
    finally:
        os.umask(before)


def modes(root: Path) -> dict[str, str]:
    """Every folder and file under ``root`` (and itself) with its permission bits."""
    found = {str(root): oct(stat.S_IMODE(root.stat().st_mode))}
    for path in root.rglob("*"):
        found[str(path.relative_to(root))] = oct(stat.S_IMODE(path.stat().st_mode))
    return found


def wrong(found: dict[str, str], root: Path) -> dict[str, str]:
    return {
        name: mode
        for name, mode in found.items()
        if mode != ("0o700" if (root / name).is_dir() else "0o600")
    }


def conversation() -> list[str]:
    lines = ["facilitator: /start health-data-intro"]
    for name in ("ann", "ben", "cat", "dev"):
        lines += [f"{name}: /agree participate quote", f"{name}: I think {name} matters"]
    lines.append("facilitator: /goto research-comfort")
    lines += [f"{name}: /vote {n}" for n, name in enumerate(("ann", "ben", "cat", "dev"), 2)]
    return [*lines, "facilitator: /next", "facilitator: /show"]


def run_console(config: Path, lines: list[str], deploy: Path) -> dict[str, str]:
    """Run the bot on the console; the modes of what it made, taken while it still runs."""
    bot = launch(config, "run", "--acknowledge")
    type_lines(bot, lines, len(lines))
    running = modes(deploy)
    _, err = bot.communicate(timeout=60)
    assert bot.returncode == 0, err
    return running


def test_every_file_and_folder_the_bot_and_its_exports_make_is_private(
    tmp_path: Path, usual_umask: None
) -> None:
    deploy = tmp_path / "deploy"
    more = (
        f'[logging]\nfile = "{deploy / "logs" / "dialogue.log"}"\n'
        f'[facilitation]\nconsole_images = "{deploy / "images"}"\n'
        f'[cycle]\nheard_folder = "{deploy / "drafts"}"\n'
        f'export_folder = "{deploy / "cycle-exports"}"\n'
    )
    url = f"sqlite+aiosqlite:///{deploy / 'data' / 'dialogue.db'}"
    config = write_config(tmp_path / "config.toml", url, more)
    made = dialogue(
        config, "cycle", "create", "c1", "--title", "Health data", "--start", "2020-01-01",
        "--end", "2099-01-01", "--scripts", "health-data-intro",
    )  # fmt: skip
    assert made.returncode == 0, made.stderr
    assert dialogue(config, "cycle", "open", "c1").returncode == 0

    running = run_console(config, conversation(), deploy)
    for name in ("data/dialogue.db", "data/dialogue.db-wal", "data/dialogue.db-shm"):
        assert name in running
    assert "data/dialogue.key" in running and "logs/dialogue.log" in running
    assert any(name.startswith("images/") and name.endswith(".png") for name in running)
    assert wrong(running, deploy) == {}

    closed = dialogue(config, "cycle", "close", "c1")
    assert closed.returncode == 0, closed.stderr
    exported = dialogue(config, "export", "--out", str(deploy / "exports" / "c1"))
    assert exported.returncode == 0, exported.stderr
    found = modes(deploy)
    assert "drafts/heard-c1.md" in found
    for export in ("exports/c1", "cycle-exports/c1"):
        for name in EXPORT_FILES:
            assert f"{export}/{name}" in found
        assert any(n.startswith(f"{export}/transcripts/") for n in found)
    assert wrong(found, deploy) == {}


async def test_library_callers_get_private_files_under_umask_022_too(
    tmp_path: Path, usual_umask: None, restore_logging: None
) -> None:
    """Code that calls the storage and the exporters itself never went through the command."""
    root = tmp_path / "library"
    url = f"sqlite+aiosqlite:///{root / 'data' / 'dialogue.db'}"
    await upgrade(url)
    logs.configure("INFO", root / "logs" / "dialogue.log")
    engine = make_engine(url)
    try:
        await Repository(engine, STORE_KEY).apply(cycle_captures())
        options = ExportOptions(root / "exports" / "c1", "c1", "tester", T0 + timedelta(days=9))
        await export_dataset(Datasets(engine), LIBRARY, KEY, options)
    finally:
        await engine.dispose()
    found = modes(root)
    assert "data/dialogue.db" in found and "logs/dialogue.log" in found
    assert "exports/c1/responses.csv" in found and "exports/c1/polis/comments.csv" in found
    assert wrong(found, root) == {}
