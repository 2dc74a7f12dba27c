"""A language per person and per group session, end to end on SQLite and PostgreSQL.

Two people share a group session: Rani's device is set to Bengali, Alice's to English. Each is
spoken to privately in their own language, the group in the session's; Rani's choice is stored
once she consents, survives a restart, shows in /mydata and goes when she withdraws; the consent
records the Bengali text's language and hash; each reply records its language. Bob never
consents: his choice is kept in memory only. The Bengali is the shipped translation and consent.
"""

from __future__ import annotations

import hashlib
import io
from collections.abc import Iterable
from dataclasses import replace
from pathlib import Path

import pytest
from sqlalchemy import func, select

import bot.service.languages
from bot.core import engine, languages, results
from bot.core.actions import AskChoice, SendPrivate, SendText
from bot.core.captures import ProfileAnswered
from bot.core.context import Actor, Context
from bot.core.effects import TallyChanged
from bot.core.events import CommandIssued, MessagePosted
from bot.core.ids import GroupRef, PersonRef
from bot.core.records import ProfileAnswer
from bot.core.results import TallyLoaded
from bot.core.state import SessionState, Status
from bot.platforms.console.adapter import ConsolePlatform
from bot.service.languages import Languages
from exporters.dataset import ExportOptions, export_dataset
from exporters.pseudonymise import Pseudonymiser
from storage.datasets import Datasets
from storage.db import upgrade
from storage.tables import consents, person_languages, responses, sessions
from tests.support.capture import (
    FRAN,
    LIBRARY,
    STORE_KEY,
    T0,
    at,
    group,
    person,
    running,
    t,
    user_ids,
)
from tests.support.export_text import csv_rows
from tests.support.languages import BN_CONSENT, catalogue, is_bengali, language_of, not_in

G1 = group("g1")
RANI, ALICE, BOB = person("rani"), person("alice"), person("bob")
CONSOLE_GROUP = GroupRef("console", "g")
FRAN_CONSOLE = PersonRef("console", "fran")


def cmd(who, where, line: str, mid: str | None, locale: str | None = None, when: float = 0):  # type: ignore[no-untyped-def]
    name, *args = line.lstrip("/").split()
    return CommandIssued(who, where, name, tuple(args), at(when), mid, locale=locale)


async def count(engine, table, *where) -> int:  # type: ignore[no-untyped-def]
    async with engine.connect() as conn:
        query = select(func.count()).select_from(table)
        return int((await conn.execute(query.where(*where) if where else query)).scalar_one())


def last_private(bot, who) -> str:  # type: ignore[no-untyped-def]
    return bot.platform.private(who)[-1]


