"""A faithful in-process fake of the Telegram Bot API for python-telegram-bot tests."""

from .formatting import EntityParseError, parse_html, parse_markdown, parse_markdown_v2
from .server import ApiCall, ApiError, BotUser, FakeBotApi, UploadedFile
from .state import FakeChat, ForumTopic, Membership
from .users import TelegramUser

__all__ = [
    "ApiCall",
    "ApiError",
    "BotUser",
    "EntityParseError",
    "FakeBotApi",
    "FakeChat",
    "ForumTopic",
    "Membership",
    "TelegramUser",
    "UploadedFile",
    "parse_html",
    "parse_markdown",
    "parse_markdown_v2",
]
