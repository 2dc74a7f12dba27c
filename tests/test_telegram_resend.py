"""Telegram sends updates again after a crash: erased words and words written before consent
stay out, and a consent is handled once."""

from __future__ import annotations

from typing import Any

import pytest

from bot.core.direct import invitation
from bot.core.ids import PersonRef
from tests.support.telegram import handled, running_bot, settle, telegram_settings, texts_in
from tests.support.telegram_fake import FakeBotApi, TelegramUser

SCRIPT = "health-data-intro"


def person(user: TelegramUser) -> PersonRef:
    return PersonRef("telegram", str(user.id))


async def act(fake: FakeBotApi, user: TelegramUser, chat: Any, words: str) -> None:
    user.say(chat, words)
    await settle(fake)


def resend_since(fake: FakeBotApi, words: str) -> int:
    """Have Telegram send again every update from the message with these words on."""
    texts = [u.get("message", {}).get("text") for u in fake.confirmed_updates]
    count = len(texts) - texts.index(words)
    fake.redeliver(count)
    return count


async def test_a_resend_after_a_crash_stores_no_withdrawn_words_after_agreeing_again(
    fake: FakeBotApi, database_url: str, monkeypatch: pytest.MonkeyPatch
) -> None:
    sam, fran = fake.user("Sam", username="sam"), fake.user("Fran", username="fran")
    alice = fake.user("Alice", username="alice")
    group = fake.group("Circle", kind="supergroup", members=[sam, fran, alice])
    fake.add_admin(group, fran)
    for user in (sam, fran, alice):
        user.start_private()
    settings = telegram_settings(fake, database_url, staff=[sam.id])
    withdrawn = "ALICE-WITHDRAWN my first thought"
    async with running_bot(settings, fake, monkeypatch):
        await act(fake, sam, group, "/register")
        await act(fake, fran, group, f"/start {SCRIPT}")
        await act(fake, alice, group, "/agree participate")
        await act(fake, fran, group, "/goto first-thoughts")
        await act(fake, alice, group, withdrawn)
        await act(fake, alice, alice, "/withdraw")
        await act(fake, alice, alice, "/withdraw confirm")
        await handled(fake, alice)
        assert any("erased:\n- 1 reply\n" in text for text in texts_in(fake, alice))
        await act(fake, alice, group, "/agree participate")
        await handled(fake, alice)
    # The bot stopped before Telegram heard that these updates arrived: all come again.
    assert resend_since(fake, withdrawn) >= 4
    async with running_bot(settings, fake, monkeypatch) as app:
        await settle(fake)
        await act(fake, alice, group, "ALICE-AGAIN after agreeing again")
        await handled(fake, alice)
        data = await app.repository.person_data(person(alice))
    assert [r.text for r in data.responses] == ["ALICE-AGAIN after agreeing again"]
    assert len(data.consents) == 1


async def test_a_resend_after_a_crash_stores_nothing_written_alone_before_consent(
    fake: FakeBotApi, database_url: str, monkeypatch: pytest.MonkeyPatch
) -> None:
    rosa = fake.user("Rosa", username="rosa")
    settings = telegram_settings(fake, database_url)
    before = "ROSA-BEFORE-CONSENT just looking around"
    async with running_bot(settings, fake, monkeypatch) as app:
        rosa.start_private(invitation("default"))  # the cycle's link: taking part alone
        await settle(fake)
        await act(fake, rosa, rosa, before)
        await act(fake, rosa, rosa, "/agree participate")
        await handled(fake, rosa)
        agreed = (await app.repository.person_data(person(rosa))).consents
    assert len(agreed) == 1
    thanks = [t for t in texts_in(fake, rosa) if t.startswith("Thank you for agreeing")]
    assert len(thanks) == 1

    resend_since(fake, before)
    async with running_bot(settings, fake, monkeypatch) as app:
        await settle(fake)
        await handled(fake, rosa)
        data = await app.repository.person_data(person(rosa))
    assert data.responses == ()
    assert data.consents == agreed  # the same consent, given when it was: not handled again
    assert [t for t in texts_in(fake, rosa) if t.startswith("Thank you for agreeing")] == thanks


async def test_a_typed_profile_answer_alone_is_no_reply_also_when_sent_again_after_a_crash(
    fake: FakeBotApi, database_url: str, monkeypatch: pytest.MonkeyPatch
) -> None:
    rosa = fake.user("Rosa", username="rosa")
    settings = telegram_settings(fake, database_url)
    unsure = "ROSA-UNSURE not sure"
    async with running_bot(settings, fake, monkeypatch):
        rosa.start_private(invitation("default"))  # the cycle's link: taking part alone
        await settle(fake)
        await act(fake, rosa, rosa, "/agree participate profile")
        await act(fake, rosa, rosa, "/profile start")
        await act(fake, rosa, rosa, unsure)
        assert texts_in(fake, rosa)[-1].startswith("Please answer with a number")
        await act(fake, rosa, rosa, "2")
        await handled(fake, rosa)
        assert any(t.startswith("Saved: Age group: 25 to 34.") for t in texts_in(fake, rosa))

    resend_since(fake, unsure)
    async with running_bot(settings, fake, monkeypatch) as app:
        await settle(fake)
        await handled(fake, rosa)
        data = await app.repository.person_data(person(rosa))
    assert data.responses == ()
    assert [(a.question_id, a.answer) for a in data.profile] == [("age", "25 to 34")]
