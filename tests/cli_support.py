"""Running the ``dialogue`` command as a user does: in a fresh process, with none of the
``DIALOGUE_`` settings of the test's own environment but those a test gives."""

from __future__ import annotations

import os
import subprocess
import sys
from collections.abc import Mapping
from pathlib import Path

ROOT = Path(__file__).resolve().parents[1]


def clean_env(extra: Mapping[str, str] | None = None) -> dict[str, str]:
    """This process's environment without its ``DIALOGUE_`` settings, plus ``extra``."""
    env = {k: v for k, v in os.environ.items() if not k.startswith("DIALOGUE_")}
    return {**env, **(extra or {})}


def dialogue(
    config: Path | None,
    *args: str,
    env: Mapping[str, str] | None = None,
    cwd: Path = ROOT,
    timeout: float = 120,
    typed: str | None = None,
) -> subprocess.CompletedProcess[str]:
    """Run ``dialogue [--config CONFIG] ARGS`` with ``typed`` as its input; return what it
    printed and its exit status."""
    command = [sys.executable, "-m", "bot.cli"]
    if config is not None:
        command += ["--config", str(config)]
    return subprocess.run(
        [*command, *args],
        cwd=cwd,
        env=clean_env(env),
        input=typed,
        capture_output=True,
        text=True,
        timeout=timeout,
        check=False,
    )


def write_config(path: Path, database_url: str, more: str = "", content: Path = ROOT) -> Path:
    """A settings file at ``path``: the database, the content folder, and ``more`` TOML."""
    path.write_text(
        f'[database]\nurl = "{database_url}"\n[content]\nroot = "{content}"\n{more}',
        encoding="utf-8",
    )
    return path
