"""Two people side by side on Telegram, one whose Telegram is in Bengali and one in English.

The real app on the fake Bot API: each is answered privately in their own language, taken from
Telegram's ``language_code``; the group reads the session's language, which the facilitator
changes with ``/language bn``; the consent stored for Rani is the Bengali text's, and each
reply records its language. The Bengali is the test catalogue of tests/support/languages.py.
"""

from __future__ import annotations

import shutil
from pathlib import Path

import pytest
from sqlalchemy import select

from bot.content.check import load_library
from bot.texts import Catalogue
from storage.db import make_engine
from storage.tables import consents, responses
from tests.support.cli import ROOT
from tests.support.languages import BN_CONSENT, catalogue, write_bn_consent
from tests.support.telegram import act, last_with_buttons, running_bot, telegram_settings
from tests.support.telegram_fake import FakeBotApi


def content(root: Path) -> Path:
    """The shipped content with the Bengali test consent beside the English one."""
    for folder in ("prompts", "resources"):
        shutil.copytree(ROOT / folder, root / folder)
    write_bn_consent(root)
    return root


def private_texts(fake: FakeBotApi, user: object) -> list[str]:
    return [m.get("text") or "" for m in fake.private_messages_to(user)]


async def test_two_people_on_telegram_each_read_their_own_language(
    fake: FakeBotApi, database_url: str, tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    texts = catalogue()
    monkeypatch.setattr(Catalogue, "load", classmethod(lambda cls: texts))
    sam = fake.user("Sam", username="sam")
    fran = fake.user("Fran", username="fran")
    alice = fake.user("Alice", username="alice", language_code="en")
    rani = fake.user("Rani", username="rani", language_code="bn")
    chat = fake.group("Circle", kind="supergroup", members=[sam, fran, alice, rani])
    fake.add_admin(chat, fran)
    for person in (sam, fran, alice, rani):
        person.start_private()
    root = content(tmp_path / "content")
    settings = telegram_settings(fake, database_url, root, staff=[sam.id])
    async with running_bot(settings, fake, monkeypatch):
        await act(fake, sam, chat, "/register")
        await act(fake, fran, chat, "/start health-data-intro")
        # The session is in the deployment's language (English) until its facilitator changes it.
        assert texts.get("en", "session.join") in [m.get("text") for m in fake.messages_in(chat)]
        await act(fake, rani, chat, "/agree participate")
        await act(fake, alice, chat, "/agree participate")
        assert private_texts(fake, rani)[-1].startswith("BN ধন্যবাদ")
        assert private_texts(fake, alice)[-1] == texts.get(
            "en", "consent.agreed", scopes="participate"
        )
        await act(fake, fran, chat, "/goto first-thoughts")
        await act(fake, rani, chat, "আমার মতামত")
        await act(fake, alice, chat, "my view")
        # Rani asks for the choices: one button per language, each named in itself.
        rani.say_private("/language")
        await act(fake, fran, chat, "/language bn")
        offer = last_with_buttons(fake, rani)
        labels = [b["text"] for row in offer["reply_markup"]["inline_keyboard"] for b in row]
        assert labels == ["বাংলা", "English"]
        # The facilitator moved the session to Bengali: the group reads it from then on.
        said = texts.get("bn", "language.session_set", name="বাংলা")
        assert said in [m.get("text") for m in fake.messages_in(chat)]
        await act(fake, fran, chat, "/end")
        assert "BN সেশন শেষ" in [m.get("text") for m in fake.messages_in(chat)]
    engine = make_engine(database_url)
    try:
        async with engine.connect() as conn:
            replies = (await conn.execute(select(responses.c.language))).scalars().all()
            agreed = (
                await conn.execute(
                    select(consents.c.language, consents.c.text_hash).order_by(consents.c.id)
                )
            ).all()
    finally:
        await engine.dispose()
    assert sorted(replies) == ["bn", "en"]
    assert [tuple(row) for row in agreed] == [
        ("bn", BN_CONSENT.digest()),
        ("en", load_library(root).consents["en"].digest()),
    ]
