"""Telegram as the registry sees it: settings, secrets, loggers, roles, building, invitations.

python-telegram-bot and qrcode load only when the adapter is built or an invitation made.
"""

from __future__ import annotations

from pathlib import Path
from typing import TYPE_CHECKING

from bot.core.ids import GroupRef, PersonRef
from bot.platforms.descriptor import Invitation, Roles, Wiring

if TYPE_CHECKING:
    from bot.core.ports import Platform
    from bot.platforms.telegram.settings import TelegramSettings


class Telegram:
    """Telegram bots through the Bot API."""

    name: str = "telegram"
    secrets: tuple[str, ...] = ("token", "webhook_secret")
    required_secret: str | None = "token"
    quiet_loggers: tuple[str, ...] = ("telegram",)
    # A Bot API URL holds the token; its errors also reach the caller as exceptions.
    silent_loggers: tuple[str, ...] = ("telegram.request", "httpx", "httpcore")

    def settings_model(self) -> type[TelegramSettings]:
        """The ``[telegram]`` table."""
        from bot.platforms.telegram.settings import TelegramSettings

        return TelegramSettings

    def roles(self, section: TelegramSettings) -> Roles:
        """Staff by Telegram user id; a group's administrators facilitate if configured."""
        staff = frozenset(PersonRef(self.name, str(user_id)) for user_id in section.staff)
        return Roles(staff=staff, admins_facilitate=section.admins_facilitate)

    def chat_id_problem(self, chat_id: str) -> str | None:
        """A Telegram group's id is a number."""
        if chat_id.removeprefix("-").isdigit():
            return None
        return "a Telegram group's id is a negative number"

    def build(self, section: TelegramSettings, wiring: Wiring) -> Platform:
        """The bot (token and webhook secret from the environment)."""
        # Imported here so that deployments without Telegram never load python-telegram-bot.
        from bot.platforms.telegram.adapter import TelegramPlatform
        from bot.settings import ConfigError, secret

        token = secret("telegram_token")
        if token is None:
            raise ConfigError(
                "DIALOGUE_TELEGRAM_TOKEN: telegram.enabled is true but this secret is missing; "
                "set it in the environment to the token @BotFather gave you"
            )
        webhook_secret = secret("telegram_webhook_secret")
        if section.webhook_url and webhook_secret is None:
            raise ConfigError(
                "DIALOGUE_TELEGRAM_WEBHOOK_SECRET: telegram.webhook_url is set but this secret "
                "is missing; set it to 1-256 characters of A-Z, a-z, 0-9, _ and -"
            )
        return TelegramPlatform(
            section,
            token,
            webhook_secret,
            wiring.texts,
            wiring.language,
            wiring.library,
            wiring.resources,
            wiring.service.submit,
            wiring.service.clock,
        )

    async def invitation(
        self,
        section: TelegramSettings,
        cycle_id: str,
        group: GroupRef | None,
        out: Path,
        bot_name: str | None,
    ) -> Invitation:
        """A ``t.me`` link and its QR code."""
        from bot.platforms.telegram import invite

        return await invite.invitation(section, cycle_id, group, out, bot_name)


PLATFORM = Telegram()
