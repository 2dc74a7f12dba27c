"""An in-process fake of the Telegram Bot API: the methods and the parse mode the bot uses,
as python-telegram-bot calls them."""

from .formatting import EntityParseError, parse_html
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
]
