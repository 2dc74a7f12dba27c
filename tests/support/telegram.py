"""Running the real bot (app, runner, Telegram platform) against the fake Bot API, in-process."""

from __future__ import annotations

import asyncio
import contextlib
from collections.abc import AsyncIterator, Callable
from pathlib import Path
from typing import Any

import aiohttp
import pytest

from bot.app import App, build, enabled_platforms
from bot.settings import Settings
from tests.support.cli import ROOT
from tests.support.telegram_fake import FakeBotApi, TelegramUser


def telegram_settings(
    fake: FakeBotApi, database_url: str, content_root: Path = ROOT, **telegram: Any
) -> Settings:
    """Settings for a bot on the fake server: quick polls, no flood delays, no scheduler."""
    options: dict[str, Any] = {
        "enabled": True,
        "api_base_url": f"http://{fake.host}:{fake.port}",
        "poll_timeout_seconds": 1,
        "group_messages_per_minute": 10_000,
        "messages_per_second": 10_000,
        "admin_cache_seconds": 0,
    }
    options.update(telegram)
    return Settings(
        database={"url": database_url},
        content={"root": content_root},
        telegram=options,
        schedule={"enabled": False},
    )


@contextlib.asynccontextmanager
async def running_bot(
    settings: Settings, fake: FakeBotApi, monkeypatch: pytest.MonkeyPatch
) -> AsyncIterator[App]:
    """The bot built from ``settings`` with its platforms started, stopped and closed after."""
    monkeypatch.setenv("DIALOGUE_TELEGRAM_TOKEN", fake.token)
    monkeypatch.setenv("DIALOGUE_PSEUDONYM_KEY", "test-key-0123456789abcdef")
    app = await build(settings)
    platforms = enabled_platforms(app)
    try:
        for platform in platforms:
            await platform.start()
        yield app
    finally:
        for platform in reversed(platforms):
            await platform.stop()
        await app.close()


async def settle(fake: FakeBotApi, quiet: float = 0.2, timeout: float = 10.0) -> None:
    """Wait until the bot took every update and sent nothing for ``quiet`` seconds."""
    loop = asyncio.get_running_loop()
    deadline = loop.time() + timeout
    seen = -1
    while loop.time() < deadline:
        calls = sum(1 for call in fake.calls if call.method != "getUpdates")
        if not fake.pending_updates and calls == seen:
            return
        seen = calls
        await asyncio.sleep(quiet)
    raise TimeoutError(f"the bot did not settle; pending: {fake.pending_updates}")


def texts_in(fake: FakeBotApi, chat: Any) -> list[str]:
    """What the bot sent in a chat (text or caption), in order."""
    return [m.get("text") or m.get("caption") or "" for m in fake.messages_in(chat)]


def button_with(message: dict[str, Any], match: Callable[[dict[str, Any]], bool]) -> dict[str, Any]:
    """The first inline button of a bot message that ``match`` accepts."""
    rows = message.get("reply_markup", {}).get("inline_keyboard", [])
    return next(button for row in rows for button in row if match(button))


def last_with_buttons(fake: FakeBotApi, chat: Any) -> dict[str, Any]:
    """The bot's latest message in a chat that has an inline keyboard."""
    return next(m for m in reversed(fake.messages_in(chat)) if m.get("reply_markup"))


async def handled(fake: FakeBotApi, user: Any, webhook: bool = False) -> None:
    """Return once the bot handled every update so far (it handles them in order).

    ``user`` (who opened a private chat with the bot) asks for /help and the answer is
    awaited; updates that make the bot say nothing are then handled too.
    """
    before = len(fake.private_messages_to(user))
    user.say_private("/help")
    if webhook:
        await fake.deliver_webhook_updates()
    await fake.wait_for(lambda _: len(fake.private_messages_to(user)) > before, chat=user)


class Group:
    """A registered supergroup with staff Sam, facilitator Fran (an admin), Alice and Carol."""

    def __init__(self, fake: FakeBotApi, forum: bool = False) -> None:
        self.sam = fake.user("Sam", username="sam")
        self.fran = fake.user("Fran", username="fran")
        self.alice = fake.user("Alice", username="alice")
        self.carol = fake.user("Carol", username="carol")
        members = [self.sam, self.fran, self.alice, self.carol]
        self.chat = fake.group("Circle", kind="supergroup", forum=forum, members=members)
        fake.add_admin(self.chat, self.fran)
        for person in (self.sam, self.fran, self.alice):
            person.start_private()


async def act(fake: FakeBotApi, user: TelegramUser, chat: Any, words: str, **kw: Any) -> Any:
    sent = user.say(chat, words, **kw)
    await settle(fake)
    return sent


async def consent(fake: FakeBotApi, user: TelegramUser, chat: Any) -> None:
    """The user follows the group's join link and presses "Agree to all"."""
    join = next(m for m in fake.messages_in(chat) if "Anyone can read along" in m.get("text", ""))
    link = button_with(join, lambda b: "url" in b)["url"]
    user.start_private(link.split("start=")[1])
    await settle(fake)
    offer = last_with_buttons(fake, user)
    user.press(offer, button_with(offer, lambda b: "all" in b["text"])["callback_data"])
    await settle(fake)


async def fake_bot_message_with_button(fake: FakeBotApi, chat_id: int, data: str) -> Any:
    """A message with one button of ``data``, sent as if by the bot (as an older release did)."""
    markup = {"inline_keyboard": [[{"text": "Press", "callback_data": data}]]}
    async with (
        aiohttp.ClientSession() as session,
        session.post(
            f"{fake.api_url}/sendMessage",
            json={"chat_id": chat_id, "text": "old", "reply_markup": markup},
        ) as answer,
    ):
        return (await answer.json())["result"]
