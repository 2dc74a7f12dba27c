"""Actions out to Discord: channel messages, card embeds, choices, private and ephemeral replies.

A private message that answers an interaction in a server (its ``answers`` names the
interaction's token) becomes an ephemeral follow-up of it; otherwise it is a direct message, as
is anything shown to one person as their group would see it (a rehearsal, a resident's own
dialogue). Nothing the bot sends can mention anyone: every send passes ``AllowedMentions.none()``.
"""

from __future__ import annotations

import contextlib
import io
import logging
from pathlib import Path
from typing import TYPE_CHECKING, Any

import discord

from bot.core.actions import (
    Action,
    AskChoice,
    CheckAccess,
    SendCard,
    SendImage,
    SendPrivate,
    SendText,
)
from bot.core.ids import TOPIC_SEPARATOR, GroupRef, PersonRef
from bot.platforms.discord import ui
from bot.platforms.render import (
    DISCORD_EMBEDS,
    card_panels,
    choice_text,
    offered_scopes,
    pack_panels,
    shorten,
    shown_markdown,
    split_text,
)
from bot.texts import Catalogue

if TYPE_CHECKING:
    from discord.types.webhook import Webhook as WebhookPayload

MESSAGE_LIMIT = 2000
ALT_TEXT_LIMIT = 1024
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


