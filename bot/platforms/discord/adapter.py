"""The Discord platform on discord.py 2: slash commands, persistent buttons, threads, embeds.

Gateway events become the core's events and the core's actions become Discord calls (see
``discord_out``); who may do what is decided by the service. A session's thread is a topic of
its channel: its group is ``channel/thread``, so only that thread is captured while consent and
roles belong to the channel. Edits and deletions arrive as raw events, so they are mirrored
even for messages discord.py no longer has in its cache. What sessions' channels said while the
bot was away is read back when it connects (see ``discord_catchup``).
"""

from __future__ import annotations

import asyncio
import contextlib
import logging
from collections.abc import Awaitable, Callable, Mapping
from dataclasses import replace
from datetime import datetime
from pathlib import Path
from typing import Any, Protocol

import discord

from bot.content.check import Library
from bot.core.actions import Action, OpenTopic
from bot.core.events import (
    ButtonPressed,
    CommandIssued,
    Event,
    MessageDeleted,
    MessageEdited,
    MessagePosted,
    VoteCast,
)
from bot.core.ids import TOPIC_SEPARATOR, GroupRef, PersonRef
from bot.core.ports import CursorStore
from bot.core.state import SessionState
from bot.platforms.discord import ui
from bot.platforms.discord.catchup import CatchUp, Channel, CursorBook
from bot.platforms.discord.client import make_client
from bot.platforms.discord.commands import DIRECT_ONLY, install, open_topic
from bot.platforms.discord.out import Outbox
from bot.platforms.discord.platform import PLATFORM as DESCRIPTOR
from bot.platforms.discord.settings import DiscordSettings
from bot.settings import ConfigError
from bot.texts import Catalogue

PLATFORM = DESCRIPTOR.name  # the name the registry knows it by
CAPTURED_TYPES = (discord.MessageType.default, discord.MessageType.reply)
log = logging.getLogger(__name__)

BAD_TOKEN = (
    "DIALOGUE_DISCORD_TOKEN: Discord refused this token; in the Developer Portal open your "
    "application, click Bot, then Reset Token, and put the new token in the environment."
)
NO_TOKEN = (
    "DIALOGUE_DISCORD_TOKEN: discord.enabled is true but this variable is not set; copy the "
    "token from the Developer Portal (your application > Bot > Reset Token) into it."
)
NO_CONTENT_INTENT = (
    "Discord: the Message Content intent is off for this bot; in the Developer Portal open your "
    "application, click Bot, switch on MESSAGE CONTENT INTENT under Privileged Gateway Intents, "
    "click Save Changes, and start the bot again."
)


class Host(Protocol):
    """What the adapter needs from the service: content, sessions, clock, submit()."""

    library: Library
    clock: Callable[[], datetime]

    @property
    def sessions(self) -> Mapping[GroupRef, SessionState]:
        """Sessions by group."""

    async def submit(self, event: Event) -> asyncio.Future[None]:
        """Decide one event in its group's turn; its finish (see ``Service.submit``)."""


