"""The console platform: a local chat in the terminal, and the demo."""

from bot.platforms.console.platform import PLATFORM

__all__ = ["PLATFORM"]
