"""Shared pieces of the Discord tests: a config file, the bot in simcord, what a user saw."""

from collections.abc import AsyncIterator, Sequence
from contextlib import asynccontextmanager
from dataclasses import dataclass
from datetime import UTC, datetime
from pathlib import Path

import discord
import simcord

from bot.app import App, build, chat_platform
from bot.core.ids import GroupRef
from bot.platforms.discord.adapter import DiscordPlatform
from bot.settings import load_settings
from storage.db import sqlite_file
from tests.support.cli import ROOT

GUILD_ID = 424242424242424242
PSEUDONYM_KEY = "discord-test-key-0123456789"


def write_config(
    tmp_path: Path,
    database_url: str,
    log_file: Path,
    staff: list[int],
    content: Path = ROOT,
    **discord: str,
) -> Path:
    """A settings file for a Discord-only deployment of ``content`` (the shipped content)."""
    extra = "".join(
        f"{key} = {value}\n" for key, value in {"guilds": f"[{GUILD_ID}]", **discord}.items()
    )
    config = tmp_path / "config.toml"
    config.write_text(
        f'[database]\nurl = "{database_url}"\n[content]\nroot = "{content}"\n'
        f'[logging]\nlevel = "DEBUG"\nfile = "{log_file}"\n[console]\nenabled = false\n'
        f"[discord]\nenabled = true\nstaff = {staff}\n{extra}",
        encoding="utf-8",
    )
    return config


async def open_bot(config: Path) -> tuple[App, DiscordPlatform]:
    """Build the app and its Discord platform as `dialogue run` does (without connecting)."""
    app = await build(load_settings(config))
    return app, chat_platform(app, "discord")


async def open_bot_in(env: simcord.Env, config: Path) -> tuple[App, DiscordPlatform]:
    """The bot for simcord, whose time it shares (as a bot and Discord share the real time)."""
    app, platform = await open_bot(config)
    app.service.clock = env.now
    return app, platform


@dataclass
class World:
    """A running bot in simcord, with a server and its members."""

    env: simcord.Env
    guild: simcord.GuildHandle
    people: dict[str, simcord.MemberActor]
    app: App
    platform: DiscordPlatform
    config: Path

    async def restart(self) -> None:
        """Stop the bot (committing what it holds) and start a new one on the same settings."""
        await self.stop()
        await self.start()

    async def stop(self) -> None:
        """Stop the bot as `dialogue run` does on SIGTERM: Discord's events no longer reach it."""
        await self.platform.stop()
        await self.app.close()

    async def start(self) -> None:
        """Start a new bot on the same settings; it logs in and catches up."""
        self.app, self.platform = await open_bot_in(self.env, self.config)
        await self.env.restart_bot(self.platform.client)


@asynccontextmanager
async def discord_world(
    tmp_path: Path,
    database_url: str,
    people: tuple[str, ...],
    content: Path = ROOT,
    **discord: str,
) -> AsyncIterator[World]:
    """The bot in a simulated server; a member called "staff" is configured as staff.

    Discord gives ids only when members exist, so staff's id goes into the settings and the
    bot restarts, as a council would after looking the id up.
    """
    log_file = tmp_path / "dialogue.log"
    config = write_config(tmp_path, database_url, log_file, [], content, **discord)
    app, platform = await open_bot(config)
    env = simcord.Env(platform.client)
    app.service.clock = env.now
    guild = env.create_guild("Council", id=GUILD_ID)
    members = {name: guild.add_member(env.create_user(name)) for name in people}
    await env.start()
    world = World(env, guild, members, app, platform, config)
    try:
        if "staff" in members:
            staff = [members["staff"].id]
            write_config(tmp_path, database_url, log_file, staff, content, **discord)
            await world.restart()
        yield world
    finally:
        await env.shutdown()
        await world.app.close()
    # Anything the bot raised and swallowed (a handler's traceback) fails the test.
    env.raise_errors()


async def start_session(
    world: World, *names: str, step: str = "first-thoughts"
) -> tuple[simcord.ChannelHandle, GroupRef]:
    """A registered channel with a session running in its thread; ``names`` agree by text."""
    channel = world.guild.create_text_channel("dialogue")
    await world.app.service.roles.register(GroupRef("discord", str(channel.id)), datetime.now(UTC))
    fac = world.guild.add_member(
        world.env.create_user("fac"), roles=[world.guild.create_role("Facilitator")]
    )
    await fac.slash(channel, "dialogue start", script="health-data-intro")
    (thread,) = channel.threads
    for name in names:
        # The text twin of the consent form, typed as a message.
        await world.people[name].send(thread, "/agree participate")
    await fac.slash(thread, "dialogue goto", step=step)
    return thread, GroupRef("discord", f"{channel.id}/{thread.id}")


def database_bytes(url: str) -> bytes:
    """Every byte of a SQLite database, with its write-ahead log."""
    path = sqlite_file(url)
    assert path is not None
    files = (path, Path(f"{path}-wal"), Path(f"{path}-shm"))
    return b"".join(p.read_bytes() for p in files if p.exists())


def replies(result: simcord.InteractionResult) -> list[simcord.ResponseMessage]:
    """Every message an interaction answered with, in order."""
    first = [result.response] if result.response is not None else []
    return first + result.followups


def text_of(messages: Sequence[simcord.ResponseMessage | discord.Message]) -> str:
    """What those messages said, text and embeds."""
    parts = [m.content for m in messages]
    parts += [e.description or "" for m in messages for e in m.embeds]
    return "\n".join(parts)
