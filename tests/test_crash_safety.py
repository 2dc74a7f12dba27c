"""Crash safety: SIGKILL the bot mid-session while people keep posting, start it again, and
compare with a run that never crashed."""

from __future__ import annotations

import asyncio
import os
import re
import signal
import threading
import time
from pathlib import Path
from typing import Any

from sqlalchemy import select

from storage.db import make_engine
from storage.tables import groups, sessions
from tests.support.capture import snapshot
from tests.support.cli import dialogue
from tests.support.crash import ACK, ENV, config_for, conversation, feed, start

KILL_AFTER_ACKS = 200


def steps_after(lines: list[str], count: int) -> int:
    """The step index once the first ``count`` lines are handled."""
    nexts = sum(1 for line in lines[:count] if line == "facilitator: /next")
    return 2 + nexts  # /goto first-thoughts is step index 2


def descendants(pid: int) -> list[int]:
    """The processes the bot started (the writer's helper and the writer), and theirs."""
    found = [
        int(child)
        for task in Path(f"/proc/{pid}/task").iterdir()
        for child in (task / "children").read_text().split()
    ]
    return found + [grandchild for child in found for grandchild in descendants(child)]


def gone(pid: int, seconds: float) -> bool:
    """Whether the process has exited (and is not a zombie) within the time."""
    deadline = time.monotonic() + seconds
    while time.monotonic() < deadline:
        stat = Path(f"/proc/{pid}/stat")
        if not stat.exists() or stat.read_text().rpartition(")")[2].split()[0] == "Z":
            return True
        time.sleep(0.05)
    return False


def stored(url: str) -> dict[str, Any]:
    async def read() -> dict[str, Any]:
        engine = make_engine(url)
        try:
            data = await snapshot(engine)
            async with engine.connect() as conn:
                data["steps"] = list(
                    (
                        await conn.execute(
                            select(sessions.c.step_index).join(
                                groups, groups.c.id == sessions.c.group_id
                            )
                        )
                    ).scalars()
                )
            return data
        finally:
            await engine.dispose()

    data = asyncio.run(read())
    # Edit times come from each run's clock; everything else must match exactly.
    data["responses"] = sorted(r[:5] + r[6:] for r in data["responses"])
    return data


def test_a_bot_killed_mid_session_keeps_every_acknowledged_reply_once_and_resumes_its_step(
    database_url: str, tmp_path: Path
) -> None:
    lines = conversation()
    clean_url = f"sqlite+aiosqlite:///{tmp_path}/clean.db"
    transcript = tmp_path / "conversation.txt"
    transcript.write_text("\n".join(lines) + "\n", encoding="utf-8")
    clean = dialogue(
        config_for(tmp_path, clean_url), "run", "--input-id", "crash", "--transcript",
        str(transcript), env=ENV, timeout=180,
    )  # fmt: skip
    assert clean.returncode == 0, clean.stderr
    expected = stored(clean_url)

    config = config_for(tmp_path, database_url)
    bot = start(config, "--acknowledge")
    fed: list[int] = []
    ready = threading.Event()
    feeder = threading.Thread(target=feed, args=(bot, lines, fed, ready, 150), daemon=True)
    feeder.start()
    acked: list[int] = []
    assert bot.stdout is not None
    for output in bot.stdout:
        if match := ACK.match(output.strip()):
            acked.append(int(match[1]))
            ready.set()
            if len(acked) >= KILL_AFTER_ACKS:
                helpers = descendants(bot.pid)
                bot.send_signal(signal.SIGKILL)
                break
    bot.wait(timeout=60)
    assert len(helpers) == 2, "a writer process and the helper that started it"
    assert all(gone(pid, 10) for pid in helpers), "a writer process outlived the bot"
    feeder.join(timeout=10)
    assert bot.returncode == -signal.SIGKILL
    assert len(fed) < len(lines), "the bot was to be killed while people were still posting"

    after_crash = stored(database_url)
    last = max(acked)
    wanted = {r[1] for r in expected["responses"] if int(r[1].split("-")[1]) <= last}
    kept = [r[1] for r in after_crash["responses"]]
    assert wanted <= set(kept), "a reply was acknowledged but is not stored"
    assert len(kept) == len(set(kept))
    assert steps_after(lines, last) <= after_crash["steps"][0] <= steps_after(lines, len(fed))

    # Started again, the bot is fed everything from the start (as a platform redelivers
    # whatever was not confirmed): what it had is kept once, the rest is added.
    again = start(config)
    out, err = again.communicate("\n".join(lines) + "\n", timeout=180)
    assert again.returncode == 0, err
    assert stored(database_url) == expected
    assert len(expected["responses"]) > 500
    assert expected["steps"] == [steps_after(lines, len(lines))]


def test_sigterm_to_the_process_group_stops_the_bot_at_once_with_everything_it_acknowledged_stored(
    tmp_path: Path,
) -> None:
    url = f"sqlite+aiosqlite:///{tmp_path}/term.db"
    lines = conversation()
    bot = start(config_for(tmp_path, url), "--acknowledge")
    ready = threading.Event()
    threading.Thread(target=feed, args=(bot, lines, [], ready, 150), daemon=True).start()
    acked: list[int] = []
    assert bot.stdout is not None
    for output in bot.stdout:
        if match := ACK.match(output.strip()):
            acked.append(int(match[1]))
            ready.set()
            if len(acked) == 100:
                helpers = descendants(bot.pid)
                # To the whole process group, as a terminal's Ctrl-C is: the writer process
                # goes on until the bot has drained its queue through it.
                os.killpg(bot.pid, signal.SIGTERM)
    # Standard input is still open (people are still posting): the stop must not wait for it.
    assert bot.wait(timeout=30) == 0
    assert helpers and all(gone(pid, 10) for pid in helpers)
    kept = {r[1] for r in stored(url)["responses"]}
    said = {f"crash-{n}" for n in acked if re.match(r"p\d: R\d", lines[n - 1])}
    assert said and said <= kept
