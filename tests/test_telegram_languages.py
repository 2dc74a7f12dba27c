"""Bengali and English side by side in one Telegram group, through the whole sample script.

The real app on the fake Bot API: Rani's Telegram is set to Bengali, Alice's to English. They
take part in the sample script from start to end: consent (Rani with her profile questions),
replies, votes, the feedback questions and /mydata. Every message the bot sends Rani in private,
buttons included, is Bengali and every one to Alice English; the group reads the session's
language, English until the facilitator moves it to Bengali with /language bn; the consent
stored for Rani is the Bengali text's; each reply records its language. The Bengali is the
shipped translation.
"""

from __future__ import annotations

from pathlib import Path
from typing import Any

import pytest
from sqlalchemy import select

from bot.texts import Catalogue
from exporters.dataset import ExportOptions, export_dataset
from exporters.pseudonymise import Pseudonymiser
from storage.datasets import Datasets
from storage.db import make_engine
from storage.tables import consents, responses
from tests.support.capture import LIBRARY, STORE_KEY, at
from tests.support.export_text import csv_rows
from tests.support.languages import BN_CONSENT, not_in, without_scopes, without_sources
from tests.support.telegram import (
    act,
    button_with,
    last_with_buttons,
    running_bot,
    settle,
    telegram_settings,
)
from tests.support.telegram_fake import FakeBotApi

REPLIES = {
    "first-thoughts": ("আমার জিপি আমার সব নোট রাখেন", "my GP keeps my notes"),
    "own-care-experiences": ("হাসপাতালে বারবার একই কথা বলতে হয়েছিল", "I had to repeat myself"),
    "research-comfort-why": ("কে ব্যবহার করছে তার ওপর নির্ভর করে", "it depends on who uses it"),
    "what-would-help": ("স্পষ্ট করে জানানো দরকার", "tell people clearly"),
    "message-to-decision-makers": ("আমাদের কথা শুনুন", "listen to us"),
}
VOTES = {
    "research-comfort": ("/vote 2", "/vote 4"),
    "trust-scale": ("/vote 3", "/vote 5"),
    "conditions": ("/vote 1 3", "/vote 2"),
    "feedback": ("/vote heard 1", "/vote heard 2"),
}


def lines(message: dict[str, Any]) -> list[str]:
    """What a person reads of a message: its text (or caption) and its buttons, line by line."""
    said = (message.get("text") or message.get("caption") or "").splitlines()
    keyboard = (message.get("reply_markup") or {}).get("inline_keyboard", [])
    return said + [button["text"] for row in keyboard for button in row]


def read(messages: list[dict[str, Any]]) -> list[str]:
    return [line for message in messages for line in lines(message)]


async def test_bengali_and_english_side_by_side_in_a_telegram_session(
    fake: FakeBotApi, database_url: str, tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    texts = Catalogue.load()
    sam = fake.user("Sam", username="sam")
    fran = fake.user("Fran", username="fran")
    alice = fake.user("Alice", username="alice", language_code="en")
    rani = fake.user("Rani", username="rani", language_code="bn")
    chat = fake.group("Circle", kind="supergroup", members=[sam, fran, alice, rani])
    fake.add_admin(chat, fran)
    for person in (sam, fran, alice, rani):
        person.start_private()
    settings = telegram_settings(fake, database_url, staff=[sam.id])
    async with running_bot(settings, fake, monkeypatch):
        await act(fake, sam, chat, "/register")
        await act(fake, fran, chat, "/start health-data-intro")
        # The session is in the deployment's language (English) until its facilitator changes it.
        assert texts.get("en", "session.join") in [m.get("text") for m in fake.messages_in(chat)]
        # Rani follows the group's join link and agrees to everything with a button.
        join = next(m for m in fake.messages_in(chat) if "url" in str(m.get("reply_markup")))
        link = button_with(join, lambda b: "url" in b)["url"]
        rani.start_private(link.split("start=")[1])
        await settle(fake)
        offer = last_with_buttons(fake, rani)
        rani.press(
            offer, button_with(offer, lambda b: "profile" in b["callback_data"])["callback_data"]
        )
        await settle(fake)
        await act(fake, alice, chat, "/agree participate quote")
        # Rani answers her first profile question with a button.
        question = last_with_buttons(fake, rani)
        first = question["reply_markup"]["inline_keyboard"][0][0]
        rani.press(question, first["callback_data"])
        await settle(fake)
        switched = 0
        for step in [s.id for s in LIBRARY.scripts["health-data-intro"].steps][1:]:
            if step == "research-comfort-why":
                # The facilitator moves the session to Bengali: the group reads it from now on.
                switched = len(fake.messages_in(chat))
                await act(fake, fran, chat, "/language bn")
            await act(fake, fran, chat, "/next")
            for who, said in zip(
                (rani, alice), REPLIES.get(step, VOTES.get(step, ())), strict=False
            ):
                await act(fake, who, chat, said)
        await act(fake, fran, chat, "/end")
        posted = len(fake.messages_in(chat))
        fran.say_private("/summary post")  # what the group heard, in the session's language
        await settle(fake)
        assert len(fake.messages_in(chat)) > posted
        for person in (rani, alice):
            person.say_private("/mydata")
        await settle(fake)
        to_rani = [without_scopes(line) for line in read(fake.private_messages_to(rani))]
        to_alice = read(fake.private_messages_to(alice))
        assert len(to_rani) > 10 and len(to_alice) > 10
        assert not (wrong := not_in("bn", to_rani)), "Rani was sent English:\n" + "\n".join(wrong)
        assert not (wrong := not_in("en", to_alice)), "Alice was sent Bengali:\n" + "\n".join(wrong)
        # Rani asks for the languages: a button for each, named in itself (so English here).
        rani.say_private("/language")
        await settle(fake)
        offer = last_with_buttons(fake, rani)
        labels = [b["text"] for row in offer["reply_markup"]["inline_keyboard"] for b in row]
        assert labels == ["বাংলা", "English", "English (Easy Read)"]
        group = fake.messages_in(chat)
        before = without_sources(read(group[:switched]))
        after = without_sources(read(group[switched:]))
        assert texts.get("bn", "session.ended") in [m.get("text") for m in group[switched:]]
        assert not (wrong := not_in("en", before)), "the English session posted Bengali:\n" + (
            "\n".join(wrong)
        )
        assert not (wrong := not_in("bn", after)), "the Bengali session posted English:\n" + (
            "\n".join(wrong)
        )
    engine = make_engine(database_url)
    try:
        async with engine.connect() as conn:
            replies = (
                await conn.execute(select(responses.c.language).order_by(responses.c.id))
            ).scalars()
            agreed = (
                await conn.execute(
                    select(consents.c.language, consents.c.text_hash).order_by(consents.c.id)
                )
            ).all()
        options = ExportOptions(out=tmp_path / "export", cycle_id=None, made_by="t", now=at(9))
        await export_dataset(Datasets(engine), LIBRARY, Pseudonymiser(STORE_KEY), options)
    finally:
        await engine.dispose()
    assert list(replies) == ["bn", "en"] * len(REPLIES)
    # The export keeps both languages' replies and records each one's language.
    exported = {
        r["text"]: r["reply_language"] for r in csv_rows(tmp_path / "export" / "responses.csv")
    }
    assert exported == {rani: "bn" for rani, _ in REPLIES.values()} | {
        alice: "en" for _, alice in REPLIES.values()
    }
    assert [tuple(row) for row in agreed] == [
        ("bn", BN_CONSENT.digest()),
        ("en", LIBRARY.consent_in("en").digest()),
    ]
