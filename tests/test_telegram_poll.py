"""Long polling confirms an update to Telegram only once the bot has handled it."""

from __future__ import annotations

import asyncio
from collections.abc import Callable
from pathlib import Path

import pytest
from telegram import Bot, Update

from bot.app import build, enabled_platforms
from bot.core.events import Event
from bot.platforms.telegram.adapter import ALLOWED_UPDATES
from bot.platforms.telegram.poll import Poller
from tests.support.telegram import telegram_settings
from tests.support.telegram_fake import FakeBotApi


async def until(condition: Callable[[], bool], timeout: float = 10.0) -> None:
    loop = asyncio.get_running_loop()
    deadline = loop.time() + timeout
    while not condition():
        assert loop.time() < deadline, "timed out"
        await asyncio.sleep(0.02)


async def test_an_update_being_handled_stays_unconfirmed_so_a_crash_cannot_lose_it(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    async with FakeBotApi() as fake:
        alice = fake.user("Alice")
        group = fake.group("Circle", kind="supergroup", members=[alice])
        entered: list[str] = []
        handled: list[str] = []
        release = asyncio.Event()

        async def slow_submit(event: Event) -> asyncio.Future[None]:
            # Decided at once; its commit takes as long as the test likes.
            entered.append(type(event).__name__)

            async def finish() -> None:
                await release.wait()
                handled.append(type(event).__name__)

            return asyncio.ensure_future(finish())

        monkeypatch.setenv("DIALOGUE_TELEGRAM_TOKEN", fake.token)
        monkeypatch.setenv("DIALOGUE_PSEUDONYM_KEY", "test-key-0123456789abcdef")
        app = await build(telegram_settings(fake, f"sqlite+aiosqlite:///{tmp_path}/bot.db"))
        (platform,) = enabled_platforms(app)
        platform.submit = slow_submit  # type: ignore[attr-defined]
        try:
            await platform.start()
            alice.say(group, "first")
            alice.say(group, "second")
            await until(lambda: bool(entered))
            # However long the bot takes to handle them, Telegram still holds both updates:
            # a bot killed now gets them again at its next start.
            await asyncio.sleep(1.5)
            assert not handled
            assert len(fake.pending_updates) == 2
            release.set()
            await until(lambda: not fake.pending_updates)
            assert handled == ["MessagePosted", "MessagePosted"]
        finally:
            release.set()
            await platform.stop()
            await app.close()


async def test_stopping_finishes_the_batch_in_hand_and_confirms_it() -> None:
    async with FakeBotApi() as fake:
        alice = fake.user("Alice")
        group = fake.group("Circle", kind="supergroup", members=[alice])
        started = asyncio.Event()
        handled: list[int] = []

        async def process(update: Update) -> None:
            started.set()
            await asyncio.sleep(0.3)
            handled.append(update.update_id)

        async with Bot(fake.token, base_url=fake.base_url) as bot:
            alice.say(group, "one")
            alice.say(group, "two")
            poller = Poller(bot, process, 1, ALLOWED_UPDATES)
            poller.start()
            await asyncio.wait_for(started.wait(), 10)
            await poller.stop()
            assert not poller.running
        assert len(handled) == 2
        assert not fake.pending_updates
