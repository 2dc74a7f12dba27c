"""`dialogue health`, the metrics endpoint and JSON logs, through the real `dialogue` command."""

from __future__ import annotations

import json
import socket
import subprocess
import urllib.request
from pathlib import Path

from alembic.script import ScriptDirectory
from prometheus_client.parser import text_string_to_metric_families

from storage.db import alembic_config
from tests.support.cli import dialogue, launch, type_lines, write_config

SECRET_WORDS = ("ZEBRA-WORDS-OF-ALICE", "QUOKKA-WORDS-OF-BOB", "OTTER-NOT-CONSENTED")
LINES = [
    "facilitator: /start health-data-intro",
    "alice: /agree participate",
    "bob: /agree participate",
    "facilitator: /next",
    "facilitator: /next",
    f"alice: {SECRET_WORDS[0]} my view",
    f"bob: {SECRET_WORDS[1]} my view",
    f"carol: {SECRET_WORDS[2]} my view",
]


def _free_port() -> int:
    with socket.socket() as probe:
        probe.bind(("127.0.0.1", 0))
        return int(probe.getsockname()[1])


def _lines(result: subprocess.CompletedProcess[str]) -> list[str]:
    return result.stdout.splitlines()


def test_health_exit_codes_tell_a_monitor_what_is_wrong(tmp_path: Path) -> None:
    url = f"sqlite+aiosqlite:///{tmp_path}/d.db"
    config = write_config(tmp_path / "c.toml", url)
    behind = dialogue(config, "health")
    assert behind.returncode == 2, behind.stdout + behind.stderr
    every = len(list(ScriptDirectory.from_config(alembic_config()).walk_revisions()))
    assert f"critical migrations: {every} not applied; run: dialogue db upgrade" in _lines(behind)

    assert dialogue(config, "db", "upgrade").returncode == 0
    idle = dialogue(config, "health")
    assert idle.returncode == 1, idle.stdout
    assert _lines(idle) == [
        "ok       database: reachable (sqlite)",
        "ok       migrations: the schema is up to date",
        "warning  scheduler: no running bot holds the scheduler lease",
        "ok       writer: not checked: health.listen is off",
    ]

    tokenless = write_config(tmp_path / "t.toml", url, "[telegram]\nenabled = true\n")
    missing = dialogue(tokenless, "health")
    assert missing.returncode == 2
    assert (
        "critical telegram token: telegram.enabled is true but DIALOGUE_TELEGRAM_TOKEN is not set"
        in _lines(missing)
    )
    assert dialogue(tokenless, "health", env={"DIALOGUE_TELEGRAM_TOKEN": "1:x"}).returncode == 1

    gone = write_config(
        tmp_path / "g.toml", f"postgresql+asyncpg://postgres@127.0.0.1:{_free_port()}/none"
    )
    down = dialogue(gone, "health")
    assert down.returncode == 2 and _lines(down)[0].startswith("critical database: cannot be")
    assert "Traceback" not in down.stderr


def test_metrics_health_and_json_logs_carry_counts_never_words(
    database_url: str, tmp_path: Path
) -> None:
    listen = f"127.0.0.1:{_free_port()}"
    log_file = tmp_path / "bot.log"
    more = (
        f'[health]\nlisten = "{listen}"\n'
        f'[logging]\nformat = "json"\nlevel = "DEBUG"\nfile = "{log_file}"\n'
        f'[privacy]\nkey_file = "{tmp_path / "k.key"}"\n'
    )
    config = write_config(tmp_path / "c.toml", database_url, more)
    bot = launch(config, "run", "--console", "--acknowledge")
    try:
        type_lines(bot, LINES, len(LINES))
        with urllib.request.urlopen(f"http://{listen}/metrics", timeout=10) as reply:
            scraped = reply.read().decode()
        with urllib.request.urlopen(f"http://{listen}/healthz", timeout=10) as reply:
            healthz = json.load(reply)
        running = dialogue(config, "health")
    finally:
        if bot.stdin is not None:
            bot.stdin.close()
        bot.wait(timeout=60)
    assert bot.returncode == 0, bot.stderr.read() if bot.stderr else ""

    samples = {
        s.name: s.value
        for family in text_string_to_metric_families(scraped)
        for s in family.samples
    }
    assert samples["dialogue_replies_captured_total"] == 2
    assert samples["dialogue_commit_seconds_count"] >= 1
    assert samples["dialogue_queue_depth"] == 0
    assert samples["dialogue_writer_up"] == 1
    assert healthz["status"] == "ok" and healthz["writer"] == "running"
    assert running.returncode == 0, running.stdout
    assert "ok       writer: running, 0 writes queued" in _lines(running)
    assert any(line.startswith("ok       scheduler: held by process") for line in _lines(running))

    logged = log_file.read_text(encoding="utf-8")
    entries = [json.loads(line) for line in logged.splitlines()]
    assert entries and all({"time", "level", "logger", "message"} <= set(e) for e in entries)
    for words in SECRET_WORDS:
        assert words not in scraped and words not in logged

    stopped = dialogue(config, "health")
    assert stopped.returncode == 1
    assert f"warning  writer: no running bot answers on {listen}" in _lines(stopped)
