"""A cycle whose reach figures were worked out by hand (see test_reach.py for the sums).

Thirty people take part in cycle c1: p00-p19 in session s-a, p20-p29 in session s-b; session
s-c has nobody. p00-p24 agreed to the profile questions and answered as below; p25-p29 did not
(p25 still has an answer stored from before, which must not count). p99 took part only in an
earlier cycle and must not count either.
"""

from __future__ import annotations

from collections.abc import Iterator
from datetime import UTC, datetime, timedelta

from bot.content.baseline import Baseline, BaselineRow
from bot.content.profile import ProfileQuestion, ProfileQuestions
from bot.core.captures import (
    Capture,
    ConsentRecorded,
    ProfileAnswered,
    ResponseCaptured,
    SessionSaved,
    VoteCaptured,
)
from bot.core.ids import GroupRef, PersonRef
from bot.core.state import SessionState, Status

T0 = datetime(2025, 5, 6, 18, 0, tzinfo=UTC)
GA, GB, GC = (GroupRef("telegram", f"-200{n}") for n in (1, 2, 3))

QUESTIONS = ProfileQuestions(
    language="en",
    version="1",
    questions=(
        ProfileQuestion(
            id="age", label="Age group", text="How old are you?", options=("Under 40", "40 or over")
        ),
        ProfileQuestion(
            id="ethnic",
            label="Ethnic group",
            text="Your ethnic group?",
            options=(
                "Bangladeshi",
                "Indian",
                "African",
                "Caribbean",
                "White British",
                "Other White",
                "Arab",
            ),
            groups={
                "Asian": ("Bangladeshi", "Indian"),
                "Black": ("African", "Caribbean"),
                "White": ("White British", "Other White"),
                "Other": ("Arab",),
            },
        ),
        ProfileQuestion(
            id="before",
            label="Taken part before",
            text="Taken part before?",
            options=("Yes", "No"),
            baseline=False,
        ),
    ),
)


def _row(category: str, value: str, share: float, source: str) -> BaselineRow:
    return BaselineRow(category=category, value=value, share=share, source=source, date="2021")


def baseline(source: str = "Census 2021") -> Baseline:
    return Baseline(
        (
            _row("age", "Under 40", 50.0, source),
            _row("age", "40 or over", 50.0, source),
            _row("ethnic", "Asian", 25.0, source),
            _row("ethnic", "Black", 20.0, source),
            _row("ethnic", "White", 45.0, source),
            _row("ethnic", "Other", 10.0, source),
        )
    )


def person(n: int) -> PersonRef:
    return PersonRef("telegram", f"p{n:02d}")


def _session(session_id: str, group: GroupRef, cycle: str, start: datetime) -> SessionSaved:
    return SessionSaved(
        SessionState(
            group=group,
            status=Status.RUNNING,
            session_id=session_id,
            cycle_id=cycle,
            script_id="housing",
            script_version="1",
            started_at=start,
            step_started_at=start,
        )
    )


def _replies(session_id: str, group: GroupRef, who: PersonRef, count: int) -> Iterator[Capture]:
    for n in range(count):
        at = T0 + timedelta(minutes=n)
        yield ResponseCaptured(session_id, who, group, "open", f"{who.user_id}-{n}", "words", at)


def _answers(who: int) -> dict[str, str | None]:
    """p00-p24's answers (a missing key: never asked)."""
    age = "Under 40" if who < 15 else "40 or over" if who < 20 else "Prefer not to say"
    ethnic: str | None = (
        "Bangladeshi"
        if who < 3
        else "Indian"
        if who < 6
        else "White British"
        if who < 15
        else "Other White"
        if who < 20
        else None
    )
    found: dict[str, str | None] = {"age": age, "ethnic": ethnic}
    if who < 20:
        found["before"] = "Yes" if who < 10 else "No"
    elif who < 22:
        found["before"] = None  # skipped; p22-p24 were never asked
    return found


def captures() -> list[Capture]:
    """Everything stored for the cycle, in the order the bot would have stored it."""
    found: list[Capture] = [
        _session("s-a", GA, "c1", T0),
        _session("s-b", GB, "c1", T0 + timedelta(days=1)),
        _session("s-c", GC, "c1", T0 + timedelta(days=2)),
        _session("s-old", GA, "c0", T0 - timedelta(days=60)),
    ]
    for n in range(30):
        group = GA if n < 20 else GB
        scopes = {"participate", "profile"} if n < 25 else {"participate"}
        found.append(ConsentRecorded(person(n), group, frozenset(scopes), "1", "sha256:x", T0))
        if n < 25:
            for question, answer in _answers(n).items():
                found.append(ProfileAnswered(person(n), question, answer, T0))
    # p25 answered once, then agreed again without the profile: the answer must not count.
    found.append(ProfileAnswered(person(25), "age", "Under 40", T0))
    # s-a: four people wrote 6 replies each, twelve wrote 1, four only voted.
    for n in range(20):
        found += _replies("s-a", GA, person(n), 6 if n < 4 else 1 if n < 16 else 0)
        if n >= 16:
            found.append(VoteCaptured("s-a", person(n), GA, "statement", (1,), T0))
    # s-b: ten people wrote 2 replies each.
    for n in range(20, 30):
        found += _replies("s-b", GB, person(n), 2)
    p99 = PersonRef("telegram", "p99")
    found += [
        ConsentRecorded(p99, GA, frozenset({"participate", "profile"}), "1", "sha256:x", T0),
        ProfileAnswered(p99, "age", "40 or over", T0),
        *_replies("s-old", GA, p99, 3),
    ]
    return found
