"""The "what we heard" card: counts under the disclosure policy, text not codes, real quotes."""

from __future__ import annotations

from collections.abc import AsyncIterator
from dataclasses import replace
from datetime import timedelta
from typing import Any

import pytest
from sqlalchemy.ext.asyncio import AsyncEngine

from bot.core.captures import Capture, ConsentRecorded, ResponseCaptured, SessionSaved, VoteCaptured
from bot.core.direct import direct_group
from bot.core.ids import PersonRef
from bot.core.state import SessionState, Status
from bot.texts import Catalogue
from exporters import published
from exporters.heard_card import chosen_quotes, draft, quoting
from exporters.pseudonymise import Pseudonymiser
from exporters.redact import Redactor
from storage import heard as heard_module
from storage.cycles import CycleRecord
from storage.datasets import Datasets
from storage.db import make_engine
from storage.heard import heard
from storage.repositories import Repository
from tests.support.capture import STORE_KEY
from tests.support.export_cycle import LIBRARY
from tests.support.reach_cycle import GA, T0

ALONE = direct_group("c1")
CYCLE = CycleRecord("c1", "Homes", "repairs", ("housing",), "closed", T0, T0 + timedelta(days=9))
GREETINGS = ("hi everyone", "Thanks all!", "hello there", "ok")
ANSWERS = ("Repairs take far too long here", "We need a tenants' meeting every month")


def _session(session_id: str, group: object) -> SessionSaved:
    state = SessionState(
        group=group,  # type: ignore[arg-type]
        status=Status.RUNNING,
        session_id=session_id,
        cycle_id="c1",
        script_id="housing",
        script_version="2",
        started_at=T0,
        step_started_at=T0,
    )
    return SessionSaved(state)


def _captures() -> list[Capture]:
    found: list[Capture] = [_session("s-a", GA), _session("s-alone", ALONE)]
    for n in range(12):
        who = PersonRef("telegram", f"p{n}")
        found.append(ConsentRecorded(who, GA, frozenset({"participate", "quote"}), "1", "h", T0))
        at = T0 + timedelta(minutes=n)
        texts = (*GREETINGS, *ANSWERS)
        step = "open" if n < len(texts) else "statement"
        found.append(ResponseCaptured("s-a", who, GA, step, f"m{n}", texts[n % len(texts)], at))
        found.append(VoteCaptured("s-a", who, GA, "statement", (1 if n else 2,), at))
    resident = PersonRef("telegram", "alone")
    found.append(ConsentRecorded(resident, ALONE, frozenset({"participate"}), "1", "h", T0))
    found.append(ResponseCaptured("s-alone", resident, ALONE, "open", "r1", "ALONE-WORDS", T0))
    return found


@pytest.fixture
async def engine(migrated_url: str) -> AsyncIterator[AsyncEngine]:
    engine = make_engine(migrated_url)
    await Repository(engine, STORE_KEY).apply(_captures())
    yield engine
    await engine.dispose()


async def test_the_card_counts_under_the_policy_names_things_by_text_and_quotes_answers(
    engine: AsyncEngine,
) -> None:
    summary = await heard(engine, "c1")
    # The resident who took part alone is no group: one group, one session.
    assert (summary.groups, summary.sessions) == (1, 1)
    quotes = chosen_quotes(summary, LIBRARY, 5)
    disclosure, _ = await published.cycle_disclosure(
        Datasets(engine), LIBRARY, "c1", "en", 10, Pseudonymiser(b"k" * 32)
    )
    card = draft(
        CYCLE,
        replace(summary, quotes=quotes),
        LIBRARY,
        Catalogue.load(),
        "en",
        Redactor(),
        disclosure,
    )
    assert "Group 2" not in card and "ALONE-WORDS" not in card
    # 11 agree, 1 disagrees: 1 is "fewer than 10"; how many answered is not printed, so the
    # 11 gives nothing away. Answers are named by their text, a zero included.
    assert "**Landlords should share repair records with tenants.**" in card
    assert "- Disagree: fewer than 10" in card
    assert "- Agree: 11" in card and "- Pass: 0" in card
    assert "Group 1, “What matters most about your home?”: replies 6, people 6" not in card
    assert "Group 1, “What matters most about your home?”: fewer than 10 people" in card
    # Quotes are answers to the prompt that say something, never greetings.
    for answer in ANSWERS:
        assert f"“{answer}”" in card
    for greeting in GREETINGS:
        assert f"“{greeting}”" not in card


def _count_opened(monkeypatch: pytest.MonkeyPatch) -> list[int]:
    opened: list[int] = []
    real = heard_module.open_reply

    def counted(*args: Any) -> str:
        opened.append(args[1])
        return real(*args)

    monkeypatch.setattr(heard_module, "open_reply", counted)
    return opened


async def test_a_card_opens_only_the_replies_up_to_the_quotes_it_prints(
    engine: AsyncEngine, monkeypatch: pytest.MonkeyPatch
) -> None:
    every = await heard(engine, "c1")
    opened = _count_opened(monkeypatch)
    first = await heard(engine, "c1", quoting(LIBRARY, 1))
    # The same counts and the same first quote, read without opening every quotable reply.
    assert first == replace(every, quotes=chosen_quotes(every, LIBRARY, 1))
    assert first.quotes[0].text == ANSWERS[0]
    assert 0 < len(opened) < len(every.quotes)


async def test_the_disclosure_decision_opens_no_reply(
    engine: AsyncEngine, monkeypatch: pytest.MonkeyPatch
) -> None:
    opened = _count_opened(monkeypatch)
    disclosure, _ = await published.cycle_disclosure(
        Datasets(engine), LIBRARY, "c1", "en", 10, Pseudonymiser(b"k" * 32)
    )
    assert disclosure.threshold == 10
    assert opened == []
