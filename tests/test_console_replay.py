"""The console through the real `dialogue` command: input fed again after a crash (with the
same ``--input-id``) handles nothing twice, also in a private chat; empty messages are no
replies."""

from __future__ import annotations

from pathlib import Path

from sqlalchemy import select

from storage.db import make_engine
from storage.tables import consents
from tests.support.capture import stored_replies
from tests.support.cli import dialogue, write_config
from tests.support.export_text import export_text

ENV = {"DIALOGUE_PSEUDONYM_KEY": "console-replay-key-0123456789abcdef"}


async def stored(url: str) -> tuple[list[str], list[object]]:
    """Every stored reply's text, and when each consent was given."""
    engine = make_engine(url)
    try:
        texts = sorted(reply.text for reply in await stored_replies(engine))
        async with engine.connect() as conn:
            given = (await conn.execute(select(consents.c.given_at))).scalars().all()
        return texts, list(given)
    finally:
        await engine.dispose()


def run(config: Path, lines: list[str], tmp_path: Path) -> str:
    """Feed the lines to `dialogue run` as input "talk"; what it printed."""
    transcript = tmp_path / "input.txt"
    transcript.write_text("\n".join(lines) + "\n", encoding="utf-8")
    args = ("run", "--transcript", str(transcript), "--input-id", "talk")
    result = dialogue(config, *args, env=ENV)
    assert result.returncode == 0, result.stderr
    return result.stdout


async def test_a_private_chat_fed_again_stores_no_words_from_before_consent_nor_agrees_twice(
    database_url: str, tmp_path: Path
) -> None:
    config = write_config(tmp_path / "config.toml", database_url)
    cycle = ("--title", "Data", "--start", "2026-01-01", "--end", "2099-12-31")
    scripts = ("--scripts", "health-data-intro")
    created = dialogue(config, "cycle", "create", "c1", *cycle, *scripts, env=ENV)
    assert created.returncode == 0, created.stderr
    assert dialogue(config, "cycle", "open", "c1", env=ENV).returncode == 0
    lines = [
        "rosa> /join c1",
        "rosa> ROSA-BEFORE-CONSENT just looking around",
        "rosa> /agree participate",
        "rosa> /next",
    ]
    first = run(config, lines, tmp_path)
    assert "Thank you for agreeing to: participate" in first and "Step 2 of 16" in first
    texts, agreed = await stored(database_url)
    assert texts == [] and len(agreed) == 1

    again = run(config, lines, tmp_path)  # the same input, after a crash
    assert "[private to rosa]" not in again  # nothing handled twice, nothing answered twice
    assert await stored(database_url) == ([], agreed)
    run(config, [*lines, "rosa> ROSA-ON-THE-CARD a new message"], tmp_path)
    assert await stored(database_url) == (["ROSA-ON-THE-CARD a new message"], agreed)
    export = tmp_path / "export"
    assert dialogue(config, "export", "--out", str(export), env=ENV).returncode == 0
    exported = export_text(export)
    assert "ROSA-ON-THE-CARD" in exported and "ROSA-BEFORE" not in exported


async def test_empty_control_only_and_bare_slash_messages_are_not_stored(
    database_url: str, tmp_path: Path
) -> None:
    config = write_config(tmp_path / "config.toml", database_url)
    lines = [
        "facilitator: /start health-data-intro",
        "alice: /agree participate",
        "facilitator: /goto first-thoughts",
        "alice: ",
        "alice:  \t  ",
        "alice: \x00\x00",
        "alice: \u200b\u2060\x7f",
        "alice: /",
        "alice: / ",
        "alice: ALICE-REAL words",
    ]
    run(config, lines, tmp_path)
    assert (await stored(database_url))[0] == ["ALICE-REAL words"]
