"""Slash commands: ``/dialogue ...``, ``/consent``, ``/mydata``, ``/withdraw``, and two more.

Each command becomes the core's ``CommandIssued``; whether the person may use it is the
engine's decision (the adapter only reports whether they hold a facilitator role). Answers
to the person are ephemeral in a server. ``/dialogue start`` in a channel, when the settings
run sessions in threads, says so; a start the engine allows then comes back as ``OpenTopic``,
and the thread is opened and the start handled there (``open_topic``). ``/join`` (a
resident taking part on their own) and ``/rehearse`` are offered in direct messages with the
bot, where commands are global (no ``discord.guilds``); typed as text they work everywhere.
"""

from __future__ import annotations

import contextlib
import logging
from collections.abc import Awaitable, Callable
from dataclasses import replace
from datetime import datetime
from typing import TYPE_CHECKING, Any, Literal

import discord
from discord import app_commands

from bot.core.actions import OpenTopic
from bot.core.events import CommandIssued, Event
from bot.core.ids import GroupRef, PersonRef
from bot.platforms.discord.ui import MakeEvent
from bot.platforms.render import shorten

if TYPE_CHECKING:
    from bot.platforms.discord.adapter import DiscordPlatform

CHOICES_LIMIT = 25
log = logging.getLogger(__name__)
CHOICE_NAME_LIMIT = 100
THREAD_NAME_LIMIT = 100
# Threads the bot opens stay listed for a day after the last message.
THREAD_ARCHIVE_MINUTES: Literal[1440] = 1440
# Commands offered only in direct messages with the bot.
DIRECT_ONLY = ("join", "rehearse")
Interaction = discord.Interaction[Any]


def install(tree: app_commands.CommandTree[Any], platform: DiscordPlatform) -> None:
    """Add every command to the tree (descriptions come from the text catalogue)."""
    t = platform.t

    async def relay(interaction: Interaction, name: str, *args: str | None) -> None:
        await platform.submit(interaction, _command(platform, interaction, name, args))

    dialogue = app_commands.Group(
        name="dialogue", description=t("discord.cmd_dialogue"), guild_only=True
    )

    @dialogue.command(name="start", description=t("discord.cmd_start"))
    @app_commands.describe(script=t("discord.opt_script"))
    async def start(interaction: Interaction, script: str) -> None:
        in_thread = platform.settings.sessions_in == "thread"
        opens_topic = in_thread and isinstance(interaction.channel, discord.TextChannel)
        await platform.submit(
            interaction, _command(platform, interaction, "start", (script,), opens_topic)
        )

    @dialogue.command(name="goto", description=t("discord.cmd_goto"))
    @app_commands.describe(step=t("discord.opt_step"))
    async def goto(interaction: Interaction, step: str) -> None:
        await relay(interaction, "goto", step)

    @dialogue.command(name="schedule", description=t("discord.cmd_schedule"))
    @app_commands.describe(script=t("discord.opt_script"), when=t("discord.opt_when"))
    async def schedule(interaction: Interaction, script: str, when: str) -> None:
        await relay(interaction, "schedule", script, *when.split())

    @dialogue.command(name="facilitator", description=t("discord.cmd_facilitator"))
    @app_commands.describe(change=t("discord.opt_change"), member=t("discord.opt_member"))
    async def facilitator(
        interaction: Interaction, change: Literal["add", "remove"], member: discord.Member
    ) -> None:
        # The member's name as the server shows it, for the notice only (never stored).
        await relay(interaction, "facilitator", change, str(member.id), member.display_name)

    simple = ("next", "back", "skip", "pause", "resume", "end", "status", "scripts")
    for name in simple:
        dialogue.add_command(_simple(name, t(f"discord.cmd_{name}"), relay))

    @dialogue.command(name="register", description=t("discord.cmd_register"))
    async def register(interaction: Interaction) -> None:
        # The channel's name (a thread's parent's: the group is the channel), to name it to people.
        channel = interaction.channel
        parent = getattr(channel, "parent", None) or channel
        name = getattr(parent, "name", None)
        await relay(interaction, "register", f"#{name}" if name else None)

    @tree.command(name="join", description=t("discord.cmd_join"))
    @app_commands.allowed_contexts(guilds=False, dms=True, private_channels=False)
    async def join(interaction: Interaction) -> None:
        await relay(interaction, "join")

    @tree.command(name="rehearse", description=t("discord.cmd_rehearse"))
    @app_commands.allowed_contexts(guilds=False, dms=True, private_channels=False)
    @app_commands.describe(script=t("discord.opt_script"))
    async def rehearse(interaction: Interaction, script: str) -> None:
        await relay(interaction, "rehearse", script)

    @start.autocomplete("script")
    @schedule.autocomplete("script")
    @rehearse.autocomplete("script")
    async def scripts(interaction: Interaction, current: str) -> list[app_commands.Choice[str]]:
        wanted = current.lower()
        return [
            app_commands.Choice(name=shorten(f"{s.id} – {s.title}", CHOICE_NAME_LIMIT), value=s.id)
            for s in sorted(platform.host.library.scripts.values(), key=lambda s: s.id)
            if wanted in s.id or wanted in s.title.lower()
        ][:CHOICES_LIMIT]

    @goto.autocomplete("step")
    async def steps(interaction: Interaction, current: str) -> list[app_commands.Choice[str]]:
        group = platform.group_of(interaction.channel)
        state = platform.host.sessions.get(group) if group is not None else None
        script = platform.host.library.scripts.get(state.script_id or "") if state else None
        if script is None:
            return []
        return [
            app_commands.Choice(name=shorten(f"{n}. {s.id}", CHOICE_NAME_LIMIT), value=s.id)
            for n, s in enumerate(script.steps, start=1)
            if current.lower() in s.id
        ][:CHOICES_LIMIT]

    tree.add_command(dialogue)

    @tree.command(name="consent", description=t("discord.cmd_consent"))
    async def consent(interaction: Interaction) -> None:
        await relay(interaction, "consent")

    @tree.command(name="mydata", description=t("discord.cmd_mydata"))
    async def mydata(interaction: Interaction) -> None:
        await relay(interaction, "mydata")

    @tree.command(name="language", description=t("discord.cmd_language"))
    @app_commands.describe(code=t("discord.opt_language"))
    async def language(interaction: Interaction, code: str | None = None) -> None:
        await relay(interaction, "language", code)

    @tree.command(name="withdraw", description=t("discord.cmd_withdraw"))
    @app_commands.describe(confirm=t("discord.opt_confirm"))
    async def withdraw(interaction: Interaction, confirm: Literal["confirm"] | None = None) -> None:
        await relay(interaction, "withdraw", confirm)

    @tree.error
    async def failed(interaction: Interaction, error: app_commands.AppCommandError) -> None:
        # Discord checks the options, so this is a bug or an outage: log its kind, say sorry.
        log.error("slash command failed: %s", type(error).__name__, extra={"kind": "command"})
        done = interaction.response.is_done()
        send = interaction.followup.send if done else interaction.response.send_message
        with contextlib.suppress(discord.HTTPException):
            await send(platform.t("discord.failed"), ephemeral=True)


