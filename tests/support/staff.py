"""A short console session through the real `dialogue` command, for the staff tools' tests."""

from __future__ import annotations

from pathlib import Path

from tests.support.cli import dialogue, write_config
from tests.support.clockwork import content_root

SESSION = [
    "facilitator: /start health-data-intro",
    "alice: /agree participate",
    "bob: /agree participate",
    "facilitator: /next",
    "facilitator: /next",
    "alice: ALICE-EMAIL-REQUEST my words",
    "bob: BOB-STAYS his words",
]


def staff_config(tmp_path: Path, database_url: str, more: str = "") -> Path:
    key = f'[privacy]\nkey_file = "{tmp_path / "k.key"}"\n'
    return write_config(tmp_path / "config.toml", database_url, key + more, content_root(tmp_path))


def run_session(config: Path, tmp_path: Path) -> None:
    transcript = tmp_path / "session.txt"
    transcript.write_text("\n".join(SESSION) + "\n", encoding="utf-8")
    run = dialogue(config, "run", "--transcript", str(transcript))
    assert run.returncode == 0, run.stderr
