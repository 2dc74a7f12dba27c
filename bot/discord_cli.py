"""``dialogue discord sync``: update the bot's slash commands in Discord without running it.

The bot also does this every time it starts; the command is for after changing
``discord.guilds`` or the language, or to check the token and invitation.
"""

from __future__ import annotations

import argparse

from bot.app import App, discord_platform


def add_parser(commands: argparse._SubParsersAction[argparse.ArgumentParser]) -> None:
    """Add ``discord`` to the ``dialogue`` command."""
    discord = commands.add_parser("discord", help="manage the Discord bot")
    actions = discord.add_subparsers(dest="action", required=True, metavar="ACTION")
    actions.add_parser(
        "sync",
        help="update the slash commands in the servers of discord.guilds (or everywhere)",
    )


async def run(args: argparse.Namespace, app: App) -> int:
    """Log in (which syncs the commands) and log out again, without connecting."""
    platform = discord_platform(app)
    try:
        await platform.login()
    finally:
        await platform.client.close()
    guilds = app.settings.discord.guilds
    if guilds:
        print(f"Slash commands updated for servers {', '.join(map(str, guilds))}.")
    else:
        print(
            "Slash commands registered for every server the bot is in; Discord can take up to "
            "an hour to show them (list server ids in discord.guilds for instant updates)."
        )
    return 0
