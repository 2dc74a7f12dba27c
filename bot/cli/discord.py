"""``dialogue discord sync``: update the bot's slash commands in Discord without running it.

The bot also does this every time it starts; the command is for after changing
``discord.guilds`` or the language, or to check the token and invitation.
"""

from __future__ import annotations

import argparse

from bot.app import App, chat_platform
from bot.platforms.discord.adapter import DiscordPlatform


async def run(args: argparse.Namespace, app: App) -> int:
    """Log in (which syncs the commands) and log out again, without connecting."""
    platform = chat_platform(app, "discord")
    assert isinstance(platform, DiscordPlatform)
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