async def test_two_people_each_in_their_own_language_in_one_group_session(
    database_url: str, tmp_path: Path
) -> None:
    await upgrade(database_url)
    texts = catalogue()
    bangla = languages.name("bn", Context(LIBRARY, texts, T0, "c"))
    async with running(database_url, [G1], library=LIBRARY, texts=texts) as bot:
        handle = bot.service.handle
        await handle(cmd(FRAN, G1, "/start health-data-intro", "c1", "en-GB"))
        # Rani's device is in Bengali: the consent she reads is the Bengali one.
        await handle(cmd(RANI, G1, "/consent", "c2", "bn-BD"))
        read = last_private(bot, RANI)
        assert read.startswith(texts.get("bn", "consent.header", version=BN_CONSENT.version))
        assert BN_CONSENT.full_text() in read
        # Bob has not consented: his choice is kept in memory, never stored.
        await handle(cmd(BOB, None, "/language bn", "c3", "en-GB"))
        assert last_private(bot, BOB).startswith(texts.get("bn", "language.chosen", name=bangla))
        await handle(cmd(BOB, None, "/mydata", "c3b", "en-GB"))
        assert last_private(bot, BOB) == texts.get("bn", "mydata.none")
        await handle(cmd(RANI, G1, "/agree participate", "c4", "bn-BD"))
        assert last_private(bot, RANI) == texts.get("bn", "consent.agreed", scopes="participate")
        await handle(cmd(ALICE, G1, "/agree participate", "c5", "en-GB"))
        assert last_private(bot, ALICE) == t("consent.agreed", scopes="participate")
        await handle(cmd(RANI, None, "/language bn", "c6", "bn-BD"))
        await handle(cmd(FRAN, G1, "/goto first-thoughts", "c7", "en-GB"))
        await handle(MessagePosted(RANI, G1, "m1", "আমার মতামত", at(1), locale="bn-BD"))
        await handle(MessagePosted(ALICE, G1, "m2", "my view", at(2), locale="en-GB"))
        engine = bot.engine
        async with engine.connect() as conn:
            stored = dict(
                (await conn.execute(select(responses.c.message_id, responses.c.language))).all()
            )
            agreed = (
                await conn.execute(
                    select(
                        consents.c.language, consents.c.text_hash, consents.c.consent_version
                    ).order_by(consents.c.id)
                )
            ).all()
        assert stored == {"m1": "bn", "m2": "en"}
        bn_hash = hashlib.sha256(BN_CONSENT.full_text().encode("utf-8")).hexdigest()
        assert agreed[0] == ("bn", bn_hash, BN_CONSENT.version)
        assert agreed[1][0] == "en"
        # Only Rani chose and consented: Bob's choice is nowhere in the database, nor is Bob.
        assert await count(engine, person_languages) == 1
        async with engine.connect() as conn:
            assert BOB.user_id not in (await user_ids(conn)).values()
        # The facilitator sets the session's language: the group reads Bengali from then on.
        await handle(cmd(FRAN, G1, "/language bn", "c8", "en-GB"))
        assert bot.platform.group_texts()[-1] == texts.get(
            "bn", "language.session_set", name=bangla
        )
        async with engine.connect() as conn:
            assert (await conn.execute(select(sessions.c.language))).scalar_one() == "bn"
        await handle(cmd(FRAN, G1, "/end", "c9", "en-GB"))
        assert texts.get("bn", "session.ended") in bot.platform.group_texts()
        # The export records each reply's language.
        options = ExportOptions(out=tmp_path / "export", cycle_id=None, made_by="t", now=at(9))
        datasets = Datasets(engine)
        await export_dataset(datasets, LIBRARY, Pseudonymiser(STORE_KEY), options)
        rows = csv_rows(tmp_path / "export" / "responses.csv")
        assert sorted(r["reply_language"] for r in rows) == ["bn", "en"]
        # Alice is still spoken to in English in private.
        await handle(cmd(ALICE, None, "/mydata", "c10", "en-GB"))
        assert last_private(bot, ALICE).startswith(t("mydata.header"))
    # After a restart, with no locale from the platform, Rani's stored choice still holds.
    async with running(database_url, [G1], library=LIBRARY, texts=texts) as bot:
        await bot.service.handle(cmd(RANI, None, "/mydata", "d1"))
        shown = last_private(bot, RANI)
        assert shown.startswith(texts.get("bn", "mydata.header"))
        assert texts.get("bn", "mydata.language", name=bangla) in shown
        await bot.service.handle(cmd(RANI, None, "/withdraw confirm", "d2"))
        assert await count(bot.engine, person_languages) == 0


@pytest.mark.parametrize(
    ("hint", "expected"),
    [("bn-BD", "bn"), ("bn_BD", "bn"), ("en-GB", "en"), ("pt-BR", None), (None, None)],
)
def test_a_platform_locale_is_negotiated_to_the_best_language_the_bot_speaks(
    hint: str | None, expected: str | None
) -> None:
    assert languages.negotiate(hint, ["en", "bn", "en-easy"]) == expected


def test_a_locale_is_negotiated_once_and_answers_alike_for_everyone_who_reports_it(
    monkeypatch: pytest.MonkeyPatch,
) -> None:
    asked: list[str | None] = []

    def negotiate(hint: str | None, available: Iterable[str]) -> str | None:
        asked.append(hint)
        return languages.negotiate(hint, available)

    monkeypatch.setattr(bot.service.languages, "negotiate", negotiate)
    spoken = Languages(store=None, available=["en", "bn", "en-easy"], default="en")  # type: ignore[arg-type]
    reported = [(RANI, "bn-BD"), (ALICE, "en-GB"), (PersonRef("console", "sumi"), "bn-BD")]
    said = [spoken.speaks(person, None, locale) for person, locale in reported]
    assert said == ["bn", "en", "bn"]
    assert spoken.speaks(PersonRef("console", "pedro"), None, "pt-BR") == "en"  # none fits
    assert spoken.speaks(PersonRef("console", "joao"), None, "pt-BR") == "en"
    assert asked == ["bn-BD", "en-GB", "pt-BR"]


