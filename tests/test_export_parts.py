"""The pieces of an export on their own: redaction, suppression, progress, exposures."""

import io
from dataclasses import replace
from datetime import UTC, datetime, timedelta

import pytest

from bot.core.captures import CardShown, SessionSaved
from bot.core.ids import GroupRef
from bot.core.state import SessionState, Status
from exporters.disclosure import Ledger
from exporters.progress import Progress
from exporters.redact import Redactor, valid_nhs_number
from storage.datasets import Datasets
from storage.db import make_engine
from storage.repositories import Repository
from tests.support.capture import STORE_KEY

T0 = datetime(2025, 3, 1, 18, 0, tzinfo=UTC)


@pytest.mark.parametrize(
    ("text", "expected"),
    [
        ("write to jo.bloggs+x@example.co.uk today", "write to [email] today"),
        ("see https://example.org/a?b=1.", "see [url]."),
        ("or www.nhs.uk, and nhs.uk/conditions/x)", "or [url], and [url])"),
        ("my number is 943 476 5919", "my number is [nhs-number]"),
        ("also 9434765919 and 943-476-5919", "also [nhs-number] and [nhs-number]"),
        ("call 020 7946 0958 or 07700900123", "call [phone] or [phone]"),
        ("or +44 (0)20 7946 0958 or +44 7700 900 123", "or [phone] or [phone]"),
        ("we live at SW1A 1AA and e1 6an", "we live at [postcode] and [postcode]"),
        ("thanks @alice_b!", "thanks [mention]!"),
        ("ring +1 415 555 2671 or +33 1 42 68 53 00", "ring [phone] or [phone]"),
        ("or +49 30 901820 (Berlin)", "or [phone] (Berlin)"),
        ("my NI is AB 12 34 56 C, or ab123456c", "my NI is [ni-number], or [ni-number]"),
        ("QQ 12 34 56 C is no NI number", "QQ 12 34 56 C is no NI number"),
        ("born 12/03/1985, or 3rd March 1979", "born [date-of-birth], or [date-of-birth]"),
        ("born March 3, 1990; we meet 12/03/2026", "born [date-of-birth]; we meet 12/03/2026"),
        ("at 12 Acacia Avenue, Leeds LS1 4AB now", "at [address] now"),
        ("Flat 3, 22b High Street is mine", "[address] is mine"),
        ("Acacia Avenue, Leeds LS1 4AB", "[address]"),
        ("3 ideas on the way home", "3 ideas on the way home"),
        (
            "<@123456789012345678> <@!12345> <@&999> <#4444>",
            "[mention] [mention] [mention] [mention]",
        ),
        ("ask tg://user?id=12345 or @bob_x", "ask [mention] or [mention]"),
        ("943 476 5918 fails the check", "943 476 5918 fails the check"),
        ("at 10 am on 12/03, about 2000 people", "at 10 am on 12/03, about 2000 people"),
    ],
)
def test_redaction_replaces_personal_details_and_nothing_else(text: str, expected: str) -> None:
    assert Redactor()(text)[0] == expected


def test_nhs_numbers_need_a_valid_check_digit() -> None:
    assert valid_nhs_number("9434765919")
    assert not valid_nhs_number("9434765918")
    assert not valid_nhs_number("123456789")
    # A remainder that gives a check digit of 10 is never a valid number.
    assert not any(valid_nhs_number(f"000000006{d}") for d in "0123456789")


def test_redaction_is_configurable_and_counts_by_kind() -> None:
    only_email = Redactor(["email"])
    assert only_email("a@b.org and @bob") == ("[email] and @bob", 1)
    assert dict(only_email.counts) == {"email": 1}
    assert Redactor([])("a@b.org") == ("a@b.org", 0)
    with pytest.raises(ValueError, match="unknown redaction kinds"):
        Redactor(["passport"])


