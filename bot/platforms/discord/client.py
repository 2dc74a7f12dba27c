"""The discord.py client the adapter runs: its intents, its tree, and where its events go."""

from __future__ import annotations

from typing import TYPE_CHECKING, Any

import discord
from discord import app_commands

from bot.platforms.discord.out import NO_MENTIONS
from bot.platforms.discord.settings import DiscordSettings

if TYPE_CHECKING:
    from bot.platforms.discord.adapter import DiscordPlatform


class _Relay:
    """The client's gateway callbacks, passed on to the adapter."""

    receiver: DiscordPlatform
    tree: app_commands.CommandTree[Any]

    async def setup_hook(self) -> None:
        await self.receiver.prepare()

    async def on_connect(self) -> None:
        # A new gateway session (not a resumed one, which Discord replays): hold live
        # messages of the sessions' groups until they have caught up.
        self.receiver.catch_up.connected()

    async def on_ready(self) -> None:
        await self.receiver.catch_up.run()

    async def on_shard_ready(self, shard_id: int) -> None:
        await self.receiver.catch_up.run()

    async def on_message(self, message: discord.Message) -> None:
        await self.receiver.on_message(message)

    async def on_raw_message_edit(self, payload: discord.RawMessageUpdateEvent) -> None:
        await self.receiver.on_raw_message_edit(payload)

    async def on_raw_message_delete(self, payload: discord.RawMessageDeleteEvent) -> None:
        cached = [payload.cached_message] if payload.cached_message else []
        await self.receiver.deleted(payload.channel_id, [payload.message_id], cached)

    async def on_raw_bulk_message_delete(self, payload: discord.RawBulkMessageDeleteEvent) -> None:
        ids = sorted(payload.message_ids)
        await self.receiver.deleted(payload.channel_id, ids, payload.cached_messages)

    async def on_interaction(self, interaction: discord.Interaction[Any]) -> None:
        await self.receiver.on_interaction(interaction)


class DialogueClient(_Relay, discord.Client):
    """One gateway connection."""


class ShardedDialogueClient(_Relay, discord.AutoShardedClient):
    """Several gateway connections, for a bot in very many servers."""


def intents() -> discord.Intents:
    """The fewest intents that work: servers, their messages, DMs, and what messages say.

    Direct messages with the bot are how a resident takes part alone and a facilitator
    rehearses or reflects.
    """
    wanted = discord.Intents.none()
    wanted.guilds = wanted.guild_messages = wanted.dm_messages = wanted.message_content = True
    return wanted


def make_client(
    settings: DiscordSettings, receiver: DiscordPlatform
) -> DialogueClient | ShardedDialogueClient:
    """A client passing its events to ``receiver``, sharded when the settings say so."""
    options: dict[str, Any] = {"intents": intents(), "allowed_mentions": NO_MENTIONS}
    client: DialogueClient | ShardedDialogueClient
    if settings.shards == 1:
        client = DialogueClient(**options)
    else:
        count = None if settings.shards == "auto" else settings.shards
        client = ShardedDialogueClient(shard_count=count, **options)
    client.receiver = receiver
    # Where commands.Bot keeps its tree, and where tools such as simcord look for it.
    client.tree = app_commands.CommandTree(client)
    return client
