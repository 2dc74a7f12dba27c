"""Profile answers in the database, /mydata and /withdraw, and /status counts, end to end.

Real SQLite files (and PostgreSQL when DIALOGUE_TEST_DATABASE_URL is set); the service is the
real one, with a platform that records what it is asked to send.
"""

from __future__ import annotations

from collections.abc import AsyncIterator
from datetime import UTC, datetime, timedelta
from pathlib import Path

import pytest

from bot.content.check import load_library
from bot.core.captures import ConsentRecorded, ProfileAnswered, ProfileDeleted
from bot.core.events import CommandIssued, Event, MessagePosted
from bot.core.ids import GroupRef, PersonRef
from bot.core.records import ProfileAnswer, Turnout
from bot.service.shell import Policy, Service
from bot.texts import Catalogue
from exporters.pseudonymise import Pseudonymiser
from storage.db import sqlite_file
from storage.repositories import Repository
from tests.support.cli import ROOT
from tests.support.recording import Recorder

T0 = datetime(2025, 3, 4, 18, 0, tzinfo=UTC)
G1, G2 = GroupRef("console", "g1"), GroupRef("console", "g2")
ALICE, BOB, CAROL, DAVE, FRAN = (
    PersonRef("console", n) for n in ("alice", "bob", "carol", "dave", "fran")
)


def consent(person: PersonRef, group: GroupRef, *scopes: str) -> ConsentRecorded:
    return ConsentRecorded(person, group, frozenset(scopes), "1.0", "sha256:x", T0)


def answered(question: str, answer: str | None, minutes: int = 0) -> ProfileAnswered:
    return ProfileAnswered(ALICE, question, answer, T0 + timedelta(minutes=minutes))


async def test_answers_are_stored_replaced_and_skips_kept_as_no_answer(repo: Repository) -> None:
    await repo.apply([consent(ALICE, G1, "participate", "profile")])
    await repo.apply([answered("age", "25 to 34"), answered("gender", None, 1)])
    await repo.apply([answered("age", "35 to 44", 2), answered("age", "45 to 54", 3)])
    assert await repo.profile_answers(ALICE) == (
        ProfileAnswer("gender", None, T0 + timedelta(minutes=1)),
        ProfileAnswer("age", "45 to 54", T0 + timedelta(minutes=3)),
    )
    assert (await repo.person_data(ALICE)).profile == await repo.profile_answers(ALICE)
    assert await repo.profile_answers(BOB) == ()


async def test_deleting_one_answer_then_all(repo: Repository) -> None:
    await repo.apply([consent(ALICE, G1, "participate", "profile")])
    await repo.apply([answered("age", "25 to 34"), answered("gender", "Woman", 1)])
    await repo.apply([ProfileDeleted(ALICE, "age")])
    assert [a.question_id for a in await repo.profile_answers(ALICE)] == ["gender"]
    await repo.apply([ProfileDeleted(ALICE)])
    assert await repo.profile_answers(ALICE) == ()


async def test_answers_outlive_a_narrowed_consent_only_while_another_group_keeps_the_scope(
    repo: Repository,
) -> None:
    await repo.apply(
        [
            consent(ALICE, G1, "participate", "profile"),
            consent(ALICE, G2, "participate", "profile"),
            answered("age", "25 to 34"),
        ]
    )
    drop = ProfileDeleted(ALICE, None, unless_consented=True)
    await repo.apply([consent(ALICE, G1, "participate"), drop])
    assert len(await repo.profile_answers(ALICE)) == 1
    await repo.apply([consent(ALICE, G2, "participate", "quote"), drop])
    assert await repo.profile_answers(ALICE) == ()


async def test_erasure_removes_profile_answers_from_the_database_file(
    repo: Repository, migrated_url: str
) -> None:
    await repo.apply(
        [consent(ALICE, G1, "participate", "profile"), answered("area", "ZANZIBAR-WARD-UNIQUE")]
    )
    await repo.erase_person(ALICE, "p-alice", T0)
    assert await repo.profile_answers(ALICE) == ()
    path = sqlite_file(migrated_url)
    if path is not None:
        stored = b"".join(p.read_bytes() for p in (path, Path(f"{path}-wal")) if p.exists())
        assert b"ZANZIBAR-WARD-UNIQUE" not in stored


