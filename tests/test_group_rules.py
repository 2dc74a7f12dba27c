"""Group rules without any chat platform: registration, toggled votes, /forget, live tallies.

The engine is driven directly; the service runs on a real SQLite or PostgreSQL store with a
platform that only records what it was asked to do.
"""

from __future__ import annotations

from collections.abc import AsyncIterator
from datetime import UTC, datetime

import pytest

from bot.content.check import Library, load_library
from bot.content.check import load_library as _load
from bot.core import engine
from bot.core.actions import CheckAccess, SendPrivate, SendText
from bot.core.captures import ResponseDeleted, VoteCaptured
from bot.core.context import Actor, Context
from bot.core.effects import ForgetRequested, GroupRegistered, TallyChanged
from bot.core.events import ButtonPressed, CommandIssued, MessagePosted, VoteCast
from bot.core.ids import GroupRef, PersonRef
from bot.core.state import SessionState, Status
from bot.core.text import gist
from bot.service.shell import Policy, Service
from bot.texts import Catalogue
from storage.repositories import Repository
from tests.support.cli import ROOT
from tests.support.cli import ROOT as _ROOT
from tests.support.recording import Recorder

NOW = datetime(2025, 3, 4, 18, 30, tzinfo=UTC)
CHAT = GroupRef("chat", "-100")
TOPIC = GroupRef("chat", "-100/7")
SAM, FRAN, ALICE = (PersonRef("chat", name) for name in ("sam", "fran", "alice"))
TEXTS = Catalogue.load()

FIRST_THOUGHTS = gist(_load(_ROOT).scripts["health-data-intro"].steps[2].text)


def t(key: str, **params: object) -> str:
    return TEXTS.get("en", key, **params)


@pytest.fixture(scope="module")
def library() -> Library:
    return load_library(ROOT)


@pytest.fixture(scope="module")
def ctx(library: Library) -> Context:
    return Context(library, TEXTS, NOW, cycle_id="default")


def running(library: Library, step_id: str) -> SessionState:
    script = library.scripts["health-data-intro"]
    return SessionState(
        CHAT,
        Status.RUNNING,
        "s1",
        "default",
        script.id,
        script.version,
        script.index_of(step_id) or 0,
        NOW,
        NOW,
    )


def command(name: str, *args: str, by: PersonRef = SAM, **fields: object) -> CommandIssued:
    return CommandIssued(by, CHAT, name, args, NOW, "9", **fields)  # type: ignore[arg-type]


def test_only_staff_register_a_group_and_the_bot_then_checks_its_access(ctx: Context) -> None:
    staff = Actor(SAM, TOPIC, staff=True, registered=False)
    done = engine.step(SessionState(TOPIC), command("register"), staff, ctx)
    assert done.effects == (GroupRegistered(CHAT),)  # the whole chat, not just the topic
    assert done.actions == (SendText(TOPIC, t("groups.registered")), CheckAccess(TOPIC, SAM))
    refused = engine.step(SessionState(CHAT), command("register"), Actor(FRAN, CHAT), ctx)
    assert refused.effects == ()
    assert refused.actions == (SendPrivate(FRAN, t("groups.staff_only"), CHAT),)


def test_a_group_nobody_registered_cannot_start_a_session(ctx: Context) -> None:
    lead = Actor(FRAN, CHAT, facilitator=True, registered=False)
    refused = engine.step(SessionState(CHAT), command("start", "health-data-intro"), lead, ctx)
    assert refused.state == SessionState(CHAT) and refused.captures == ()
    assert refused.actions == (SendPrivate(FRAN, t("groups.not_registered"), CHAT),)


@pytest.mark.parametrize(
    ("current", "pressed", "expected"),
    [((), 2, (2,)), ((1, 3), 3, (1,)), ((1,), 4, (1, 4)), ((1,), 1, None)],
    ids=["first", "off", "on", "last-one-stays"],
)
def test_a_toggle_flips_one_option_of_a_multiple_choice_answer(
    library: Library,
    ctx: Context,
    current: tuple[int, ...],
    pressed: int,
    expected: tuple[int, ...] | None,
) -> None:
    state = running(library, "conditions")
    voter = Actor(ALICE, CHAT, frozenset({"participate"}), current_vote=current)
    press = VoteCast(ALICE, CHAT, "conditions", (pressed,), NOW, toggle=True, press_id="q1")
    done = engine.step(state, press, voter, ctx)
    if expected is None:
        assert done.captures == ()
        assert done.actions == (SendPrivate(ALICE, t("vote.keep_one"), CHAT),)
    else:
        assert done.captures == (VoteCaptured("s1", ALICE, CHAT, "conditions", expected, NOW),)
        assert done.effects == (TallyChanged(CHAT, "s1", "conditions", public=False),)


