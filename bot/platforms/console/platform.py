"""The console as the registry sees it: its settings, roles and invitations.

``dialogue run`` drives the console itself (standard input, a transcript, the demo), so the
registry does not build it.
"""

from __future__ import annotations

from pathlib import Path
from typing import TYPE_CHECKING

from bot.core import direct
from bot.core.ids import GroupRef, PersonRef
from bot.platforms.descriptor import Invitation, Roles, Wiring

if TYPE_CHECKING:
    from bot.platforms.console.settings import ConsoleSettings


class Console:
    """The local console: no token, no library of its own."""

    name: str = "console"
    secrets: tuple[str, ...] = ()
    required_secret: str | None = None
    quiet_loggers: tuple[str, ...] = ()
    silent_loggers: tuple[str, ...] = ()

    def settings_model(self) -> type[ConsoleSettings]:
        """The ``[console]`` table."""
        from bot.platforms.console.settings import ConsoleSettings

        return ConsoleSettings

    def roles(self, section: ConsoleSettings) -> Roles:
        """Its facilitators (when it is on); its group needs no registration.

        Whoever types at the console runs the bot.
        """
        group = GroupRef(self.name, section.group)
        people = frozenset(PersonRef(self.name, n) for n in section.facilitators)
        return Roles(
            facilitators={group: people} if section.enabled else {},
            registered=frozenset({group}),
        )

    def chat_id_problem(self, chat_id: str) -> str | None:
        """Any name will do for a console group."""
        return None

    def build(self, section: ConsoleSettings, wiring: Wiring) -> None:
        """Nothing: ``dialogue run`` builds the console with its input and output."""
        return None

    async def invitation(
        self,
        section: ConsoleSettings,
        cycle_id: str,
        group: GroupRef | None,
        out: Path,
        bot_name: str | None,
    ) -> Invitation:
        """What to type at the console."""
        if group is not None:
            return Invitation(self.name, f"NAME: /consent (in the group {group.chat_id})")
        return Invitation(self.name, f"NAME> /{direct.COMMAND} {cycle_id}")


PLATFORM = Console()
