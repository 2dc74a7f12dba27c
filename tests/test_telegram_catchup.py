"""A backlog of Telegram updates after a restart: committed in shared batches, confirmed only
once committed, and stored once when Telegram sends it again."""

from __future__ import annotations

from collections.abc import Sequence
from typing import Any

import pytest

from bot.app import build, enabled_platforms
from bot.core.ids import PersonRef
from bot.settings import Settings
from storage._batch import Submission
from tests.support.telegram import Group, act, handled, running_bot, settle, telegram_settings
from tests.support.telegram_fake import FakeBotApi, TelegramUser

SCRIPT = "health-data-intro"
BACKLOG = 300


def said(number: int) -> str:
    return f"BACKLOG reply {number}: my thoughts on the question"


async def at_an_open_question(
    fake: FakeBotApi,
    monkeypatch: pytest.MonkeyPatch,
    database_url: str,
    g: Group,
    *agreed: TelegramUser,
) -> Settings:
    """The bot's settings, once ``g`` is registered, ``agreed`` agreed, at an open question."""
    settings = telegram_settings(fake, database_url, staff=[g.sam.id])
    async with running_bot(settings, fake, monkeypatch):
        await act(fake, g.sam, g.chat, "/register")
        await act(fake, g.fran, g.chat, f"/start {SCRIPT}")
        for person in agreed:
            await act(fake, person, g.chat, "/agree participate")
        await act(fake, g.fran, g.chat, "/goto first-thoughts")
    return settings


async def test_a_backlog_is_committed_in_shared_batches_and_confirmed_only_once_committed(
    fake: FakeBotApi, database_url: str, monkeypatch: pytest.MonkeyPatch
) -> None:
    g = Group(fake)
    settings = await at_an_open_question(fake, monkeypatch, database_url, g, g.alice, g.carol)
    # While the bot is down, the group goes on talking: Telegram keeps the updates.
    sent = [(g.alice, g.carol)[n % 2].say(g.chat, said(n)) for n in range(BACKLOG)]
    ids = {str(message["message_id"]) for message in sent}
    committed: set[str] = set()
    early: list[str] = []  # confirmed to Telegram before their reply was committed

    def stored(submissions: Sequence[Submission], _: float) -> None:
        committed.update(s.message.message_id for s in submissions if s.message is not None)

    confirm = fake._confirm

    def confirming(updates: list[dict[str, Any]]) -> None:
        for update in updates:
            message_id = str(update.get("message", {}).get("message_id"))
            if message_id in ids and message_id not in committed:
                early.append(message_id)
        confirm(updates)

    monkeypatch.setattr(fake, "_confirm", confirming)
    monkeypatch.setenv("DIALOGUE_TELEGRAM_TOKEN", fake.token)
    monkeypatch.setenv("DIALOGUE_PSEUDONYM_KEY", "test-key-0123456789abcdef")
    app = await build(settings)
    app.repository.on_commit = stored
    (platform,) = enabled_platforms(app)
    try:
        await platform.start()
        await settle(fake)
        await handled(fake, g.alice)
        batches = app.repository.stats.batches
        data = await app.repository.person_data(PersonRef("telegram", str(g.carol.id)))
    finally:
        await platform.stop()
        await app.close()
    assert committed >= ids
    assert not early, f"{len(early)} updates confirmed before their replies were committed"
    # One commit per reply would be BACKLOG commits; the replies rode in shared batches.
    assert batches <= BACKLOG // 10, f"{batches} commits for {BACKLOG} replies"
    assert sorted(r.text for r in data.responses) == sorted(said(n) for n in range(1, BACKLOG, 2))


async def test_a_backlog_sent_again_after_a_crash_is_stored_once(
    fake: FakeBotApi, database_url: str, monkeypatch: pytest.MonkeyPatch
) -> None:
    g = Group(fake)
    settings = await at_an_open_question(fake, monkeypatch, database_url, g, g.alice)
    for n in range(BACKLOG):
        g.alice.say(g.chat, said(n))
    async with running_bot(settings, fake, monkeypatch):
        await settle(fake)
        await handled(fake, g.alice)
    # Killed before its next poll confirmed them, the bot is sent the backlog again.
    fake.redeliver(BACKLOG + 1)
    async with running_bot(settings, fake, monkeypatch) as app:
        await settle(fake)
        await handled(fake, g.alice)
        data = await app.repository.person_data(PersonRef("telegram", str(g.alice.id)))
    assert [r.text for r in data.responses] == [said(n) for n in range(BACKLOG)]
