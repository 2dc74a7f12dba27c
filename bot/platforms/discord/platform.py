"""Discord as the registry sees it: settings, secrets, loggers, roles, building, invitations.

discord.py loads only when the adapter is built.
"""

from __future__ import annotations

from pathlib import Path
from typing import TYPE_CHECKING

from bot.core.ids import GroupRef, PersonRef
from bot.platforms.descriptor import Invitation, Roles, Wiring

if TYPE_CHECKING:
    from bot.platforms.discord.adapter import DiscordPlatform
    from bot.platforms.discord.settings import DiscordSettings


class Discord:
    """Discord servers through the gateway and the REST API."""

    name: str = "discord"
    secrets: tuple[str, ...] = ("token",)
    required_secret: str | None = "token"
    quiet_loggers: tuple[str, ...] = ("discord",)
    silent_loggers: tuple[str, ...] = ()

    def settings_model(self) -> type[DiscordSettings]:
        """The ``[discord]`` table."""
        from bot.platforms.discord.settings import DiscordSettings

        return DiscordSettings

    def roles(self, section: DiscordSettings) -> Roles:
        """Staff by Discord user id; admins facilitate.

        The adapter reports a facilitator role (or Manage Server, if configured) as admin.
        """
        staff = frozenset(PersonRef(self.name, str(user_id)) for user_id in section.staff)
        return Roles(staff=staff, admins_facilitate=True)

    def chat_id_problem(self, chat_id: str) -> str | None:
        """Any channel id will do."""
        return None

    def build(self, section: DiscordSettings, wiring: Wiring) -> DiscordPlatform:
        """The bot (its token from the environment)."""
        # Imported here so that deployments without Discord never load discord.py.
        from bot.platforms.discord.adapter import DiscordPlatform
        from bot.settings import secret

        return DiscordPlatform(
            section,
            wiring.service,
            wiring.texts,
            wiring.language,
            wiring.resources,
            wiring.cursors,
            secret("discord_token"),
        )

    async def invitation(
        self,
        section: DiscordSettings,
        cycle_id: str,
        group: GroupRef | None,
        out: Path,
        bot_name: str | None,
    ) -> Invitation:
        """What to write to the bot, or press in the channel (Discord has no such link)."""
        if group is None:
            text = (
                f"write /join {cycle_id} to the bot in a direct message (Discord has no link "
                "that opens one); or invite to a channel with --group discord:CHANNEL"
            )
        else:
            text = (
                f"in the channel {group.chat_id}, press 'Join this dialogue' on the session's "
                "message, or type /consent"
            )
        return Invitation(self.name, text)


PLATFORM = Discord()
