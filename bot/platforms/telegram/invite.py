"""Telegram invitations: a ``t.me`` link that opens the bot, and its QR code."""

from __future__ import annotations

from pathlib import Path

import qrcode
from qrcode.image.pure import PyPNGImage
from telegram import Bot
from telegram.error import TelegramError

from bot.core import direct
from bot.core.ids import GroupRef
from bot.platforms.descriptor import Invitation, InviteProblem
from bot.platforms.telegram.codec import PLATFORM, group_token
from bot.platforms.telegram.settings import TelegramSettings
from bot.private_files import private_file
from bot.settings import secret


async def invitation(
    settings: TelegramSettings,
    cycle_id: str,
    group: GroupRef | None,
    out: Path,
    bot_name: str | None,
) -> Invitation:
    """The link that starts the cycle (or a group's consent), with its QR code in ``out``."""
    name = bot_name or await _username(settings)
    token = group_token(group) if group else direct.invitation(cycle_id)
    link = f"https://t.me/{name.lstrip('@')}?start={token}"
    return Invitation(PLATFORM, link, _qr(link, out, cycle_id, group))


async def _username(settings: TelegramSettings) -> str:
    token = secret("telegram_token")
    if token is None:
        raise InviteProblem(
            "--telegram-bot: give the bot's username, or set DIALOGUE_TELEGRAM_TOKEN so it "
            "can be asked from Telegram"
        )
    base = settings.api_base_url.rstrip("/")
    try:
        async with Bot(token, base_url=f"{base}/bot") as bot:
            return bot.username
    except TelegramError as exc:
        raise InviteProblem(
            f"--telegram-bot: Telegram did not say the bot's username ({exc.message}); "
            "give it with --telegram-bot NAME"
        ) from None


def _qr(link: str, out: Path, cycle_id: str, group: GroupRef | None) -> Path:
    name = f"invite-{cycle_id}" + (f"-{group_token(group)}" if group else "") + "-telegram.png"
    path = out / name
    image = qrcode.make(link, image_factory=PyPNGImage)
    with private_file(path).open("wb") as handle:
        image.save(handle)
    return path