# --- through the service -----------------------------------------------------------------------


class Chat:
    def __init__(self, service: Service, platform: Recorder) -> None:
        self.service, self.platform, self.count = service, platform, 0

    async def __call__(self, person: PersonRef, text: str, private: bool = False) -> list[str]:
        """``person`` types ``text`` in G1 (or privately); the private replies it brings."""
        self.count += 1
        before = len(self.platform.private(person))
        group = None if private else G1
        at = T0 + timedelta(seconds=10 * self.count)
        event: Event
        if text.startswith("/"):
            name, *args = text[1:].split()
            event = CommandIssued(person, group, name, tuple(args), at, f"m{self.count}")
        else:
            event = MessagePosted(person, group, f"m{self.count}", text, at)
        await self.service.handle(event)
        return self.platform.private(person)[before:]


@pytest.fixture
async def chat(repo: Repository) -> AsyncIterator[Chat]:
    texts = Catalogue.load()
    policy = Policy(facilitators={G1: frozenset({FRAN})}, registered=frozenset({G1}))
    service = Service(
        repo,
        load_library(ROOT),
        texts,
        policy,
        Pseudonymiser(b"profile-test-key-0123456789"),
        clock=lambda: T0,
    )
    platform = Recorder()
    service.attach(platform)
    yield Chat(service, platform)


def t(key: str, **params: object) -> str:
    return Catalogue.load().get("en", key, **params)


async def test_status_counts_consented_people_who_spoke_and_names_nobody(
    chat: Chat, repo: Repository
) -> None:
    await chat(FRAN, "/start health-data-intro")
    await chat(ALICE, "/agree participate profile")
    await chat(BOB, "/agree participate")
    await chat(CAROL, "I have not agreed to anything")
    await chat(ALICE, "hello everyone")
    await chat(FRAN, "/next")
    await chat(BOB, "a reply at the second step")
    status = await chat(FRAN, "/status")
    counts = t("turnout.status", consented=2, replied=1, waiting=1, silent=0)
    assert status[-1].splitlines()[0] == counts
    await chat(DAVE, "/agree participate")
    status = await chat(FRAN, "/status")
    counts = t("turnout.status", consented=3, replied=1, waiting=2, silent=1)
    assert status[-1].splitlines()[0] == counts
    for name in ("alice", "bob", "carol", "dave"):
        assert name not in status[-1]
    assert await repo.turnout("nope", "welcome", G1) == Turnout(3, 0, 3)


async def test_profile_answers_are_shown_by_mydata_and_erased_by_withdraw(
    chat: Chat, repo: Repository
) -> None:
    await chat(FRAN, "/start health-data-intro")
    invited = await chat(ALICE, "/agree participate profile")
    assert invited[-1] == t("profile.invite", questions="7 short questions")
    first = await chat(ALICE, "/profile start", private=True)
    assert t("profile.question", number=1, count=7, text="Which age group are you in?") in first[0]
    await chat(ALICE, "/profile answer age 2", private=True)
    await chat(ALICE, "/profile skip gender", private=True)
    review = await chat(ALICE, "/profile", private=True)
    assert t("profile.review_line", number=1, label="Age group", answer="25 to 34") in review[0]
    mydata = (await chat(ALICE, "/mydata", private=True))[0]
    assert (
        t("profile.mydata_answer", question="Which age group are you in?", answer="25 to 34")
        in mydata
    )
    skipped = t("profile.skipped_mark")
    assert (
        t("profile.mydata_answer", question="Which of these best describes you?", answer=skipped)
        in mydata
    )
    await chat(ALICE, "/withdraw confirm", private=True)
    assert await repo.profile_answers(ALICE) == ()


async def test_a_person_without_the_profile_consent_is_never_stored(
    chat: Chat, repo: Repository
) -> None:
    await chat(FRAN, "/start health-data-intro")
    await chat(BOB, "/agree participate quote")
    said = await chat(BOB, "/profile answer age 2", private=True)
    assert said == [t("profile.no_consent")]
    assert await repo.profile_answers(BOB) == ()
