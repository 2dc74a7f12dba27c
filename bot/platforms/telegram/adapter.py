"""The Telegram platform: python-telegram-bot 22 updates in as events, actions out as calls.

Long polling by default, a webhook when ``telegram.webhook_url`` is set. Flood limits are
kept by PTB's AIORateLimiter, which waits out a 429 and sends again. No rule about sessions,
consent or roles lives here: see ``telegram_updates`` (in) and ``telegram_send`` (out).
"""

from __future__ import annotations

import asyncio
import logging
import time
from collections.abc import Awaitable, Callable
from dataclasses import replace
from datetime import datetime
from pathlib import Path
from typing import Any
from urllib.parse import urlparse

from telegram import (
    BotCommand,
    BotCommandScopeAllChatAdministrators,
    BotCommandScopeAllGroupChats,
    BotCommandScopeAllPrivateChats,
    BotCommandScopeDefault,
    Message,
    Update,
)
from telegram.error import InvalidToken, NetworkError, TelegramError
from telegram.ext import AIORateLimiter, Application, ApplicationBuilder, ContextTypes, TypeHandler

from bot.content.check import Library
from bot.core.actions import Action
from bot.core.events import CommandIssued, Event
from bot.platforms.html import escape
from bot.platforms.telegram.codec import (
    PLATFORM,
    chat_and_thread,
    error_reason,
    step_key,
)
from bot.platforms.telegram.poll import Poller
from bot.platforms.telegram.send import Sender
from bot.platforms.telegram.settings import TelegramSettings
from bot.platforms.telegram.updates import Directory, Notice, UpdateReader, group_of
from bot.settings import ConfigError
from bot.texts import Catalogue

log = logging.getLogger(__name__)

ALLOWED_UPDATES = ["message", "edited_message", "callback_query", "my_chat_member"]
PARTICIPANT_COMMANDS = (
    "consent",
    "agree",
    "vote",
    "mydata",
    "language",
    "forget",
    "withdraw",
    "help",
)
FACILITATOR_COMMANDS = (
    "start",
    "next",
    "back",
    "goto",
    "skip",
    "pause",
    "resume",
    "end",
    "status",
    "register",
    "facilitator",
)
# In a private chat: residents' self-paced dialogue (/join), facilitators' rehearsal and
# reflections, and everyone's own data.
PRIVATE_COMMANDS = (
    "join",
    "mydata",
    "language",
    "profile",
    "forget",
    "withdraw",
    "agree",
    "rehearse",
    "reflect",
    "help",
)
# Decides an event in its group's turn; its finish (see ``Service.submit``).
Submit = Callable[[Event], Awaitable[asyncio.Future[None]]]