def test_forget_removes_the_replied_message_only_for_its_author_or_asks_for_a_number(
    library: Library, ctx: Context
) -> None:
    state = running(library, "first-thoughts")
    alice = Actor(ALICE, CHAT, frozenset({"participate"}))
    reply = engine.step(state, command("forget", by=ALICE, reply_to="41"), alice, ctx)
    assert reply.captures == (ResponseDeleted(CHAT, "41", NOW, ALICE),)
    numbered = engine.step(state, ButtonPressed(ALICE, None, "forget 2", NOW), alice, ctx)
    assert numbered.effects == (ForgetRequested(ALICE, 2),)
    bare = engine.step(state, command("forget", by=ALICE), alice, ctx)
    assert bare.captures == () and bare.actions == (SendPrivate(ALICE, t("forget.usage"), CHAT),)


@pytest.fixture
async def service(repo: Repository, library: Library) -> AsyncIterator[tuple[Service, Recorder]]:
    policy = Policy(staff=frozenset({SAM}), admins_facilitate=frozenset({"chat"}))
    clock = iter(datetime(2025, 3, 4, 18, 30, n, tzinfo=UTC) for n in range(60))
    service = Service(repo, library, TEXTS, policy, lambda p: f"p-{p.user_id}", lambda: next(clock))
    recorder = Recorder("chat")
    service.attach(recorder)
    yield service, recorder


async def test_a_session_in_a_topic_uses_the_whole_chats_registration_consent_and_admins(
    service: tuple[Service, Recorder], repo: Repository
) -> None:
    bot, seen = service
    await bot.handle(CommandIssued(SAM, TOPIC, "register", (), NOW, "1"))
    assert await repo.is_registered(CHAT) and not await repo.is_registered(TOPIC)
    await bot.handle(
        CommandIssued(FRAN, TOPIC, "start", ("health-data-intro",), NOW, "2", by_admin=True)
    )
    assert bot.sessions[TOPIC].status is Status.RUNNING
    # Consent through the private link names the topic; it is kept for the whole chat.
    await bot.handle(CommandIssued(ALICE, None, "agree", ("participate",), NOW, "3", about=TOPIC))
    assert (await repo.consent(ALICE, CHAT)) is not None
    await bot.handle(
        CommandIssued(FRAN, TOPIC, "goto", ("research-comfort",), NOW, "4", by_admin=True)
    )
    await bot.handle(VoteCast(ALICE, TOPIC, "research-comfort", (2,), NOW, press_id="p1"))
    await bot.handle(VoteCast(ALICE, TOPIC, "research-comfort", (2,), NOW, press_id="p1"))
    tallies = [a for a in seen.actions if isinstance(a, SendPrivate) and a.slot]
    assert [a.person for a in tallies] == [FRAN]  # the facilitator, once: the press came twice
    assert "2. Fairly comfortable: 1" in tallies[0].text


async def test_private_commands_about_an_unregistered_group_are_not_taken_for_it(
    service: tuple[Service, Recorder], repo: Repository
) -> None:
    bot, seen = service
    await bot.handle(CommandIssued(ALICE, None, "agree", ("participate",), NOW, "1", about=CHAT))
    assert await repo.consent(ALICE, CHAT) is None
    assert seen.actions == [SendPrivate(ALICE, t("consent.which_group"), None)]


async def test_forget_by_number_removes_that_reply_of_mydata(
    service: tuple[Service, Recorder], repo: Repository
) -> None:
    bot, seen = service
    await bot.handle(CommandIssued(SAM, CHAT, "register", (), NOW, "1"))
    await bot.handle(CommandIssued(SAM, CHAT, "start", ("health-data-intro",), NOW, "2"))
    await bot.handle(CommandIssued(ALICE, CHAT, "agree", ("participate",), NOW, "3"))
    await bot.handle(CommandIssued(SAM, CHAT, "goto", ("first-thoughts",), NOW, "4"))
    for number, words in enumerate(("keep me", "forget me", "keep me too"), start=10):
        await bot.handle(MessagePosted(ALICE, CHAT, str(number), words, NOW))
    await bot.handle(CommandIssued(ALICE, None, "forget", ("2",), NOW, "20"))
    await bot.handle(CommandIssued(ALICE, None, "forget", ("9",), NOW, "21"))
    remaining = (await repo.person_data(ALICE)).responses
    assert [r.text for r in remaining] == ["keep me", "keep me too"]
    replies = [a.text for a in seen.actions if isinstance(a, SendPrivate) and a.person == ALICE]
    assert replies[-2:] == [
        t("forget.done_number", number=2, question=FIRST_THOUGHTS),
        t("forget.no_such", number=9, replies="2 replies"),
    ]
