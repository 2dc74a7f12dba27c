"""What the intake cleans: every text and id of an event, each field on its own.

``clean_event`` checks all of an event's text at once and looks field by field only when
some of it is dirty; these tests put one dirty piece in each place text can hide.
"""

from __future__ import annotations

from dataclasses import replace
from datetime import UTC, datetime

import pytest

from bot.core.events import CommandIssued, Event, MessagePosted
from bot.core.ids import GroupRef, PersonRef
from bot.core.text import REPLACEMENT, clean_event

AT = datetime(2025, 3, 1, 18, 0, tzinfo=UTC)
ALICE = PersonRef("telegram", "42")
GROUP = GroupRef("telegram", "-100")
POSTED = MessagePosted(ALICE, GROUP, "m1", "কেমন আছেন? 👋🏽 fine", AT, reply_to="m0", locale="bn")
ISSUED = CommandIssued(ALICE, None, "agree", ("participate",), AT, "c1", about=GROUP)


@pytest.mark.parametrize("event", [POSTED, ISSUED])
def test_a_clean_event_is_the_very_same_object(event: Event) -> None:
    assert clean_event(event) is event


NUL, SURROGATE = "a\x00b", "a\ud800b"
DIRTY: list[tuple[Event, Event]] = [
    (replace(POSTED, text=NUL), replace(POSTED, text="ab")),
    (replace(POSTED, text="অ" + SURROGATE), replace(POSTED, text=f"অa{REPLACEMENT}b")),
    (replace(POSTED, message_id=NUL), replace(POSTED, message_id="ab")),
    (replace(POSTED, reply_to=SURROGATE), replace(POSTED, reply_to=f"a{REPLACEMENT}b")),
    (replace(POSTED, locale=NUL), replace(POSTED, locale="ab")),
    (
        replace(POSTED, person=PersonRef("telegram", NUL)),
        replace(POSTED, person=PersonRef("telegram", "ab")),
    ),
    (replace(POSTED, person=PersonRef(NUL, "42")), replace(POSTED, person=PersonRef("ab", "42"))),
    (
        replace(POSTED, group=GroupRef("telegram", SURROGATE)),
        replace(POSTED, group=GroupRef("telegram", f"a{REPLACEMENT}b")),
    ),
    (replace(ISSUED, args=("participate", NUL)), replace(ISSUED, args=("participate", "ab"))),
    (
        replace(ISSUED, about=GroupRef("telegram", NUL)),
        replace(ISSUED, about=GroupRef("telegram", "ab")),
    ),
]


@pytest.mark.parametrize(("dirty", "cleaned"), DIRTY)
def test_a_nul_or_a_lone_surrogate_is_cleaned_wherever_it_is(dirty: Event, cleaned: Event) -> None:
    assert clean_event(dirty) == cleaned
