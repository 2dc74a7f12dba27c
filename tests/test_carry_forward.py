"""Two cycles back to back: what cycle 1 heard shapes cycle 2, quoting only consented words."""

from __future__ import annotations

import json
from datetime import UTC, datetime, timedelta
from pathlib import Path

from sqlalchemy import select

from bot.content.check import collect
from bot.content.heard import statements
from bot.core.ids import PersonRef
from storage.tables import content_versions
from tests.support.clockwork import C1_TALK, FRAN, FakeClock, content_root, settings_for, start_bot

T0 = datetime(2027, 1, 10, 9, 0, tzinfo=UTC)
ALICE = PersonRef("console", "alice")  # agrees to be quoted
BOB = PersonRef("console", "bob")  # takes part, but not to be quoted
CAROL = PersonRef("console", "carol")  # never agrees

SECOND = """\
id = "c2-followup"
version = "1"
title = "What we heard last time"
language = "en"
estimated_minutes = 30

[[steps]]
id = "recap"
kind = "card"
text = "Here is what groups told us in the last cycle."
cards = ["heard-2027-c1"]

[[steps]]
id = "agree"
kind = "prompt"
text = "Last time, groups said {{heard:heard-2027-c1#1}} Do you agree?"
"""


async def test_what_cycle_one_heard_appears_in_cycle_two_quoting_only_consented_words(
    database_url: str, tmp_path: Path
) -> None:
    root = content_root(tmp_path, {"c1-talk": C1_TALK})
    settings = settings_for(database_url, root)
    clock = FakeClock(T0)
    first = await start_bot(settings, clock)
    try:
        closes = T0 + timedelta(days=60)
        await first.ops.create("2027-c1", "Health data", "sharing", T0, closes, ["c1-talk"], T0)
        await first.ops.open("2027-c1", T0)
        await first.scheduler.poll()
        await first.say(FRAN, "/start c1-talk")
        await first.say(ALICE, "/agree participate quote")
        await first.say(BOB, "/agree participate")
        await first.say(ALICE, "ALICE-QUOTABLE we want to be asked first")
        await first.say(BOB, "BOB-UNQUOTED keep my words out of reports")
        await first.say(CAROL, "CAROL-NEVER-CONSENTED I have views too")
        await first.say(FRAN, "/next")
        await first.say(ALICE, "/vote 2")
        await first.say(BOB, "/vote 3")
        await first.advance(closes)
    finally:
        await first.close()

    card = (root / "resources" / "heard-2027-c1.md").read_text(encoding="utf-8")
    assert "ALICE-QUOTABLE" in card
    assert "BOB-UNQUOTED" not in card and "CAROL-NEVER-CONSENTED" not in card
    # Two people answered and two replied: under the threshold (10), so no count is shown.
    # The cycle's report says two answers had "< 10" each, so "fewer than 10 answered" beside
    # them would say 2 to 9: in the cycle's one decision, every answer is only "hidden".
    assert "- No: hidden" in card and "- Not sure: hidden" in card and "- Yes: hidden" in card
    assert "- No: 1" not in card and "Fewer than 10 people answered" not in card
    assert "Group 1, “What matters most to you about your health data?”: fewer than 10" in card

    (root / "prompts" / "c2-followup.toml").write_text(SECOND, encoding="utf-8")
    problems, library = collect(root)
    assert [p for p in problems if not p.warning] == []
    assert statements(library.cards["heard-2027-c1"]) == (
        "“ALICE-QUOTABLE we want to be asked first”",
    )

    clock.now = closes + timedelta(days=1)
    second = await start_bot(settings, clock)
    try:
        opens = clock.now
        await second.ops.create(
            "2027-c2", "Follow-up", "", opens, opens + timedelta(days=60), ["c2-followup"], opens
        )
        await second.ops.open("2027-c2", opens)
        await second.scheduler.poll()
        await second.say(FRAN, "/start c2-followup")
        (shown,) = second.platform.cards()
        assert shown.card.id == "heard-2027-c1"
        assert "ALICE-QUOTABLE" in shown.card.body and "BOB-UNQUOTED" not in shown.card.body
        await second.say(FRAN, "/next")
        assert second.platform.group_texts()[-1] == (
            "Last time, groups said “ALICE-QUOTABLE we want to be asked first” Do you agree?"
        )
        assert second.app.service.sessions[shown.group].cycle_id == "2027-c2"
        # The session's content version is kept without the card's quotes: they stay in the
        # file, where staff can take out the words of someone who withdraws.
        async with second.app.database.connect() as conn:
            query = select(content_versions.c.content).where(
                content_versions.c.script_id == "c2-followup"
            )
            (kept,) = (await conn.execute(query)).scalars().all()
        assert "heard-2027-c1" not in kept["cards"]
        assert "ALICE-QUOTABLE" not in json.dumps(kept)
    finally:
        await second.close()


def test_content_check_reports_quotes_of_missing_cards_and_statements(tmp_path: Path) -> None:
    broken = SECOND.replace("#1}}", "#9}} and {{heard:nowhere#1}} and {{heard oops}}")
    root = content_root(tmp_path, {"c2-followup": broken})
    (root / "resources" / "heard-2027-c1.md").write_text(
        "---\nid: heard-2027-c1\ntitle: What we heard\nsummary: Cycle one.\nlanguage: en\n"
        "cycle: 2027-c1\n---\nWhat people said:\n\n1. “First.”\n2. “Second.”\n",
        encoding="utf-8",
    )
    problems, _ = collect(root)
    messages = [str(p) for p in problems if not p.warning]
    assert len(messages) == 3, messages
    assert all("c2-followup.toml:" in m and "steps[2].text" in m for m in messages)
    assert "has 2 numbered statements, so #9 does not exist" in messages[0]
    assert "no card has the id 'nowhere'" in messages[1]
    assert "{{heard:CARD#N}}" in messages[2]


def test_a_card_without_sources_must_say_which_cycle_it_reports(tmp_path: Path) -> None:
    root = content_root(tmp_path)
    (root / "resources" / "unsourced.md").write_text(
        "---\nid: unsourced\ntitle: T\nsummary: S\nlanguage: en\n---\nBody.\n", encoding="utf-8"
    )
    problems, library = collect(root)
    assert "unsourced" not in library.cards
    assert any("needs 'sources'" in str(p) for p in problems)
