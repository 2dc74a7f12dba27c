"""Actions out to Discord: channel messages, card embeds, choices, private and ephemeral replies.

A private message to someone in the middle of an interaction becomes an ephemeral follow-up of
that interaction (``replying_to``); to anyone else it is a direct message. Nothing the bot
sends can mention anyone: every send passes ``AllowedMentions.none()``.
"""

from __future__ import annotations

import contextlib
import logging
from collections.abc import Iterator
from contextvars import ContextVar
from dataclasses import dataclass
from pathlib import Path
from typing import Any

import discord

from bot.core.actions import Action, AskChoice, CheckAccess, SendCard, SendPrivate, SendText
from bot.core.ids import TOPIC_SEPARATOR, GroupRef
from bot.platforms import discord_ui as ui
from bot.platforms.render import (
    DISCORD_EMBEDS,
    card_panels,
    choice_text,
    offered_scopes,
    pack_panels,
    split_text,
)
from bot.texts import Catalogue

MESSAGE_LIMIT = 2000
NO_MENTIONS = discord.AllowedMentions.none()
# What a session needs in its channel, by discord.Permissions attribute.
NEEDED = (
    "view_channel",
    "send_messages",
    "send_messages_in_threads",
    "create_public_threads",
    "embed_links",
    "attach_files",
    "read_message_history",
)
log = logging.getLogger(__name__)


@dataclass
class Reply:
    """The interaction a person is in the middle of, so private answers go to it."""

    interaction: discord.Interaction[Any]
    sent: bool = False


_REPLY: ContextVar[Reply | None] = ContextVar("discord_reply", default=None)