class Outbox:
    """Performs the core's actions with a Discord client."""

    def __init__(self, client: discord.Client, texts: Catalogue, language: str, images: Path):
        self.client, self.texts, self.language, self.images = client, texts, language, images
        self._slots: dict[tuple[str, str], discord.Message] = {}

    def t(self, key: str, **params: object) -> str:
        """A message from the catalogue in the deployment's language."""
        return self.texts.get(self.language, key, **params)

    async def perform(self, action: Action) -> None:
        """Carry out one action in Discord."""
        if isinstance(action, SendPrivate):
            await self.private(action)
        elif isinstance(action, CheckAccess):
            await self._check_access(action)
        elif isinstance(action, SendText | SendCard | AskChoice | SendImage):
            try:
                await self._show(action)
            except discord.Forbidden:
                if action.person is None:
                    raise  # a channel refused: the service logs it
                _closed_direct_messages()

    async def _show(self, action: SendText | SendCard | AskChoice | SendImage) -> None:
        """Something shown to a group, or to one person as their group would see it."""
        if isinstance(action, SendText):
            # Shown privately (a rehearsal): its buttons are about no group.
            about = action.group.chat_id if action.person is None else ""
            view = ui.buttons_view(about, action.buttons)
            await self._post(action, action.text, view, action.slot)
        elif isinstance(action, SendCard):
            target = await self.target(action)
            card, language = action.card, action.language or self.language
            shown = {
                "title": shown_markdown(card.title, language),
                "summary": shown_markdown(card.summary, language),
                "body": shown_markdown(card.body, language),
            }
            panels = card_panels(card.model_copy(update=shown), self.texts, language)
            for message in pack_panels(panels):
                embeds, files = ui.embeds(message, self.images)
                await target.send(embeds=embeds, files=files, allowed_mentions=NO_MENTIONS)
        elif isinstance(action, AskChoice):
            text = choice_text(action, self.texts, action.language or self.language)
            await self._post(action, text, ui.choice_view(action, self), None)
        else:
            await self._image(action)

    async def target(
        self, action: SendText | SendCard | AskChoice | SendImage
    ) -> discord.abc.Messageable:
        """Where an action goes: its person's direct messages, or else its group's channel."""
        if action.person is not None:
            return await self.direct(action.person)
        return await self.channel(action.group)

    async def direct(self, person: PersonRef) -> discord.DMChannel:
        """The direct-message channel with a person."""
        user_id = int(person.user_id)
        user = self.client.get_user(user_id) or await self.client.fetch_user(user_id)
        return user.dm_channel or await user.create_dm()

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
        shown = shown_markdown(action.text, self.language)
        if scopes and group:
            # The consent text in embeds, with a toggle per scope instead of agree-buttons.
            pieces = split_text(shown, DISCORD_EMBEDS.description)
            embeds = [discord.Embed(description=piece) for piece in pieces]
            text = self.t("discord.consent_hint")
            view = ui.consent_view(self, group, tuple((scope, False) for scope in scopes))
        else:
            text, embeds, view = shown, [], ui.buttons_view(group, action.buttons)
        origin = action.answers
        if origin is not None and origin.token is not None and origin.group is not None:
            # It answers an interaction in a server; in direct messages answers are messages.
            await self.followup(origin.token, text, embeds, view)
            return
        try:
            channel = await self.direct(action.person)
            pieces = split_text(text, MESSAGE_LIMIT)
            for piece in pieces[:-1]:
                await channel.send(piece, allowed_mentions=NO_MENTIONS)
            key = (_dm_key(action.person), action.slot or "")
            await self._send_last(channel, key, pieces[-1], view, action.slot, embeds)
        except discord.Forbidden:
            _closed_direct_messages()

    async def followup(
        self,
        token: str,
        text: str,
        embeds: list[discord.Embed] | None = None,
        view: discord.ui.View | None = None,
    ) -> None:
        """An ephemeral follow-up to the interaction with this token, split at the limit."""
        pieces = split_text(shown_markdown(text, self.language), MESSAGE_LIMIT)
        # What ``Interaction.followup`` builds, from the token alone.
        payload: WebhookPayload = {
            "id": self.client.application_id or 0,
            "type": 3,
            "token": token,
        }
        webhook = discord.Webhook.from_state(data=payload, state=self.client._connection)
        for piece in pieces[:-1]:
            await webhook.send(piece, ephemeral=True, allowed_mentions=NO_MENTIONS)
        extra: dict[str, Any] = {"view": view} if view is not None else {}
        await webhook.send(
            pieces[-1], embeds=embeds or [], ephemeral=True, allowed_mentions=NO_MENTIONS, **extra
        )

    async def _post(
        self,
        action: SendText | AskChoice,
        text: str,
        view: discord.ui.View | None,
        slot: str | None,
    ) -> None:
        channel = await self.target(action)
        pieces = split_text(shown_markdown(text, self.language), MESSAGE_LIMIT)
        for piece in pieces[:-1]:
            await channel.send(piece, allowed_mentions=NO_MENTIONS)
        where = _dm_key(action.person) if action.person else action.group.chat_id
        await self._send_last(channel, (where, slot or ""), pieces[-1], view, slot)

    async def _image(self, action: SendImage) -> None:
        """A picture the bot drew (a chart) as an attachment, its description said with it."""
        target = await self.target(action)
        pieces = split_text(shown_markdown(action.alt, self.language), MESSAGE_LIMIT)
        description = shorten(action.alt, ALT_TEXT_LIMIT)
        picture = discord.File(
            io.BytesIO(action.png), filename=f"{action.name}.png", description=description
        )
        await target.send(pieces[0], file=picture, allowed_mentions=NO_MENTIONS)
        for piece in pieces[1:]:
            await target.send(piece, allowed_mentions=NO_MENTIONS)

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
            await self.private(
                SendPrivate(action.person, text, action.group, answers=action.answers)
            )


def missing_permissions(channel: object) -> list[str]:
    """The permissions a session needs that the bot lacks in this channel, by their UI names."""
    if not isinstance(channel, discord.abc.GuildChannel | discord.Thread):
        return []
    granted = channel.permissions_for(channel.guild.me)
    return [name.replace("_", " ").title() for name in NEEDED if not getattr(granted, name, False)]


def _closed_direct_messages() -> None:
    log.warning("could not write privately: direct messages closed", extra={"kind": "dm"})


def _dm_key(person: PersonRef) -> str:
    """The key of a person's direct messages among the slots."""
    return f"dm:{person.user_id}"