def test_each_language_is_named_in_itself() -> None:
    ctx = Context(LIBRARY, catalogue(), T0, "c")
    assert [languages.name(code, ctx) for code in ("bn", "en", "en-easy")] == [
        "বাংলা",
        "English",
        "English (Easy Read)",
    ]


def test_the_language_buttons_offer_every_language_named_in_itself() -> None:
    ctx = Context(LIBRARY, catalogue(), T0, "c")
    done = languages.handle(None, (), Actor(RANI), ctx)
    (sent,) = done.actions
    assert isinstance(sent, SendPrivate)
    assert [(b.label, b.payload) for b in sent.buttons] == [
        ("বাংলা", "language bn"),
        ("English", "language en"),
        ("English (Easy Read)", "language en-easy"),
    ]


def test_a_profile_answer_chosen_in_bengali_is_stored_in_the_source_and_shown_in_bengali() -> None:
    english, bengali = LIBRARY.profiles["en"], LIBRARY.profile_in("bn")
    assert bengali is not None and bengali.language == "bn"
    ctx = Context(LIBRARY, catalogue(), T0, "c", "bn")
    first = english.questions[0]
    rani = Actor(RANI, group("g1"), frozenset({"participate", "profile"}))
    event = CommandIssued(RANI, None, "profile", ("answer", first.id, "2"), T0)
    done = engine.step(None, event, rani, ctx)
    (answered,) = done.captures
    assert isinstance(answered, ProfileAnswered)
    assert answered.answer == first.options[1]
    stored = replace(rani, profile=(ProfileAnswer(first.id, first.options[1], T0),))
    shown = engine.step(None, replace(event, args=("show",)), stored, ctx)
    (review,) = shown.actions
    assert isinstance(review, SendPrivate)
    shown_as = bengali.questions[0].options[1]
    assert is_bengali(shown_as) and shown_as in review.text
    assert first.options[1] not in review.text


def test_the_console_simulates_each_persons_device_language() -> None:
    console = ConsolePlatform("g", catalogue(), "en", io.StringIO(), input_id="p")
    assert console.parse("rani's locale is bn-BD", 1, T0) is None
    said = console.parse("rani: /agree participate", 2, T0)
    typed = console.parse("rani> hello", 3, T0)
    other = console.parse("alice: hello", 4, T0)
    assert isinstance(said, CommandIssued) and said.locale == "bn-BD"
    assert isinstance(typed, MessagePosted) and typed.locale == "bn-BD"
    assert isinstance(other, MessagePosted) and other.locale is None


async def test_a_question_in_a_bengali_session_is_asked_with_bengali_labels() -> None:
    texts = catalogue()
    ctx = Context(LIBRARY, texts, T0, "c", "en", group_language="bn")
    fran = Actor(FRAN_CONSOLE, CONSOLE_GROUP, facilitator=True)
    started = engine.step(
        SessionState(CONSOLE_GROUP),
        cmd(FRAN_CONSOLE, CONSOLE_GROUP, "/start health-data-intro", "s"),
        fran,
        ctx,
    )
    assert started.state is not None and started.state.language == "bn"
    asked = engine.step(
        started.state, cmd(FRAN_CONSOLE, CONSOLE_GROUP, "/goto research-comfort", "g"), fran, ctx
    )
    (choice,) = [a for a in asked.actions if isinstance(a, AskChoice)]
    assert choice.language == "bn"
    out = io.StringIO()
    console = ConsolePlatform("g", texts, "en", out, input_id="p")
    await console.perform(choice)
    assert texts.get("bn", "step.choice_hint") in out.getvalue()


def test_a_private_tally_goes_to_the_lead_in_their_language_a_public_one_in_the_groups() -> None:
    texts = catalogue()
    session = SessionState(CONSOLE_GROUP, session_id="s1", script_id="health-data-intro")
    ctx = Context(LIBRARY, texts, T0, "c", "en", people_languages={FRAN_CONSOLE: "bn"})
    private = TallyChanged(CONSOLE_GROUP, "s1", "research-comfort", False)
    (told,) = results.settle(TallyLoaded(private, ((1,),), FRAN_CONSOLE, session), ctx).actions
    assert isinstance(told, SendPrivate)
    assert language_of(told.text.splitlines()[0]) == "bn", told.text
    public = TallyChanged(CONSOLE_GROUP, "s1", "research-comfort", True)
    (posted,) = results.settle(TallyLoaded(public, ((1,),), FRAN_CONSOLE, session), ctx).actions
    assert isinstance(posted, SendText)
    assert language_of(posted.text.splitlines()[0]) == "en", posted.text


