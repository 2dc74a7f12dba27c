"""A small deliberation cycle for export tests: groups, sessions, every kind of consent, PII."""

import asyncio
import importlib.util
from collections.abc import AsyncIterator, Iterator
from contextlib import asynccontextmanager
from dataclasses import replace
from datetime import UTC, datetime, timedelta
from pathlib import Path
from typing import Any

from sqlalchemy.ext.asyncio import AsyncEngine

from bot.content.check import Library
from bot.content.models import Card, Script, Source, Step
from bot.core.captures import (
    Capture,
    CardShown,
    ConsentRecorded,
    ProfileAnswered,
    ResponseCaptured,
    SessionSaved,
    VoteCaptured,
)
from bot.core.ids import GroupRef, PersonRef
from bot.core.state import SessionState, Status
from exporters.pseudonymise import Pseudonymiser
from storage.db import make_engine
from storage.repositories import Repository
from tests.support.capture import STORE_KEY
from tests.support.cli import ROOT

T0 = datetime(2025, 3, 3, 18, 0, tzinfo=UTC)
KEY = Pseudonymiser(b"export-test-key-0123456789")
G1, G2, G3 = (GroupRef("telegram", f"-100{n}") for n in (1, 2, 3))
TITLES = {G1: "Riverside tenants", G2: "Carers' circle", G3: "Youth forum"}


def person(name: str) -> PersonRef:
    return PersonRef("telegram", name)


ALICE, BOB, CAROL, DAVE, ERIN = (person(n) for n in ("alice", "bob", "carol", "dave", "erin"))
VOTERS = [person(f"voter{n}") for n in range(12)]

# Every kind of personal detail, in replies of people who agreed to be quoted.
PII = {
    "email": "jo.bloggs@example.co.uk",
    "phone": "07700 900123",
    "postcode": "E1 6AN",
    "nhs_number": "943 476 5919",
    "url": "https://example.org/my-page",
    "mention": "@neighbour_jo",
    "address": "12 Acacia Avenue",
    "ni_number": "AB 12 34 56 C",
    "date_of_birth": "12/03/1985",
}
NOT_NHS = "943 476 5918"  # ten digits, wrong check digit: kept

SCRIPT = Script(
    id="housing",
    version="2",
    title="Housing and health",
    language="en",
    estimated_minutes=30,
    steps=(
        Step(id="welcome", kind="message", text="Welcome!", minutes=2),
        Step(id="read", kind="card", text="Please read this.", cards=("rent-card",), minutes=5),
        Step(id="open", kind="prompt", text="What matters most about your home?", minutes=10),
        Step(
            id="statement",
            kind="choice",
            text="Landlords should share repair records with tenants.",
            options=("Agree", "Disagree", "Pass"),
            minutes=3,
        ),
        Step(
            id="priority",
            kind="choice",
            text="Which should come first?",
            options=("Rent", "Repairs", "Safety"),
            multiple=True,
            minutes=3,
        ),
        Step(id="close", kind="close", text="Thank you!"),
    ),
)
CARD = Card(
    id="rent-card",
    version="3",
    title="Rents explained",
    summary="How rents are set.",
    language="en",
    sources=(Source(title="Gov", url="https://www.gov.uk/"),),
    body="Rents are set by...",
)
LIBRARY = Library(scripts={SCRIPT.id: SCRIPT}, cards={CARD.id: CARD})


def run_session(
    group: GroupRef, session_id: str, cycle: str, start: datetime, end: bool
) -> Iterator[Capture]:
    state = SessionState(
        group=group,
        status=Status.RUNNING,
        session_id=session_id,
        cycle_id=cycle,
        script_id=SCRIPT.id,
        script_version=SCRIPT.version,
        step_index=0,
        started_at=start,
        step_started_at=start,
    )
    yield SessionSaved(state)
    for index in (1, 2, 3, 4):
        # The card step overruns its plan; every other step keeps to it.
        at = start + timedelta(minutes=2 + (index - 1) * 12)
        state = replace(state, step_index=index, step_started_at=at)
        yield SessionSaved(state)
        if index == 1:
            yield CardShown(session_id, group, "read", CARD.id, CARD.version, at)
    if end:
        yield SessionSaved(replace(state, status=Status.ENDED, ended_at=start + timedelta(hours=1)))


def consented(who: PersonRef, group: GroupRef, *scopes: str) -> ConsentRecorded:
    return ConsentRecorded(who, group, frozenset(scopes), "v1", "sha256:abc", T0)


