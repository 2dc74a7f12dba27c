"""The "what we heard" draft is a publication: redacted, and a withdrawal takes quotes out."""

from __future__ import annotations

from datetime import UTC, datetime, timedelta
from pathlib import Path

from bot.content.check import collect
from bot.content.heard import statements
from bot.core.ids import PersonRef
from bot.texts import Catalogue
from tests.support.clockwork import C1_TALK, FRAN, FakeClock, content_root, settings_for, start_bot

T0 = datetime(2027, 1, 10, 9, 0, tzinfo=UTC)
ALICE = PersonRef("console", "alice")  # quoted twice, then withdraws
DANA = PersonRef("console", "dana")  # quoted, stays
PII = {
    "email": "jo.bloggs@example.co.uk",
    "phone": "07700 900123",
    "nhs-number": "943 476 5919",
    "postcode": "E1 6AN",
}
WITHDRAWN = Catalogue.load().get("en", "heard.withdrawn")


async def test_the_draft_is_redacted_and_a_withdrawal_takes_its_quotes_out_of_every_draft(
    database_url: str, tmp_path: Path
) -> None:
    root = content_root(tmp_path, {"c1-talk": C1_TALK})
    settings = settings_for(database_url, root)
    clock = FakeClock(T0)
    bot = await start_bot(settings, clock)
    card_file = root / "resources" / "heard-2027-c1.md"
    try:
        closes = T0 + timedelta(days=60)
        await bot.ops.create("2027-c1", "Health data", "sharing", T0, closes, ["c1-talk"], T0)
        await bot.ops.open("2027-c1", T0)
        await bot.scheduler.poll()
        await bot.say(FRAN, "/start c1-talk")
        await bot.say(ALICE, "/agree participate quote")
        await bot.say(DANA, "/agree participate quote")
        details = ", ".join(PII.values())
        await bot.say(ALICE, f"ALICE-FIRST reach me at {details}")
        await bot.say(DANA, "DANA-STAYS ask us before sharing")
        await bot.say(ALICE, "ALICE-SECOND keep it local")
        await bot.advance(closes)

        card = card_file.read_text(encoding="utf-8")
        for kind, value in PII.items():
            assert value not in card and f"[{kind}]" in card, kind
        assert "ALICE-FIRST reach me at [email]" in card
        # Staff edit the draft: a better intro, and one quote reworded.
        edited = card.replace("This card is a draft", "Checked by staff. This card is a draft")
        edited = edited.replace("ALICE-SECOND keep it local", "Keep health data local.")
        card_file.write_text(edited, encoding="utf-8")

        clock.now = closes + timedelta(days=1)
        await bot.say(ALICE, "/withdraw confirm")
    finally:
        await bot.close()

    card = card_file.read_text(encoding="utf-8")
    assert "ALICE" not in card and "Keep health data local" not in card
    assert "[email]" not in card
    assert "Checked by staff" in card  # the staff's edits are kept
    problems, library = collect(root)
    assert [p for p in problems if not p.warning] == []
    # The numbers stay, so a later prompt's {{heard:heard-2027-c1#2}} still means Dana's.
    assert statements(library.cards["heard-2027-c1"]) == (
        WITHDRAWN,
        "“DANA-STAYS ask us before sharing”",
        WITHDRAWN,
    )