class DiscordPlatform:
    """Discord servers: events in from the gateway, actions out through the REST API."""

    name = PLATFORM

    def __init__(
        self,
        settings: DiscordSettings,
        host: Host,
        texts: Catalogue,
        language: str,
        images: Path,
        cursors: CursorStore,
        token: str | None = None,
    ) -> None:
        self.settings, self.host, self.token = settings, host, token
        self.cursors = CursorBook(cursors, PLATFORM, host.clock)
        self.catch_up = CatchUp(self, self.cursors, lambda: host.sessions, settings.catch_up_limit)
        self.client = make_client(settings, self)
        self.outbox = Outbox(self.client, texts, language, images)
        self.t = self.outbox.t
        self.tree = self.client.tree
        install(self.tree, self)
        self._connection: asyncio.Task[None] | None = None

    # Life -------------------------------------------------------------------------------

    async def prepare(self) -> None:
        """At login: register the persistent components again and sync the slash commands."""
        self.client.add_dynamic_items(*ui.COMPONENTS)
        await self.sync_commands()

    async def sync_commands(self) -> None:
        """Update the slash commands in the configured servers (or everywhere).

        Commands of direct messages exist only everywhere: a server's commands are not
        offered outside it.
        """
        if not self.settings.guilds:
            await self.tree.sync()
            return
        for guild_id in self.settings.guilds:
            guild = discord.Object(id=guild_id)
            self.tree.copy_global_to(guild=guild)
            for name in DIRECT_ONLY:
                self.tree.remove_command(name, guild=guild)
            try:
                await self.tree.sync(guild=guild)
            except discord.Forbidden:
                raise ConfigError(
                    f"discord.guilds: the bot may not add commands to server {guild_id}; invite "
                    "it there with the link in docs/discord.md (scopes bot and "
                    "applications.commands) or remove the id"
                ) from None

    async def login(self) -> None:
        """Log in, which registers the components and syncs the commands; explain a bad token."""
        if not self.token:
            raise ConfigError(NO_TOKEN)
        try:
            await self.client.login(self.token)
        except discord.LoginFailure:
            await self.client.close()
            raise ConfigError(BAD_TOKEN) from None

    async def start(self) -> None:
        """Log in and connect; return once Discord says the bot is ready."""
        await self.login()
        self._connection = asyncio.create_task(self.client.connect())
        ready = asyncio.create_task(self.client.wait_until_ready())
        await asyncio.wait({self._connection, ready}, return_when=asyncio.FIRST_COMPLETED)
        if not self._connection.done():
            self._connection.add_done_callback(_connection_ended)
            return
        ready.cancel()
        await self.client.close()
        error = self._connection.exception()
        if isinstance(error, discord.PrivilegedIntentsRequired):
            raise ConfigError(NO_CONTENT_INTENT)
        if error is not None:
            raise error

    async def stop(self) -> None:
        """Disconnect, then save where each session's channel was read up to."""
        await self.client.close()
        if self._connection is not None:
            with contextlib.suppress(Exception, asyncio.CancelledError):
                await self._connection
        await self.cursors.close()

    async def perform(self, action: Action) -> None:
        """Carry out one action in Discord."""
        if isinstance(action, OpenTopic):
            await open_topic(self, action)
        else:
            await self.outbox.perform(action)

    # Events in --------------------------------------------------------------------------

    def person(self, user: discord.abc.User) -> PersonRef:
        """The person behind a Discord user."""
        return PersonRef(PLATFORM, str(user.id))

    def is_admin(self, user: discord.abc.User) -> bool:
        """Whether the member has a facilitator role or (if configured) Manage Server."""
        if not isinstance(user, discord.Member):
            return False
        if self.settings.manage_server_facilitates and user.guild_permissions.manage_guild:
            return True
        return any(role.name in self.settings.facilitator_roles for role in user.roles)

    def group_of(self, channel: object) -> GroupRef | None:
        """The group a server channel stands for (a thread is a topic of its channel)."""
        if isinstance(channel, discord.Thread):
            return GroupRef(PLATFORM, f"{channel.parent_id}{TOPIC_SEPARATOR}{channel.id}")
        if isinstance(channel, discord.abc.GuildChannel):
            return GroupRef(PLATFORM, str(channel.id))
        return None

    async def channel(self, channel_id: int) -> Channel:
        """A channel or thread by id, from the cache or else from Discord."""
        return self.client.get_channel(channel_id) or await self.client.fetch_channel(channel_id)

    async def _group_of_id(self, channel_id: int) -> GroupRef | None:
        try:
            return self.group_of(await self.channel(channel_id))
        except discord.HTTPException:
            return None

    async def deliver(self, event: Event) -> bool:
        """Hand an event to the service and wait until it is finished; False on a failure."""
        return await _finished(event, await self._decide(event))

    async def _decide(self, event: Event) -> asyncio.Future[None] | None:
        """Decide an event in its group's turn; its finish (None: deciding failed, logged)."""
        try:
            return await self.host.submit(event)
        except Exception as exc:  # one bad event must not stop the bot
            _failed(event, exc)
            return None

    async def on_message(self, message: discord.Message) -> None:
        """A message as it is posted, once its group has caught up on what it missed."""
        group = self.group_of(message.channel)
        if group is not None:
            await self.catch_up.wait(group)
        taken = await self.take(message)
        if taken is not None:
            await taken

    async def take(self, message: discord.Message) -> Awaitable[None] | None:
        """A message in a server channel or thread (live or read back), or a direct message.

        A direct message with the bot is private: its group is None. '/name args' typed as
        text is a command, wherever it is typed. Returns once the message is decided, with
        what to await until it is finished and its group's cursor moved past it (None: the
        message is not for the bot), so a catch-up decides the next while it is committed.
        """
        group = self.group_of(message.channel)
        direct = isinstance(message.channel, discord.DMChannel)
        if message.author.bot or message.webhook_id or (group is None and not direct):
            return None
        if message.type not in CAPTURED_TYPES:
            return None
        event = self._posted(message, group)
        return self._taken(event, await self._decide(event), group, message.id)

    async def _taken(
        self,
        event: Event,
        finish: asyncio.Future[None] | None,
        group: GroupRef | None,
        message_id: int,
    ) -> None:
        await _finished(event, finish)
        if group is not None:  # never past a message whose captures are not committed
            self.catch_up.handled(group, message_id)

    def _posted(self, message: discord.Message, group: GroupRef | None) -> Event:
        person, text = self.person(message.author), message.content
        reference = message.reference.message_id if message.reference else None
        reply_to = str(reference) if reference else None
        words = text[1:].split() if text.startswith("/") else []
        if words:
            name, *args = words
            by_admin = self.is_admin(message.author)
            return CommandIssued(
                person,
                group,
                name,
                tuple(args),
                message.created_at,
                str(message.id),
                reply_to=reply_to,
                by_admin=by_admin,
            )
        kind = "text" if text else "sticker" if message.stickers else "attachment"
        at = message.created_at
        return MessagePosted(person, group, str(message.id), text, at, reply_to, kind)

    async def on_raw_message_edit(self, payload: discord.RawMessageUpdateEvent) -> None:
        """An edit, cached or not; outside a server it is in a direct message (private)."""
        if payload.guild_id is None:
            await self.take_edit(payload.message, None)
            return
        group = await self._group_of_id(payload.channel_id)
        if group is not None:
            await self.take_edit(payload.message, group)

    async def take_edit(self, message: discord.Message, group: GroupRef | None) -> None:
        """A message's latest edit, live or read back (adding a link preview is no edit)."""
        if message.author.bot or message.edited_at is None:
            return
        person, at = self.person(message.author), message.edited_at
        await self.deliver(MessageEdited(person, group, str(message.id), message.content, at))

    async def deleted(
        self, channel_id: int, message_ids: list[int], cached: list[discord.Message]
    ) -> None:
        """Deleted messages, cached or not (the author is known only from the cache)."""
        group = await self._group_of_id(channel_id)
        if group is None:
            return
        authors = {message.id: self.person(message.author) for message in cached}
        for message_id in message_ids:
            gone = MessageDeleted(
                group, str(message_id), self.host.clock(), authors.get(message_id)
            )
            await self.deliver(gone)

    async def on_interaction(self, interaction: discord.Interaction[Any]) -> None:
        """A component no registered item answers (a foreign or outdated id): say so."""
        if interaction.type is not discord.InteractionType.component:
            return
        data: dict[str, Any] = dict(interaction.data or {})
        custom = str(data.get("custom_id", ""))
        if not ui.is_ours(custom) and not interaction.response.is_done():
            with contextlib.suppress(discord.HTTPException):
                await interaction.response.send_message(self.t("discord.stale"), ephemeral=True)

    async def submit(
        self, interaction: discord.Interaction[Any], make: ui.MakeEvent, about: str | None = None
    ) -> None:
        """Acknowledge an interaction, then handle its event; the replies to it name its token.

        In a direct message the replies are ordinary messages there, kept like the rest of
        the conversation (a pressed button's message stays as it is).
        """
        direct = interaction.guild_id is None
        pressed = interaction.type is discord.InteractionType.component
        if not interaction.response.is_done():
            if direct and pressed:
                await interaction.response.defer()
            else:
                await interaction.response.defer(ephemeral=True, thinking=True)
        group = self.group_of(interaction.channel)
        event = _keyed(make(self.person(interaction.user), group, self.host.clock()), interaction)
        if event is None:
            await self.outbox.followup(interaction.token, self.t("discord.stale"))
            return
        if about and group is None and isinstance(event, CommandIssued | ButtonPressed):
            event = replace(event, about=GroupRef(PLATFORM, about))
        if not await self.deliver(event):
            with contextlib.suppress(discord.HTTPException):
                await self.outbox.followup(interaction.token, self.t("discord.failed"))
        if not (direct and pressed):
            await _end_thinking(interaction)


