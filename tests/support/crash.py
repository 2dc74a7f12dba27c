"""A console bot fed a long conversation while it runs, as the crash and outage tests drive it."""

from __future__ import annotations

import re
import subprocess
import threading
import time
from pathlib import Path

from tests.support.cli import launch, write_config

PEOPLE = [f"p{n}" for n in range(1, 7)]
ACK = re.compile(r"^\[ack (\d+)\]$")
ENV = {"DIALOGUE_PSEUDONYM_KEY": "crash-test-key-0123456789abcdef"}


def conversation() -> list[str]:
    """Six people who consented and one who did not, talking while the facilitator moves on."""
    lines = ["facilitator: /start health-data-intro"]
    lines += [f"{name}: /agree participate" for name in PEOPLE]
    lines.append("facilitator: /goto first-thoughts")
    for n in range(700):
        if n % 70 == 69:
            lines.append("facilitator: /next")
        elif n % 50 == 25:
            lines.append(f"carol: CAROL-{n} not consented, never stored")
        elif n % 40 == 39:
            # An edit of this person's message a few lines up.
            name = PEOPLE[(n - 3) % len(PEOPLE)]
            target = next(
                i + 1 for i in range(len(lines) - 1, -1, -1) if lines[i].startswith(f"{name}: R")
            )
            lines.append(f"{name} edits {target}: R-edited by {name}")
        else:
            lines.append(f"{PEOPLE[n % len(PEOPLE)]}: R{n} said at line {len(lines) + 1}")
    return lines


def config_for(path: Path, url: str) -> Path:
    quiet = '[logging]\nlevel = "WARNING"\n'
    return write_config(path / f"config-{abs(hash(url))}.toml", url, quiet)


def start(config: Path, *extra: str) -> subprocess.Popen[str]:
    """The bot on the console with ``extra`` options, in a process group of its own."""
    return launch(
        config, "run", "--input-id", "crash", *extra, env=ENV, bufsize=1,
        start_new_session=True,  # its own process group, as under a service manager
    )  # fmt: skip


def feed(
    bot: subprocess.Popen[str],
    lines: list[str],
    fed: list[int],
    ready: threading.Event,
    per_second: float,
) -> None:
    """Post the lines as people would: at a steady pace, not waiting for the bot to answer.

    The first line goes alone; the rest follow once it is acknowledged (the bot is up).
    """
    assert bot.stdin is not None
    try:
        for number, line in enumerate(lines, start=1):
            bot.stdin.write(line + "\n")
            bot.stdin.flush()
            fed.append(number)
            if number == 1:
                ready.wait(timeout=120)
            time.sleep(1 / per_second)
    except (BrokenPipeError, ValueError):
        pass  # the bot was killed