class TelegramPlatform:
    """One Telegram bot: its groups, forum topics and private chats."""

    name = PLATFORM

    def __init__(
        self,
        settings: TelegramSettings,
        token: str,
        webhook_secret: str | None,
        texts: Catalogue,
        language: str,
        library: Library,
        resources: Path,
        submit: Submit,
        clock: Callable[[], datetime],
    ) -> None:
        """Build the PTB application (nothing is contacted until ``start``)."""
        self.settings = settings
        self.webhook_secret = webhook_secret
        self.texts = texts
        self.language = language
        self.submit = submit
        # Long polling: each update's finish, by update id, for the poller to confirm it after.
        self._finishes: dict[int, asyncio.Future[None]] = {}
        self.clock = clock
        base = settings.api_base_url.rstrip("/")
        limiter = AIORateLimiter(
            overall_max_rate=settings.messages_per_second,
            overall_time_period=1,
            group_max_rate=settings.group_messages_per_minute,
            group_time_period=60,
            max_retries=settings.flood_retries,
        )
        self.app: Application[Any, Any, Any, Any, Any, Any] = (
            ApplicationBuilder()
            .token(token)
            .base_url(f"{base}/bot")
            .base_file_url(f"{base}/file/bot")
            .rate_limiter(limiter)
            .build()
        )
        self.app.add_handler(TypeHandler(Update, self._on_update))
        self.app.add_error_handler(self._on_error)
        # Every question people answer by button (a feedback step's questions included).
        self.step_ids = {
            step_key(ballot.id): ballot.id
            for script in library.scripts.values()
            for step in script.steps
            for ballot in step.ballots()
        }
        self.people = Directory()
        self.reader: UpdateReader | None = None
        self.poller: Poller | None = None
        self.sender = Sender(self.app.bot, texts, language, resources, self.step_ids, self.people)
        self._admins: dict[int, tuple[float, frozenset[int]]] = {}

    def t(self, key: str, **params: object) -> str:
        """A message from the catalogue."""
        return self.texts.get(self.language, key, **params)

    async def start(self) -> None:
        """Check the token, set the command menus, check privacy mode, start receiving."""
        try:
            await self.app.initialize()
        except InvalidToken:
            raise ConfigError(
                "DIALOGUE_TELEGRAM_TOKEN: Telegram did not accept this token; copy it again "
                "from @BotFather (/mybots, your bot, API Token)"
            ) from None
        except NetworkError as exc:
            raise ConfigError(
                f"telegram.api_base_url: the Bot API at {self.settings.api_base_url} could not "
                f"be reached or failed ({error_reason(exc.message)}); check the address and "
                "network"
            ) from None
        except TelegramError as exc:
            # A proxy's error page, a server that is not the Bot API: its answer is not shown,
            # as it may echo the request's URL (which holds the token).
            raise ConfigError(
                f"telegram.api_base_url: {self.settings.api_base_url} did not answer as the Bot "
                f"API does ({error_reason(exc.message)}); check that the address is the Bot API's"
            ) from None
        bot = self.app.bot
        self.reader = UpdateReader(
            bot.username,
            frozenset(self.settings.record_media_kinds),
            self.step_ids,
            self.clock,
            self.people,
        )
        await self._set_commands()
        await self._warn_if_private()
        await self.app.start()
        updater = self.app.updater
        assert updater is not None
        if self.settings.webhook_url:
            await updater.start_webhook(
                listen=self.settings.webhook_listen,
                port=self.settings.webhook_port,
                url_path=urlparse(self.settings.webhook_url).path.lstrip("/"),
                webhook_url=self.settings.webhook_url,
                secret_token=self.webhook_secret,
                allowed_updates=ALLOWED_UPDATES,
            )
        else:
            await self.app.bot.delete_webhook()  # a webhook set earlier would refuse polling
            self.poller = Poller(
                self.app.bot,
                self._process,
                self.settings.poll_timeout_seconds,
                ALLOWED_UPDATES,
            )
            self.poller.start()
        log.info("telegram started", extra={"platform": PLATFORM})

    async def stop(self) -> None:
        """Stop receiving, finish the updates already received, and disconnect."""
        updater = self.app.updater
        if updater is not None and updater.running:
            await updater.stop()
        if self.poller is not None:
            await self.poller.stop()
        if self.app.running:
            await self.app.stop()
        await self.app.shutdown()

    async def perform(self, action: Action) -> None:
        """Carry out one of the core's actions."""
        await self.sender.perform(action)

    async def _on_update(self, update: Update, context: ContextTypes.DEFAULT_TYPE) -> None:
        assert self.reader is not None
        if update.callback_query is not None:
            await self._on_press(update)
            return
        message = update.message or update.edited_message
        if message is None:
            if update.my_chat_member is not None:
                chat = update.my_chat_member.chat
                status = update.my_chat_member.new_chat_member.status
                log.info("bot membership changed", extra={"group": chat.id, "kind": status})
            return
        found = self.reader.message(message) if update.message else self.reader.edit(message)
        if isinstance(found, Notice):
            chat_id, thread = _where(message)
            await self.sender.notice(chat_id, thread, self.t(found.key, **found.params))
            return
        if found is None:
            return
        if isinstance(found, CommandIssued) and found.group is not None:
            found = replace(found, by_admin=await self._is_admin(message))
        finish = await self.submit(found)
        if self.poller is None:  # a webhook's update: it was answered when it came
            await finish
        else:  # the poller confirms the update once its event is finished
            self._finishes[update.update_id] = finish

    async def handle(self, event: Event) -> None:
        """Decide an event and wait until it is finished (committed, answered)."""
        await (await self.submit(event))

    async def _process(self, update: Update) -> asyncio.Future[None] | None:
        """Hand an update to the handlers; its event's finish, if it has to wait for one."""
        await self.app.process_update(update)
        return self._finishes.pop(update.update_id, None)

    async def _on_press(self, update: Update) -> None:
        assert self.reader is not None and update.callback_query is not None
        query = update.callback_query
        found = self.reader.press(query)
        if isinstance(found, Notice):
            await self.sender.answer(query.id, self.t(found.key))
            return
        try:
            await self.handle(found)
        finally:
            # Ends the button's spinner; Telegram refuses it if a reply already answered it.
            await self.sender.answer(query.id)

    async def _is_admin(self, message: Message) -> bool:
        """Whether the sender administers the chat (Telegram's list, kept for a short time)."""
        chat_id, user = message.chat.id, message.from_user
        cached = self._admins.get(chat_id)
        if cached is None or time.monotonic() - cached[0] > self.settings.admin_cache_seconds:
            try:
                admins = await self.app.bot.get_chat_administrators(chat_id)
            except TelegramError as exc:
                log.info("administrators unknown: %s", exc.message, extra={"group": chat_id})
                return False
            for member in admins:
                self.people.see(member.user)
            cached = (time.monotonic(), frozenset(m.user.id for m in admins))
            self._admins[chat_id] = cached
        return user is not None and user.id in cached[1]

    async def _set_commands(self) -> None:
        def commands(names: tuple[str, ...]) -> list[BotCommand]:
            return [BotCommand(name, self.t(f"telegram.cmd_{name}")) for name in names]

        participants = commands(PARTICIPANT_COMMANDS)
        menus = (
            (BotCommandScopeDefault(), commands(PRIVATE_COMMANDS)),
            (BotCommandScopeAllPrivateChats(), commands(PRIVATE_COMMANDS)),
            (BotCommandScopeAllGroupChats(), participants),
            (
                BotCommandScopeAllChatAdministrators(),
                commands(FACILITATOR_COMMANDS) + participants,
            ),
        )
        try:
            for scope, menu in menus:
                await self.app.bot.set_my_commands(menu, scope=scope)
        except TelegramError as exc:
            log.warning("command menus not set: %s", exc.message)

    async def _warn_if_private(self) -> None:
        """Privacy mode hides group replies from the bot: tell the log and every staff member."""
        if self.app.bot.bot.can_read_all_group_messages:
            return
        text = self.t("telegram.privacy_on_start")
        log.warning(text)
        for staff in self.settings.staff:
            try:
                await self.app.bot.send_message(staff, escape(text), parse_mode="HTML")
            except TelegramError as exc:
                log.info("staff not told about privacy mode: %s", exc.message)

    async def _on_error(self, update: object, context: ContextTypes.DEFAULT_TYPE) -> None:
        error = context.error
        log.error(
            "update not handled: %s", type(error).__name__, exc_info=error, extra={"kind": "error"}
        )


def _where(message: Message) -> tuple[int, int | None]:
    group = group_of(message)
    return chat_and_thread(group) if group is not None else (message.chat.id, None)