class Outbox:
    """Performs the core's actions with a Discord client."""

    def __init__(self, client: discord.Client, texts: Catalogue, language: str, images: Path):
        self.client, self.texts, self.language, self.images = client, texts, language, images
        self._slots: dict[tuple[str, str], discord.Message] = {}

    def t(self, key: str, **params: object) -> str:
        """A message from the catalogue in the deployment's language."""
        return self.texts.get(self.language, key, **params)

    @contextlib.contextmanager
    def replying_to(self, reply: Reply) -> Iterator[Reply]:
        """Send private answers for this interaction's person to it, while the block runs.

        The service handles one event at a time per group, but different groups run
        concurrently, so the reply travels with the task rather than the adapter.
        """
        token = _REPLY.set(reply)
        try:
            yield reply
        finally:
            _REPLY.reset(token)

    async def perform(self, action: Action) -> None:
        """Carry out one action in Discord."""
        if isinstance(action, SendPrivate):
            await self.private(action)
        elif isinstance(action, SendText):
            view = ui.buttons_view(action.group.chat_id, action.buttons)
            await self._post(action.group, action.text, view, action.slot)
        elif isinstance(action, SendCard):
            channel = await self.channel(action.group)
            panels = card_panels(action.card, self.texts, self.language)
            for message in pack_panels(panels):
                embeds, files = ui.embeds(message, self.images)
                await channel.send(embeds=embeds, files=files, allowed_mentions=NO_MENTIONS)
        elif isinstance(action, AskChoice):
            text = choice_text(action, self.texts, self.language)
            await self._post(action.group, text, ui.choice_view(action, self), None)
        elif isinstance(action, CheckAccess):
            await self._check_access(action)

    async def channel(self, group: GroupRef) -> discord.abc.Messageable:
        """The channel (or the thread, for a topic) a group's messages go to."""
        channel_id = int(group.chat_id.rpartition(TOPIC_SEPARATOR)[2])
        channel = self.client.get_channel(channel_id) or await self.client.fetch_channel(channel_id)
        if not isinstance(channel, discord.abc.Messageable):
            raise ValueError(f"discord channel {channel_id} cannot take messages")
        return channel

    async def private(self, action: SendPrivate) -> None:
        """Ephemerally to someone interacting now, else as a direct message."""
        group = action.group.chat_id if action.group else ""
        scopes = offered_scopes(action.buttons)
        view: discord.ui.View | None
        if scopes and group:
            # The consent text in embeds, with a toggle per scope instead of agree-buttons.
            pieces = split_text(action.text, DISCORD_EMBEDS.description)
            embeds = [discord.Embed(description=piece) for piece in pieces]
            text = self.t("discord.consent_hint")
            view = ui.consent_view(self, group, ui.scope_mask(scopes), 0)
        else:
            text, embeds, view = action.text, [], ui.buttons_view(group, action.buttons)
        reply = _REPLY.get()
        if reply is not None and str(reply.interaction.user.id) == action.person.user_id:
            await self.followup(reply, text, embeds, view)
            return
        try:
            user_id = int(action.person.user_id)
            user = self.client.get_user(user_id) or await self.client.fetch_user(user_id)
            channel = user.dm_channel or await user.create_dm()
            pieces = split_text(text, MESSAGE_LIMIT)
            for piece in pieces[:-1]:
                await channel.send(piece, allowed_mentions=NO_MENTIONS)
            key = (f"dm:{action.person.user_id}", action.slot or "")
            await self._send_last(channel, key, pieces[-1], view, action.slot, embeds)
        except discord.Forbidden:
            log.warning("could not write privately: direct messages closed", extra={"kind": "dm"})

    async def followup(
        self,
        reply: Reply,
        text: str,
        embeds: list[discord.Embed] | None = None,
        view: discord.ui.View | None = None,
    ) -> None:
        """An ephemeral follow-up to the interaction, split at the message limit."""
        pieces = split_text(text, MESSAGE_LIMIT)
        webhook = reply.interaction.followup
        for piece in pieces[:-1]:
            await webhook.send(piece, ephemeral=True, allowed_mentions=NO_MENTIONS)
        extra: dict[str, Any] = {"view": view} if view is not None else {}
        await webhook.send(
            pieces[-1], embeds=embeds or [], ephemeral=True, allowed_mentions=NO_MENTIONS, **extra
        )
        reply.sent = True

    async def _post(
        self, group: GroupRef, text: str, view: discord.ui.View | None, slot: str | None
    ) -> None:
        channel = await self.channel(group)
        pieces = split_text(text, MESSAGE_LIMIT)
        for piece in pieces[:-1]:
            await channel.send(piece, allowed_mentions=NO_MENTIONS)
        await self._send_last(channel, (group.chat_id, slot or ""), pieces[-1], view, slot)

    async def _send_last(
        self,
        target: discord.abc.Messageable,
        key: tuple[str, str],
        text: str,
        view: discord.ui.View | None,
        slot: str | None,
        embeds: list[discord.Embed] | None = None,
    ) -> None:
        """Send the last piece of a message, or edit the one sent before in the same slot."""
        previous = self._slots.get(key) if slot else None
        if previous is not None:
            with contextlib.suppress(discord.NotFound):
                await previous.edit(
                    content=text, embeds=embeds or [], view=view, allowed_mentions=NO_MENTIONS
                )
                return
        extra: dict[str, Any] = {"view": view} if view is not None else {}
        sent = await target.send(text, embeds=embeds or [], allowed_mentions=NO_MENTIONS, **extra)
        if slot:
            self._slots[key] = sent

    async def _check_access(self, action: CheckAccess) -> None:
        channel = await self.channel(action.group)
        missing = missing_permissions(channel)
        if missing:
            text = self.t("discord.missing_permissions", permissions=", ".join(missing))
            await self.private(SendPrivate(action.person, text, action.group))


def missing_permissions(channel: object) -> list[str]:
    """The permissions a session needs that the bot lacks in this channel, by their UI names."""
    if not isinstance(channel, discord.abc.GuildChannel | discord.Thread):
        return []
    granted = channel.permissions_for(channel.guild.me)
    return [name.replace("_", " ").title() for name in NEEDED if not getattr(granted, name, False)]


def current_reply() -> Reply | None:
    """The interaction the current task is answering, if any."""
    return _REPLY.get()
