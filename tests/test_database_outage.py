"""A database that goes away mid-session: replies wait, nothing acknowledged is lost, and
capture goes on once it is back. Against a PostgreSQL server this test starts and stops."""

from __future__ import annotations

import asyncio
import os
import shutil
import socket
import subprocess
import tempfile
import threading
import time
from collections.abc import Iterator
from pathlib import Path

import pytest
from sqlalchemy import text

from storage.db import default_keys, make_engine
from tests.support.cli import dialogue
from tests.support.crash import ACK, ENV, config_for, conversation, feed, start

BIN = Path("/usr/lib/postgresql/15/bin")
OWNER = "postgres"  # the server will not run as root
STOP_AFTER_ACKS = 150

pytestmark = pytest.mark.skipif(
    not (BIN / "pg_ctl").exists() or shutil.which("runuser") is None or os.geteuid() != 0,
    reason="needs PostgreSQL 15's binaries and root (to run them as the postgres account)",
)


class Server:
    """A throwaway PostgreSQL server in a folder of its own, on a free port."""

    def __init__(self) -> None:
        # Not under pytest's folder, which only root may enter.
        self.folder = Path(tempfile.mkdtemp(prefix="dialogue-pg-"))
        shutil.chown(self.folder, OWNER)
        self.data, self.log = self.folder / "data", self.folder / "server.log"
        with socket.socket() as probe:
            probe.bind(("127.0.0.1", 0))
            self.port = int(probe.getsockname()[1])
        self.url = f"postgresql+asyncpg://postgres@127.0.0.1:{self.port}/dialogue"
        self.run("initdb", "-D", str(self.data), "-A", "trust", "-U", "postgres", "--no-sync")
        self.start()
        self.run("createdb", "-h", "127.0.0.1", "-p", str(self.port), "-U", "postgres", "dialogue")

    def run(self, program: str, *args: str) -> None:
        subprocess.run(
            ["runuser", "-u", OWNER, "--", str(BIN / program), *args],
            check=True,
            capture_output=True,
            timeout=120,
        )

    def start(self) -> None:
        options = f"-p {self.port} -k {self.data} -c listen_addresses=127.0.0.1 -c fsync=off"
        self.run("pg_ctl", "-D", str(self.data), "-o", options, "-l", str(self.log), "-w", "start")

    def stop(self) -> None:
        self.run("pg_ctl", "-D", str(self.data), "-m", "fast", "-w", "stop")


@pytest.fixture
def server() -> Iterator[Server]:
    found = Server()
    try:
        yield found
    finally:
        if (found.data / "postmaster.pid").exists():
            found.stop()
        shutil.rmtree(found.folder)
        # The database's key store, kept in this account's data folder (storage.db).
        Path(default_keys(found.url)).unlink(missing_ok=True)


def stored_replies(url: str) -> list[str]:
    async def read() -> list[str]:
        engine = make_engine(url)
        try:
            async with engine.connect() as conn:
                rows = await conn.execute(text("SELECT message_id FROM responses"))
                return [row[0] for row in rows]
        finally:
            await engine.dispose()

    return asyncio.run(read())


def replies_of_a_run_without_outage(lines: list[str], tmp_path: Path) -> set[str]:
    """The replies a run with no outage stores (some lines, during a break, are not kept)."""
    url = f"sqlite+aiosqlite:///{tmp_path}/clean.db"
    transcript = tmp_path / "conversation.txt"
    transcript.write_text("\n".join(lines) + "\n", encoding="utf-8")
    config = config_for(tmp_path, url)
    clean = dialogue(
        config, "run", "--input-id", "crash", "--transcript", str(transcript),
        env=ENV,
    )  # fmt: skip
    assert clean.returncode == 0, clean.stderr
    return set(stored_replies(url))


def test_replies_wait_out_a_database_outage_and_none_acknowledged_is_lost(
    server: Server, tmp_path: Path
) -> None:
    lines = conversation()
    expected = replies_of_a_run_without_outage(lines, tmp_path)
    bot = start(config_for(tmp_path, server.url), "--acknowledge")
    fed: list[int] = []
    ready = threading.Event()
    feeder = threading.Thread(target=feed, args=(bot, lines, fed, ready, 60), daemon=True)
    feeder.start()
    acked: list[int] = []
    before_outage = after_outage = 0
    assert bot.stdout is not None
    for output in bot.stdout:
        if not (match := ACK.match(output.strip())):
            continue
        acked.append(int(match[1]))
        ready.set()
        if len(acked) == STOP_AFTER_ACKS:
            server.stop()
            before_outage = len(fed)
            time.sleep(3)  # people keep posting while the database is away
            after_outage = len(fed)
            server.start()
        if int(match[1]) == len(lines):
            break
    feeder.join(timeout=60)
    assert bot.stdin is not None
    bot.stdin.close()
    assert bot.wait(timeout=120) == 0, bot.stderr.read() if bot.stderr else ""
    errors = bot.stderr.read() if bot.stderr else ""
    assert after_outage > before_outage + 50, "people were to post during the outage"
    assert errors.count("the database is unreachable") == 1, errors
    assert "Traceback" not in errors

    kept = stored_replies(server.url)
    assert len(kept) == len(set(kept)), "a reply was stored twice"
    last_before = acked[STOP_AFTER_ACKS - 1]
    wanted = {r for r in expected if int(r.split("-")[1]) <= last_before}
    assert wanted <= set(kept), "a reply acknowledged before the outage is missing"
    # The session went on after the outage: every line was handled and acknowledged, and the
    # database holds exactly what a run without an outage holds.
    assert set(acked) == set(range(1, len(lines) + 1))
    assert set(kept) == expected and len(expected) > 500