def test_a_ten_digit_phone_number_is_not_taken_for_an_nhs_number() -> None:
    redact = Redactor()
    assert redact("ring 0207 946 0958") == ("ring [phone]", 1)
    assert dict(redact.counts)["phone"] == 1 and dict(redact.counts)["nhs_number"] == 0


def _settle(
    counts: dict[tuple[str, ...], int],
    sums: list[tuple[tuple[str, ...], list[tuple[str, ...]]]],
    threshold: int = 10,
) -> set[tuple[str, ...]]:
    ledger = Ledger(threshold)
    for key, value in counts.items():
        ledger.count(key, value)
    for total, members in sums:
        ledger.table(total, members)
    return set(ledger.settle().hidden)


def test_small_counts_are_hidden_and_so_is_a_cell_that_would_reveal_one() -> None:
    counts = {("a",): 3, ("b",): 25, ("c",): 40, ("total",): 68}
    assert _settle(counts, [(("total",), [("a",), ("b",), ("c",)])]) == {("a",), ("b",)}


def test_secondary_suppression_follows_through_crossing_totals() -> None:
    # Two groups x two answers with row and column totals.
    counts = {
        ("g1", "yes"): 4, ("g1", "no"): 30, ("g1", "all"): 34,
        ("g2", "yes"): 20, ("g2", "no"): 22, ("g2", "all"): 42,
        ("all", "yes"): 24, ("all", "no"): 52, ("all", "all"): 76,
    }  # fmt: skip
    rows = [((g, "all"), [(g, "yes"), (g, "no")]) for g in ("g1", "g2", "all")]
    columns = [(("all", a), [("g1", a), ("g2", a)]) for a in ("yes", "no", "all")]
    hidden = _settle(counts, rows + columns)
    assert ("g1", "yes") in hidden
    for total, members in rows + columns:
        assert sum(k in hidden for k in (total, *members)) != 1


def test_zero_is_shown_and_nothing_is_hidden_above_the_threshold() -> None:
    counts = {("a",): 0, ("b",): 12, ("total",): 12}
    assert _settle(counts, [(("total",), [("a",), ("b",)])]) == set()


class _Terminal(io.StringIO):
    def isatty(self) -> bool:
        return True


def test_progress_bar_draws_on_a_terminal_only() -> None:
    terminal, pipe = _Terminal(), io.StringIO()
    for stream in (terminal, pipe):
        bar = Progress(4, stream=stream)
        bar.advance(4)
        bar.finish()
    assert "4/4 rows" in terminal.getvalue() and "100%" in terminal.getvalue()
    assert pipe.getvalue() == ""


async def test_step_visits_and_cards_shown_are_stored(migrated_url: str) -> None:
    group = GroupRef("telegram", "-1")
    state = SessionState(
        group=group,
        status=Status.RUNNING,
        session_id="s1",
        cycle_id="c1",
        script_id="x",
        script_version="1",
        step_index=0,
        started_at=T0,
        step_started_at=T0,
    )
    moved = replace(state, step_index=1, step_started_at=T0 + timedelta(minutes=3))
    paused = replace(moved, status=Status.PAUSED)
    engine = make_engine(migrated_url)
    try:
        repo, datasets = Repository(engine, STORE_KEY), Datasets(engine)
        await repo.apply([SessionSaved(state)])
        await repo.apply([SessionSaved(moved), CardShown("s1", group, "read", "card", "2", T0)])
        await repo.apply([SessionSaved(paused)])  # the same step start: not a new visit
        visits = await datasets.step_visits("c1")
        cards = await datasets.card_exposures("c1")
        assert await datasets.step_visits("other") == []
    finally:
        await engine.dispose()
    assert [(v.step_index, v.started_at) for v in visits] == [(0, T0), (1, moved.step_started_at)]
    assert [(c.group, c.step_id, c.card_id, c.card_version) for c in cards] == [
        (group, "read", "card", "2")
    ]
