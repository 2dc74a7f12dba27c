"""The ``[telegram]`` settings table; the token comes from DIALOGUE_TELEGRAM_TOKEN only."""

from __future__ import annotations

from typing import Literal, get_args

from pydantic import Field

from bot.platforms.section import PlatformSection

TelegramMediaKind = Literal[
    "photo",
    "sticker",
    "animation",
    "video",
    "video_note",
    "voice",
    "audio",
    "document",
    "poll",
    "location",
    "venue",
    "contact",
    "dice",
]
TELEGRAM_MEDIA_KINDS: tuple[TelegramMediaKind, ...] = get_args(TelegramMediaKind)


class TelegramSettings(PlatformSection):
    """The Telegram platform; its token comes from DIALOGUE_TELEGRAM_TOKEN only."""

    # Telegram user ids of staff: they may /register groups and grant facilitation.
    staff: list[int] = Field(default_factory=list)
    # Another Bot API server (a self-hosted telegram-bot-api), without /bot<token>.
    api_base_url: str = "https://api.telegram.org"
    # Whether a group's administrators facilitate it by default; how long their list is kept.
    admins_facilitate: bool = True
    admin_cache_seconds: int = Field(default=60, ge=0)
    # Non-text messages recorded (as their kind, without content) from consented people.
    record_media_kinds: list[TelegramMediaKind] = Field(
        default_factory=lambda: list(TELEGRAM_MEDIA_KINDS)
    )
    # Empty: long polling. Otherwise Telegram posts updates to this https URL, which must
    # reach webhook_listen:webhook_port (the secret comes from the environment).
    webhook_url: str = ""
    webhook_listen: str = "127.0.0.1"
    webhook_port: int = Field(default=8443, ge=1, le=65535)
    poll_timeout_seconds: int = Field(default=30, ge=0, le=50)
    # Telegram's flood limits; a 429 is waited out and retried this many times.
    messages_per_second: float = Field(default=30, gt=0)
    group_messages_per_minute: float = Field(default=20, gt=0)
    flood_retries: int = Field(default=10, ge=0)