@pytest.mark.parametrize(
    ("facilitator", "live"), [(False, True), (True, False)], ids=["participant", "no-session"]
)
def test_language_in_a_group_sets_the_persons_own_and_says_the_group_stays(
    facilitator: bool, live: bool
) -> None:
    ctx = Context(LIBRARY, catalogue(), T0, "c", "en")
    state = SessionState(CONSOLE_GROUP, session_id="s1", script_id="health-data-intro")
    if live:
        state = replace(state, status=Status.RUNNING)
    who = Actor(RANI, CONSOLE_GROUP, facilitator=facilitator)
    done = engine.step(state, cmd(RANI, CONSOLE_GROUP, "/language bn", "l1"), who, ctx)
    assert done.state == state  # the session's language is not the participant's to change
    assert [type(c).__name__ for c in done.captures] == ["LanguageChosen"]
    (told,) = done.actions
    assert isinstance(told, SendPrivate)
    assert told.text == "\n".join(
        [
            ctx.texts.get("bn", "language.chosen", name="বাংলা"),
            ctx.texts.get("bn", "language.chosen_in_group"),
        ]
    )


def test_an_unknown_language_is_refused_naming_the_ones_there_are() -> None:
    ctx = Context(LIBRARY, catalogue(), T0, "c", "en")
    done = engine.step(None, cmd(RANI, None, "/language xx", "l1"), Actor(RANI), ctx)
    (told,) = done.actions
    assert isinstance(told, SendPrivate)
    assert told.text == ctx.t("language.unknown", code="xx", languages="bn, en, en-easy")
    assert done.captures == ()


def test_a_vote_in_an_english_session_is_thanked_with_the_answer_in_the_voters_language() -> None:
    texts = catalogue()
    fran = Actor(FRAN_CONSOLE, CONSOLE_GROUP, facilitator=True)
    english = Context(LIBRARY, texts, T0, "c", "en")
    started = engine.step(
        SessionState(CONSOLE_GROUP),
        cmd(FRAN_CONSOLE, CONSOLE_GROUP, "/start health-data-intro", "s"),
        fran,
        english,
    )
    assert started.state is not None and started.state.language == "en"
    at_choice = engine.step(
        started.state,
        cmd(FRAN_CONSOLE, CONSOLE_GROUP, "/goto research-comfort", "g"),
        fran,
        english,
    )
    assert at_choice.state is not None
    rani = Actor(RANI, CONSOLE_GROUP, frozenset({"participate"}))
    voted = engine.step(
        at_choice.state,
        cmd(RANI, CONSOLE_GROUP, "/vote 2", "v"),
        rani,
        replace(english, language="bn"),
    )
    (thanks,) = [a for a in voted.actions if isinstance(a, SendPrivate)]
    bengali = LIBRARY.script_in("health-data-intro", "bn")
    assert bengali is not None
    step = next(s for s in bengali.steps if s.id == "research-comfort")
    assert thanks.text == texts.get("bn", "vote.recorded", answer=step.options[1])
    assert is_bengali(step.options[1])


@pytest.mark.parametrize(
    ("text", "bengali", "english"),
    [
        ("এখন থেকে বাংলা। /mydata দিয়ে দেখুন।", True, False),
        ("স্বাস্থ্য ও সেবা-যত্নের (health and care) তথ্য, NHS", True, False),
        ("This session is now in বাংলা.", False, False),
        ("ধন্যবাদ, আপনার উত্তর রেকর্ড করা হয়েছে: Fairly comfortable।", False, False),
        ("Thank you, your answer is recorded: Fairly comfortable.", False, True),
    ],
)
def test_the_language_check_tells_bengali_from_english_quoted_in_it(
    text: str, bengali: bool, english: bool
) -> None:
    neutral = ["1. 2", "", "---"]  # no letters: fit either language
    assert not_in("bn", [*neutral, text]) == ([] if bengali else [text])
    assert not_in("en", [*neutral, text]) == ([] if english else [text])
