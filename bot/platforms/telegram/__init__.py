"""The Telegram platform: updates in as events, actions out as Bot API calls."""

from bot.platforms.telegram.platform import PLATFORM

__all__ = ["PLATFORM"]
