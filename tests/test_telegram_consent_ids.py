"""Telegram consent buttons name their scopes: one sent before a scope was added still works."""

from __future__ import annotations

from collections.abc import AsyncIterator
from pathlib import Path

import pytest

from bot.core.ids import GroupRef
from bot.platforms.telegram.codec import group_token
from tests.support.telegram import (
    Group,
    act,
    fake_bot_message_with_button,
    running_bot,
    settle,
    telegram_settings,
    texts_in,
)
from tests.support.telegram_fake import FakeBotApi


@pytest.fixture
async def fake() -> AsyncIterator[FakeBotApi]:
    async with FakeBotApi() as server:
        yield server


async def test_a_consent_button_from_an_earlier_version_agrees_or_says_what_it_cannot(
    fake: FakeBotApi, tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    g = Group(fake)
    url = f"sqlite+aiosqlite:///{tmp_path}/bot.db"
    token = group_token(GroupRef("telegram", str(g.chat.id)))
    async with running_bot(telegram_settings(fake, url, staff=[g.sam.id]), fake, monkeypatch):
        await act(fake, g.sam, g.chat, "/register")
        # Sent when a scope it does not name, or one it names, did not exist (yet / any more).
        gone = f"b:{token}:agree participate shared"
        pressed = await fake_bot_message_with_button(fake, g.alice.id, gone)
        g.alice.press(pressed, gone)
        await settle(fake)
        assert texts_in(fake, g.alice)[-1] == (
            "I don't recognise shared. You can agree to: participate, quote, profile, followup."
        )
        await act(fake, g.alice, g.alice, "/mydata")
        assert texts_in(fake, g.alice)[-1] == "We don't store anything about you."

        older = f"b:{token}:agree participate quote"
        pressed = await fake_bot_message_with_button(fake, g.alice.id, older)
        g.alice.press(pressed, older)
        await settle(fake)
        assert texts_in(fake, g.alice)[-1].startswith(
            "Thank you for agreeing to: participate, quote."
        )
