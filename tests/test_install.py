"""The bot installed anywhere: it ships its sample content, and `dialogue init` makes a folder."""

from __future__ import annotations

import subprocess
import sys
import zipfile
from pathlib import Path

from tests.support.cli import ROOT, dialogue

CONTENT = ("prompts", "resources")


def shipped_files() -> set[str]:
    return {
        str(path.relative_to(ROOT))
        for folder in CONTENT
        for path in (ROOT / folder).rglob("*")
        if path.is_file()
    }


def test_the_wheel_carries_every_content_file_the_example_settings_and_the_messages(
    tmp_path: Path,
) -> None:
    built = subprocess.run(
        [sys.executable, "-m", "pip", "wheel", "--no-deps", "-q", "-w", str(tmp_path), str(ROOT)],
        capture_output=True,
        text=True,
        timeout=600,
        check=False,
    )
    assert built.returncode == 0, built.stderr
    (wheel,) = tmp_path.glob("*.whl")
    with zipfile.ZipFile(wheel) as archive:
        names = set(archive.namelist())
        for name in shipped_files() | {"config.example.toml"}:
            packed = f"bot/sample/{name}"
            assert packed in names, f"{name} is not in the wheel"
            assert archive.read(packed) == (ROOT / name).read_bytes()
        # The bot's messages: the English template and every translation, read at run time.
        texts = ROOT / "bot" / "texts"
        for path in [texts / "messages.pot", *texts.glob("*/LC_MESSAGES/messages.po")]:
            packed = str(path.relative_to(ROOT))
            assert packed in names, f"{packed} is not in the wheel"


def test_init_then_run_from_an_empty_folder_elsewhere_runs_the_demo(tmp_path: Path) -> None:
    made = dialogue(None, "init", "deployment", cwd=tmp_path)
    assert made.returncode == 0, made.stderr
    folder = tmp_path / "deployment"
    assert {str(p.relative_to(folder)) for p in folder.rglob("*") if p.is_file()} == (
        shipped_files() | {"dialogue.toml"}
    )
    assert (folder / "dialogue.toml").read_text() == (ROOT / "config.example.toml").read_text()
    (folder / "prompts" / "consent" / "en.toml").unlink()
    checked = dialogue(None, "content", "check", cwd=folder)
    # The folder's own settings and content are used, not the checkout's or the package's.
    assert checked.returncode == 1
    assert "0 consent texts" in checked.stdout
    again = dialogue(None, "init", "deployment", cwd=tmp_path)
    assert again.returncode == 2
    assert "already exists" in again.stderr and "Traceback" not in again.stderr


def test_without_any_content_here_the_shipped_sample_runs_and_nothing_is_written_to_it(
    tmp_path: Path,
) -> None:
    before = {p: p.stat().st_mtime_ns for p in (ROOT / "resources").rglob("*")}
    demo = dialogue(None, "run", "--demo", cwd=tmp_path)
    assert demo.returncode == 0, demo.stderr
    assert "Welcome! We are starting" in demo.stdout
    assert {p: p.stat().st_mtime_ns for p in (ROOT / "resources").rglob("*")} == before


def test_content_not_found_names_the_folder_and_the_setting_that_moves_it(tmp_path: Path) -> None:
    config = tmp_path / "settings.toml"
    config.write_text(f'[content]\nroot = "{tmp_path / "nowhere"}"\n', encoding="utf-8")
    checked = dialogue(config, "content", "check", cwd=tmp_path)
    assert checked.returncode == 1
    assert str(tmp_path / "nowhere" / "prompts") in checked.stdout
    assert "content.root" in checked.stdout and "dialogue init" in checked.stdout
