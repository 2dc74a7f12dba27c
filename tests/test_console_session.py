"""A whole session through the real `dialogue` command on the console platform."""

import csv
import stat
from pathlib import Path

import pytest

from storage.db import sqlite_file
from tests.support.cli import ROOT, dialogue, write_config
from tests.support.export_text import csv_rows, export_text

INVITATION = "Your messages in this session are not being recorded"

FIRST_RUN = [
    "facilitator: /start health-data-intro",
    "alice: /consent",
    "alice> /agree participate quote",
    "bob: /agree participate profile",
    "carol: CAROL-SECRET-ZEBRA hello everyone",
    "facilitator: /next",
    "facilitator: /next",
    "alice: ALICE-REPLY-ONE my GP keeps my notes",
    "bob: BOB-REPLY-ONE original words",
    "carol: CAROL-SECRET-QUOKKA I have views too",
    "alice: ALICE-TYPO-DELETE-ME",
    "facilitator: /goto research-comfort",
    "alice: /vote 2",
    "bob: /vote 4",
    "bob: /vote 3",
    "carol: /vote 1",
    "facilitator: /next",
]
# Edits and deletes name the input line of the message they change.
FIRST_RUN.insert(
    9,
    f"bob edits {FIRST_RUN.index('bob: BOB-REPLY-ONE original words') + 1}: "
    "BOB-REPLY-ONE corrected words",
)
FIRST_RUN.insert(12, f"alice deletes {FIRST_RUN.index('alice: ALICE-TYPO-DELETE-ME') + 1}")

SECOND_RUN = [
    "alice: ALICE-AFTER-RESTART the session picked up where it was",
    "facilitator: /status",
    "facilitator: /end",
    "bob: /withdraw",
    "bob: /withdraw confirm",
    "bob> /mydata",
]


def database_bytes(url: str) -> bytes:
    path = sqlite_file(url)
    assert path is not None
    return b"".join(
        p.read_bytes() for p in (path, Path(f"{path}-wal"), Path(f"{path}-shm")) if p.exists()
    )


def test_full_console_session_stores_only_consented_words(
    database_url: str, tmp_path: Path
) -> None:
    log_file = tmp_path / "dialogue.log"
    more = f'[logging]\nlevel = "DEBUG"\nfile = "{log_file}"\n'
    config = write_config(tmp_path / "config.toml", database_url, more)
    env = {}
    if not database_url.startswith("sqlite"):
        env["DIALOGUE_PSEUDONYM_KEY"] = "test-key-0123456789abcdef"
    first, second = tmp_path / "first.txt", tmp_path / "second.txt"
    first.write_text("\n".join(FIRST_RUN) + "\n", encoding="utf-8")
    second.write_text("\n".join(SECOND_RUN) + "\n", encoding="utf-8")

    run1 = dialogue(config, "run", "--transcript", str(first), env=env)
    assert run1.returncode == 0, run1.stderr
    out = run1.stdout
    assert "[group console] Welcome!" in out
    # Invited once; her vote is answered with a word that it was not recorded.
    assert out.count(f"[private to carol] Hello! {INVITATION}") == 1
    assert out.count("[private to carol] Your answer wasn't recorded") == 1
    assert "[private to bob] Thank you, your answer is recorded: Not very comfortable." in out
    assert "Step 8 of 17 (research-comfort-why" in out

    export1 = tmp_path / "export1"
    result = dialogue(config, "export", "--out", str(export1), env=env)
    assert result.returncode == 0, result.stderr
    responses = csv_rows(export1 / "responses.csv")
    texts = sorted(r["text"] for r in responses)
    assert texts == ["ALICE-REPLY-ONE my GP keeps my notes", "BOB-REPLY-ONE corrected words"]
    assert {r["step_id"] for r in responses} == {"first-thoughts"}
    votes = csv_rows(export1 / "votes.csv")
    assert sorted((v["options"], v["step_id"]) for v in votes) == [
        ("2", "research-comfort"),
        ("3", "research-comfort"),
    ]
    participants = csv_rows(export1 / "participants.csv")
    assert len(participants) == 2
    assert sorted((p["quote"], p["profile"]) for p in participants) == [
        ("false", "true"),
        ("true", "false"),
    ]
    assert all(p["participant"].startswith("p-") for p in participants)
    exported = export_text(export1)
    assert "ALICE-REPLY-ONE" in exported  # the scan reads every file of the export
    assert "CAROL" not in exported and "alice" not in exported and "bob" not in exported

    run2 = dialogue(config, "run", "--transcript", str(second), env=env)
    assert run2.returncode == 0, run2.stderr
    assert "step 8 of 17 (research-comfort-why)" in run2.stdout
    assert "[private to bob] Done. We have withdrawn your consent and erased:" in run2.stdout
    assert "[private to bob] - 1 reply\n[private to bob] - 1 answer\n" in run2.stdout
    assert "[private to bob] We don't store anything about you." in run2.stdout

    export2 = tmp_path / "export2"
    assert dialogue(config, "export", "--out", str(export2), env=env).returncode == 0
    texts = sorted(r["text"] for r in csv_rows(export2 / "responses.csv"))
    assert texts == [
        "ALICE-AFTER-RESTART the session picked up where it was",
        "ALICE-REPLY-ONE my GP keeps my notes",
    ]
    assert len(csv_rows(export2 / "votes.csv")) == 1
    reused = dialogue(config, "export", "--out", str(export2), env=env)
    assert reused.returncode == 2 and "not an empty folder" in reused.stderr
    assert "Traceback" not in reused.stderr
    bob = next(r["participant"] for r in responses if r["text"].startswith("BOB-REPLY-ONE"))
    erasures = dialogue(config, "export", "erasures", "--since", "1", env=env)
    assert erasures.returncode == 0, erasures.stderr
    owed = list(csv.DictReader(erasures.stdout.splitlines()))
    assert [(e["export_id"], e["pseudonym"]) for e in owed] == [("1", bob)]

    logs = log_file.read_text(encoding="utf-8")
    assert "event handled" in logs
    for marker in ("CAROL-SECRET", "ALICE-REPLY", "BOB-REPLY"):
        assert marker not in logs + run1.stderr + run2.stderr

    if database_url.startswith("sqlite"):
        stored = database_bytes(database_url)
        # Alice's words were exported above, yet are sealed at rest: not in the file in plain.
        for marker in (b"ALICE-REPLY-ONE", b"CAROL-SECRET", b"BOB-REPLY-ONE", b"ALICE-TYPO-DELETE"):
            assert marker not in stored
        key_file = Path(str(sqlite_file(database_url))).parent / "dialogue.key"
        assert stat.S_IMODE(key_file.stat().st_mode) == 0o600
        person_keys = Path(str(sqlite_file(database_url))).with_suffix(".keys")
        assert stat.S_IMODE(person_keys.stat().st_mode) == 0o600


@pytest.mark.parametrize("database_url", ["sqlite"], indirect=True)
def test_demo_plays_a_whole_session_in_a_throwaway_database(
    database_url: str, tmp_path: Path
) -> None:
    temporary = tmp_path / "tmp"
    temporary.mkdir()
    env = {"DIALOGUE_CONTENT__ROOT": str(ROOT), "TMPDIR": str(temporary)}
    result = dialogue(None, "run", "--demo", cwd=tmp_path, env=env)
    assert result.returncode == 0, result.stderr
    assert "That's the end of this session." in result.stdout
    assert "Step 17 of 17 (close" in result.stdout
    assert not (tmp_path / "dialogue.db").exists()
    assert not list(temporary.iterdir())  # the throwaway database and its keys are gone
