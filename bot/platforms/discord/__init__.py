"""The Discord platform: gateway events in as events, actions out as calls."""

from bot.platforms.discord.platform import PLATFORM

__all__ = ["PLATFORM"]
