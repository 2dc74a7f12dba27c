"""Bengali and English side by side in one console session, through the real `dialogue run`.

Rani's device is in Bengali, Alice's in English. They run the whole sample script together:
consent (with profile questions), replies, votes, the feedback questions, /mydata. Every line the
bot sends Rani in private is Bengali and every line to Alice English; the group reads the
session's language, English until the facilitator moves it to Bengali with /language bn. The
consent stored for Rani is the Bengali text's, and the export records each reply's language.
The Bengali is the shipped translation; a line in the wrong language names a message that is
missing or out of date in bot/texts/bn/LC_MESSAGES/messages.po or in the Bengali content.
"""

from __future__ import annotations

import asyncio
import re
from pathlib import Path

from sqlalchemy import select

from storage.db import make_engine
from storage.tables import consents
from tests.support.capture import LIBRARY
from tests.support.cli import dialogue, write_config
from tests.support.export_text import csv_rows
from tests.support.languages import (
    BN_CONSENT,
    is_bengali,
    language_of,
    not_in,
    without_scopes,
    without_sources,
)

SWITCH = "facilitator: /language bn"
TRANSCRIPT = [
    "rani's locale is bn-BD",
    "alice's locale is en-GB",
    "facilitator: /start health-data-intro",
    "rani: /consent",
    "rani> /agree participate quote profile",
    "alice: /consent",
    "alice> /agree participate quote",
    "rani> /profile",
    "rani> /profile answer age 2",
    "facilitator: /next",  # what-is-data
    "facilitator: /next",  # first-thoughts
    "rani: আমার জিপি আমার সব নোট রাখেন",
    "alice: my GP keeps my notes",
    "facilitator: /next",  # own-care
    "facilitator: /next",  # own-care-experiences
    "rani: হাসপাতালে আমাকে বারবার একই কথা বলতে হয়েছিল",
    "alice: I had to repeat myself five times",
    "facilitator: /next",  # wider-uses
    "facilitator: /next",  # research-comfort
    "rani: /vote 2",
    "alice: /vote 4",
    SWITCH,
    "facilitator: /next",  # research-comfort-why
    "rani: কে ব্যবহার করছে তার ওপর নির্ভর করে",
    "alice: it depends on who uses it",
    "facilitator: /next",  # break
    "facilitator: /next",  # your-choices
    "facilitator: /next",  # benefits-and-risks
    "facilitator: /next",  # trust-scale
    "rani: /vote 3",
    "alice: /vote 5",
    "facilitator: /next",  # what-would-help
    "rani: স্পষ্ট করে জানানো দরকার",
    "alice: tell people clearly",
    "facilitator: /next",  # conditions
    "rani: /vote 1 3",
    "alice: /vote 2",
    "facilitator: /next",  # message-to-decision-makers
    "rani: আমাদের কথা শুনুন",
    "alice: listen to us",
    "facilitator: /next",  # feedback
    "rani: /vote heard 1",
    "alice: /vote heard 2",
    "facilitator: /next",  # close
    "facilitator: /end",
    "facilitator> /summary post",  # what the group heard today, in the session's language
    "rani> /mydata",
    "alice> /mydata",
]
# After a restart: Rani withdraws; Mina's device says nothing, she chooses Bengali herself.
LATER = [
    "rani's locale is bn-BD",
    "rani> /withdraw",
    "rani> /withdraw confirm",
    "rani> /mydata",
    "mina> /language bn",
    "mina> /help",
    "mina> /mydata",
    "mina: /vote 1",
]
PRINTED = re.compile(r"^\[(?P<where>[^\]]+)\] (?P<text>.*)$")


def printed(out: str, where: str) -> list[str]:
    """The lines the console printed for ``where`` ("private to rani", "group console")."""
    return [
        m["text"] for line in out.splitlines() if (m := PRINTED.match(line)) and m["where"] == where
    ]


def test_bengali_and_english_side_by_side_in_a_console_session(
    database_url: str, tmp_path: Path
) -> None:
    config = write_config(tmp_path / "config.toml", database_url)
    env = {"DIALOGUE_PSEUDONYM_KEY": "test-key-0123456789abcdef"}
    transcript = tmp_path / "session.txt"
    transcript.write_text("\n".join(TRANSCRIPT) + "\n", encoding="utf-8")
    run = dialogue(config, "run", "--transcript", str(transcript), env=env)
    assert run.returncode == 0, run.stderr
    assert "ERROR" not in run.stderr, run.stderr
    out = run.stdout

    # The consent scopes are named by the words a person types to agree (/agree participate).
    rani = [without_scopes(line) for line in printed(out, "private to rani")]
    alice = printed(out, "private to alice")
    assert [language_of(line) for line in rani].count("bn") > 20
    assert not (wrong := not_in("bn", rani)), "Rani was sent English:\n" + "\n".join(wrong)
    assert [language_of(line) for line in alice].count("en") > 20
    assert not (wrong := not_in("en", alice)), "Alice was sent Bengali:\n" + "\n".join(wrong)

    before, after = out.split(f"\n{SWITCH}\n")
    # Card sources are cited by their titles in the source language (the contract for cards).
    group_before = without_sources(printed(before, "group console"))
    group_after = without_sources(printed(after, "group console"))
    assert not (wrong := not_in("en", group_before)), (
        "the English session posted Bengali:\n" + "\n".join(wrong)
    )
    assert not (wrong := not_in("bn", group_after)), (
        "the Bengali session posted English:\n" + "\n".join(wrong)
    )

    # The facilitator's own messages are English; Bengali reaches them only in the summary they
    # review before it is posted, word for word what the Bengali group then reads.
    facilitator = printed(out, "private to facilitator")
    previewed = [line for line in facilitator if is_bengali(line)]
    assert previewed and set(previewed) <= set(printed(after, "group console"))

    async def stored_consents() -> list[tuple[str, str]]:
        engine = make_engine(database_url)
        try:
            async with engine.connect() as conn:
                query = select(consents.c.language, consents.c.text_hash).order_by(consents.c.id)
                return [tuple(row) for row in (await conn.execute(query)).all()]
        finally:
            await engine.dispose()

    assert asyncio.run(stored_consents()) == [
        ("bn", BN_CONSENT.digest()),
        ("en", LIBRARY.consent_in("en").digest()),
    ]
    export = tmp_path / "export"
    exported = dialogue(config, "export", "--out", str(export), env=env)
    assert exported.returncode == 0, exported.stderr
    replies = {r["text"]: r["reply_language"] for r in csv_rows(export / "responses.csv")}
    typed = [line.split(": ", 1) for line in TRANSCRIPT if ": " in line and "/" not in line]
    assert replies == {
        text: "bn" if name == "rani" else "en" for name, text in typed if name != "facilitator"
    }

    later = tmp_path / "later.txt"
    later.write_text("\n".join(LATER) + "\n", encoding="utf-8")
    run = dialogue(config, "run", "--transcript", str(later), env=env)
    assert run.returncode == 0, run.stderr
    for who in ("rani", "mina"):
        said = printed(run.stdout, f"private to {who}")
        assert len(said) >= 3, run.stdout
        assert not (wrong := not_in("bn", said)), f"{who} was sent English:\n" + "\n".join(wrong)
