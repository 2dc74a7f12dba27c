"""A cycle with two opinion blocs and three planted themes, for the analysis tests.

Twenty-four people in two groups vote on six agree/disagree statements: the first twelve
(bloc A) agree with the "more buses and parks" statements and disagree with the "fewer"
ones, the other twelve the other way round, and everyone agrees with the last. A seventh
statement is never voted on. Each person answers the open prompt with words of one of three
themes (buses, parks, rents), independent of their bloc; people with an even number agreed to
be quoted, the others did not (and write each theme's most typical replies).
"""

from dataclasses import replace
from datetime import UTC, datetime, timedelta

from bot.content.check import Library
from bot.content.models import Script, Step
from bot.core.captures import (
    Capture,
    ConsentRecorded,
    ResponseCaptured,
    SessionSaved,
    VoteCaptured,
)
from bot.core.ids import GroupRef, PersonRef
from bot.core.state import SessionState, Status

T0 = datetime(2025, 6, 2, 18, 0, tzinfo=UTC)
GROUPS = (GroupRef("telegram", "-2001"), GroupRef("telegram", "-2002"))
PEOPLE = [PersonRef("telegram", f"p{n:02}") for n in range(24)]
BLOC_A = PEOPLE[:12]
AGREE, DISAGREE = 1, 2
STATEMENTS = {
    "more-buses": "The council should run more buses at night.",
    "more-parks": "New housing should come with a park.",
    "more-benches": "Every street should have a bench.",
    "fewer-routes": "Bus routes that few people use should be cut.",
    "fewer-parks": "Parks could make room for car parks.",
    "safe-streets": "Streets should be safe to walk at night.",
    "never-voted": "The town hall should open on Sundays.",
}
# Bloc A agrees with these and disagrees with the rest (bloc B the other way round).
BLOC_A_AGREES = ("more-buses", "more-parks", "more-benches")
EVERYONE_AGREES = "safe-streets"
THEMES = {
    "buses": ("bus", "buses", "timetable", "route", "driver", "stop", "late", "ticket"),
    "parks": ("park", "trees", "benches", "playground", "grass", "flowers", "dogs", "pond"),
    "rents": ("rent", "landlord", "repairs", "flat", "deposit", "damp", "tenancy", "mould"),
}
SCRIPT = Script(
    id="town",
    version="1",
    title="Our town",
    language="en",
    estimated_minutes=30,
    steps=(
        Step(id="welcome", kind="message", text="Welcome!", minutes=1),
        Step(id="open", kind="prompt", text="What should change in our town?", minutes=10),
        *(
            Step(id=key, kind="choice", text=text, options=("Agree", "Disagree", "Pass"))
            for key, text in STATEMENTS.items()
        ),
        Step(id="close", kind="close", text="Thank you!"),
    ),
)
LIBRARY = Library(scripts={SCRIPT.id: SCRIPT}, cards={})


def theme_of(n: int) -> str:
    """The theme person ``n`` writes about."""
    return list(THEMES)[n % 3]


def quotable(n: int) -> bool:
    """Whether person ``n`` agreed to be quoted."""
    return n % 2 == 0


def reply_text(n: int) -> str:
    """Person ``n``'s reply: a run of their theme's words, from a place of their own.

    People who did not agree to be quoted use seven of the theme's eight words, the others four, so
    the replies nearest a theme's centre, which quotes are picked from, are the former's.
    """
    words = THEMES[theme_of(n)]
    picked = [words[(n // 3 + i) % len(words)] for i in range(4 if quotable(n) else 7)]
    return f"I think about the {', the '.join(picked)}."


def typed_votes() -> dict[PersonRef, dict[str, int]]:
    """The vote matrix the cycle casts, coded as Polis codes it (agree 1, disagree -1)."""
    matrix = {}
    for who in PEOPLE:
        a = who in BLOC_A
        votes = {key: 1 if (key in BLOC_A_AGREES) == a else -1 for key in BLOC_A_AGREES}
        votes |= {key: -1 if a else 1 for key in ("fewer-routes", "fewer-parks")}
        votes[EVERYONE_AGREES] = 1
        matrix[who] = votes
    return matrix


def captures(cycle: str = "c1") -> list[Capture]:
    """Two sessions, consents, replies and votes of the cycle."""
    found: list[Capture] = []
    for number, group in enumerate(GROUPS):
        state = SessionState(
            group=group,
            status=Status.RUNNING,
            session_id=f"s{number}",
            cycle_id=cycle,
            script_id=SCRIPT.id,
            script_version=SCRIPT.version,
            started_at=T0,
            step_started_at=T0,
        )
        found.append(SessionSaved(state))
        ended = replace(state, status=Status.ENDED, ended_at=T0 + timedelta(hours=1))
        found.append(SessionSaved(ended))
    matrix = typed_votes()
    for n, who in enumerate(PEOPLE):
        group, session = GROUPS[n % 2], f"s{n % 2}"
        scopes = {"participate", "quote"} if quotable(n) else {"participate"}
        found.append(ConsentRecorded(who, group, frozenset(scopes), "v1", "sha256:abc", T0))
        at = T0 + timedelta(minutes=5 + n)
        found.append(ResponseCaptured(session, who, group, "open", f"m{n}", reply_text(n), at))
        for i, (key, vote) in enumerate(matrix[who].items()):
            option = AGREE if vote == 1 else DISAGREE
            when = T0 + timedelta(minutes=30 + i, seconds=n)
            found.append(VoteCaptured(session, who, group, key, (option,), when))
    return found