Relay = Callable[..., Awaitable[None]]


def _simple(name: str, description: str, relay: Relay) -> app_commands.Command[Any, Any, None]:
    async def callback(interaction: Interaction) -> None:
        await relay(interaction, name)

    return app_commands.Command(name=name, description=description, callback=callback)


def _command(
    platform: DiscordPlatform,
    interaction: Interaction,
    name: str,
    args: tuple[str | None, ...],
    opens_topic: bool = False,
) -> MakeEvent:
    by_admin = platform.is_admin(interaction.user)
    words = tuple(a for a in args if a)

    def make(person: PersonRef, where: GroupRef | None, at: datetime) -> Event:
        return CommandIssued(
            person, where, name, words, at, by_admin=by_admin, opens_topic=opens_topic
        )

    return make


async def open_topic(platform: DiscordPlatform, action: OpenTopic) -> None:
    """Open the thread a session was allowed to start in, named after it and the date."""
    channel = await platform.outbox.channel(action.group)
    date = platform.outbox.texts.date(platform.outbox.language, platform.host.clock())
    name = platform.t("discord.thread_name", title=action.title, date=date)
    if not isinstance(channel, discord.TextChannel):
        raise ValueError(f"discord channel {action.group.chat_id} cannot hold threads")
    try:
        thread = await channel.create_thread(
            name=shorten(name, THREAD_NAME_LIMIT),
            type=discord.ChannelType.public_thread,
            auto_archive_duration=THREAD_ARCHIVE_MINUTES,
        )
    except discord.HTTPException:
        if action.then.token is not None:
            await platform.outbox.followup(action.then.token, platform.t("discord.no_thread"))
        return
    topic = platform.group_of(thread)
    await platform.deliver(replace(action.then, group=topic, opens_topic=False))
    state = platform.host.sessions.get(topic) if topic is not None else None
    if state is None or not state.live:
        # The engine refused there after all (and said why): leave no empty thread behind.
        with contextlib.suppress(discord.HTTPException):
            await thread.delete()