def replied(
    who: PersonRef, group: GroupRef, session_id: str, n: int, text: str, minutes: int = 20
) -> ResponseCaptured:
    at = T0 + timedelta(minutes=minutes + n)
    return ResponseCaptured(session_id, who, group, "open", f"{who.user_id}-{n}", text, at)


def _vote(
    who: PersonRef, group: GroupRef, session_id: str, step: str, *options: int
) -> VoteCaptured:
    return VoteCaptured(session_id, who, group, step, options, T0 + timedelta(minutes=40))


def cycle_captures() -> list[Capture]:
    """Cycle c0 (alice's first time), then cycle c1 with three groups and four sessions."""
    earlier = T0 - timedelta(days=60)
    day2 = T0 + timedelta(days=1)
    pii = " ".join(f"{kind}: {value}." for kind, value in PII.items())
    return [
        *run_session(G1, "s-c0", "c0", earlier, end=True),
        *run_session(G1, "s-g1", "c1", T0, end=True),
        *run_session(G2, "s-g2", "c1", T0, end=True),
        *run_session(G3, "s-g3a", "c1", T0, end=True),
        *run_session(G3, "s-g3b", "c1", day2, end=False),
        consented(ALICE, G1, "participate", "quote", "profile", "followup"),
        consented(BOB, G1, "participate"),
        consented(CAROL, G2, "participate", "quote"),
        consented(DAVE, G2, "participate", "quote"),
        consented(ERIN, G3, "participate", "profile"),
        *(consented(v, G3, "participate", "quote") for v in VOTERS),
        ResponseCaptured(
            "s-c0",
            ALICE,
            G1,
            "open",
            "alice-c0",
            "ALICE-EARLIER thought",
            earlier + timedelta(minutes=20),
        ),
        replied(ALICE, G1, "s-g1", 1, f"ALICE-QUOTE my details {pii} Not NHS: {NOT_NHS}"),
        replied(ALICE, G1, "s-g1", 2, "ALICE-SECOND reply"),
        replied(BOB, G1, "s-g1", 3, "BOB-NO-QUOTE private view"),
        replied(CAROL, G2, "s-g2", 1, "CAROL-QUOTE repairs take months"),
        replied(DAVE, G2, "s-g2", 2, "DAVE-LATER-WITHDRAWS words"),
        replied(ERIN, G3, "s-g3a", 1, "ERIN-PROFILE-ONLY thoughts"),
        *(replied(v, G3, "s-g3a", 10 + i, f"voter {i} says hello") for i, v in enumerate(VOTERS)),
        replied(VOTERS[0], G3, "s-g3b", 1, "VOTER-DAY-TWO", minutes=60 * 24 + 20),
        _vote(ALICE, G1, "s-g1", "statement", 1),
        _vote(BOB, G1, "s-g1", "statement", 2),
        _vote(CAROL, G2, "s-g2", "statement", 3),
        _vote(DAVE, G2, "s-g2", "statement", 1),
        *(_vote(v, G3, "s-g3a", "statement", 1 if i < 10 else 2) for i, v in enumerate(VOTERS)),
        *(_vote(v, G3, "s-g3a", "priority", 1, 2) for v in VOTERS[:4]),
        _vote(ALICE, G1, "s-g1", "priority", 3),
        ProfileAnswered(ALICE, "age", None, T0),  # skipped
        ProfileAnswered(ERIN, "age", "25-34", T0),
        # Bob never agreed to the profile scope: his answer is not exported.
        ProfileAnswered(BOB, "age", "BOB-AGE-65", T0),
    ]


@asynccontextmanager
async def cycle_engine(url: str) -> AsyncIterator[AsyncEngine]:
    """An engine on ``url`` with this cycle stored, disposed of after."""
    engine = make_engine(url)
    try:
        await Repository(engine, STORE_KEY).apply(cycle_captures())
        yield engine
    finally:
        await engine.dispose()


def _export_bench() -> object:
    path = ROOT / "bench" / "export_bench.py"
    spec = importlib.util.spec_from_file_location("export_bench", path)
    assert spec is not None and spec.loader is not None
    module = importlib.util.module_from_spec(spec)
    spec.loader.exec_module(module)
    return module


# The export benchmark's own code (``bench/export_bench.py``), for its generated cycles.
bench: Any = _export_bench()


async def bench_database(folder: Path, replies: int) -> Path:
    """A SQLite file in ``folder`` holding the export benchmark's cycle of ``replies``."""
    db = folder / "bench.db"
    await asyncio.to_thread(bench.generate, db, replies)
    return db
