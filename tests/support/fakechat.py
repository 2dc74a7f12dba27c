"""A chat platform made up for the registry's test: this one module and one registry entry.

Its adapter writes what happens to it (started, stopped, actions) to the file named by
FAKECHAT_LOG, and asks its own process to stop a moment after it starts, as Ctrl-C would.
"""

from __future__ import annotations

import asyncio
import os
import signal
from pathlib import Path

from pydantic import Field

from bot.core.actions import Action
from bot.core.ids import GroupRef, PersonRef
from bot.platforms.descriptor import Invitation, Roles, Wiring
from bot.platforms.section import PlatformSection

NAME = "fakechat"


class FakechatSettings(PlatformSection):
    """The ``[fakechat]`` table."""

    greeting: str = "hello"
    staff: list[str] = Field(default_factory=list)


class FakechatPlatform:
    """An adapter that connects to nothing and records its life."""

    name = NAME

    def __init__(self, settings: FakechatSettings, wiring: Wiring) -> None:
        self.settings = settings
        self.log = Path(os.environ["FAKECHAT_LOG"])

    def _note(self, line: str) -> None:
        with self.log.open("a", encoding="utf-8") as handle:
            handle.write(line + "\n")

    async def start(self) -> None:
        self._note(f"started {self.settings.greeting}")
        asyncio.get_running_loop().call_later(1, os.kill, os.getpid(), signal.SIGTERM)

    async def stop(self) -> None:
        self._note("stopped")

    async def perform(self, action: Action) -> None:
        self._note(type(action).__name__)


class Fakechat:
    """The descriptor the registry lists."""

    name: str = NAME
    secrets: tuple[str, ...] = ("token",)
    required_secret: str | None = "token"
    quiet_loggers: tuple[str, ...] = ("fakechat.library",)
    silent_loggers: tuple[str, ...] = ("fakechat.library.requests",)

    def settings_model(self) -> type[FakechatSettings]:
        return FakechatSettings

    def roles(self, section: FakechatSettings) -> Roles:
        return Roles(staff=frozenset(PersonRef(NAME, person) for person in section.staff))

    def chat_id_problem(self, chat_id: str) -> str | None:
        return None if chat_id.startswith("room-") else "a fakechat room's id starts with room-"

    def build(self, section: FakechatSettings, wiring: Wiring) -> FakechatPlatform:
        return FakechatPlatform(section, wiring)

    async def invitation(
        self,
        section: FakechatSettings,
        cycle_id: str,
        group: GroupRef | None,
        out: Path,
        bot_name: str | None,
    ) -> Invitation:
        where = f"the room {group.chat_id}" if group else f"a direct chat about {cycle_id}"
        return Invitation(NAME, f"say {section.greeting} in {where}")


PLATFORM = Fakechat()
