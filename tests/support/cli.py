"""Running the ``dialogue`` command as a user does: in a fresh process, with none of the
``DIALOGUE_`` settings of the test's own environment but those a test gives."""

from __future__ import annotations

import os
import subprocess
import sys
from collections.abc import Mapping, Sequence
from pathlib import Path
from typing import Any

ROOT = Path(__file__).resolve().parents[2]


def clean_env(extra: Mapping[str, str] | None = None) -> dict[str, str]:
    """This process's environment without its ``DIALOGUE_`` settings, plus ``extra``."""
    env = {k: v for k, v in os.environ.items() if not k.startswith("DIALOGUE_")}
    return {**env, **(extra or {})}


def command(config: Path | None, *args: str) -> list[str]:
    """The command line of ``dialogue [--config CONFIG] ARGS`` in this Python."""
    chosen = [] if config is None else ["--config", str(config)]
    return [sys.executable, "-m", "bot.cli.main", *chosen, *args]


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
    return subprocess.run(
        command(config, *args),
        cwd=cwd,
        env=clean_env(env),
        input=typed,
        capture_output=True,
        text=True,
        timeout=timeout,
        check=False,
    )


def launch(
    config: Path,
    *args: str,
    env: Mapping[str, str] | None = None,
    stderr: int | None = subprocess.PIPE,
    **popen: Any,
) -> subprocess.Popen[str]:
    """Start ``dialogue --config CONFIG ARGS`` and leave it running, its input and output piped
    (and its errors, unless ``stderr`` says otherwise)."""
    return subprocess.Popen(
        command(config, *args),
        cwd=ROOT,
        env=clean_env(env),
        stdin=subprocess.PIPE,
        stdout=subprocess.PIPE,
        stderr=stderr,
        text=True,
        **popen,
    )


def type_lines(bot: subprocess.Popen[str], lines: Sequence[str], ack: int) -> None:
    """Type ``lines`` into a running console bot, then wait until it acknowledges line ``ack``
    (counted from its start)."""
    assert bot.stdin is not None and bot.stdout is not None
    bot.stdin.write("\n".join(lines) + "\n")
    bot.stdin.flush()
    for output in bot.stdout:
        if output.startswith(f"[ack {ack}]"):
            return


def write_config(path: Path, database_url: str, more: str = "", content: Path = ROOT) -> Path:
    """A settings file at ``path``: the database, the content folder, and ``more`` TOML."""
    path.write_text(
        f'[database]\nurl = "{database_url}"\n[content]\nroot = "{content}"\n{more}',
        encoding="utf-8",
    )
    return path