def _keyed(event: Event | None, interaction: discord.Interaction[Any]) -> Event | None:
    """The event keyed by its interaction's id, so one dispatched twice is handled once.

    It carries the interaction's token too: the replies to it name the token (``answers``),
    and the language the person's Discord is set to (``locale``).
    """
    key = str(interaction.id)
    locale = interaction.locale.value if interaction.locale else None
    if isinstance(event, ButtonPressed | VoteCast):
        return replace(event, press_id=key, token=interaction.token, locale=locale)
    if isinstance(event, CommandIssued):
        message_id = event.message_id or f"interaction:{key}"
        return replace(event, message_id=message_id, token=interaction.token, locale=locale)
    return event


async def _end_thinking(interaction: discord.Interaction[Any]) -> None:
    """Remove the "thinking" placeholder if nothing answered it (the answer went elsewhere).

    Discord remembers whether a follow-up replaced it, so nothing is kept here.
    """
    with contextlib.suppress(discord.HTTPException):
        original = await interaction.original_response()
        if original.flags.loading:
            await interaction.delete_original_response()


def _connection_ended(task: asyncio.Task[None]) -> None:
    # discord.py reconnects by itself; it gives up only on errors it cannot recover from.
    if not task.cancelled() and task.exception() is not None:
        kind = type(task.exception()).__name__
        log.error("the Discord connection ended: %s", kind, extra={"platform": PLATFORM})


async def _finished(event: Event, finish: asyncio.Future[None] | None) -> bool:
    """Wait for an event's finish; False when it failed (logged, as deciding it would be)."""
    if finish is None:
        return False
    try:
        await finish
    except Exception as exc:
        _failed(event, exc)
        return False
    return True


def _failed(event: Event, exc: Exception) -> None:
    # An exception's message may quote what was written, so only its type is logged.
    log.error("could not handle %s: %s", type(event).__name__, type(exc).__name__)
