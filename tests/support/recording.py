"""The chat platform of the tests that drive the service directly: it records every action."""

from __future__ import annotations

from dataclasses import dataclass, field

from bot.core.actions import Action, SendCard, SendPrivate, SendText
from bot.core.ids import PersonRef


@dataclass
class Recorder:
    """A platform that keeps every action the service asks of it instead of sending it."""

    name: str = "console"
    actions: list[Action] = field(default_factory=list)

    async def start(self) -> None:
        """Nothing to connect to."""

    async def stop(self) -> None:
        """Nothing to disconnect."""

    async def perform(self, action: Action) -> None:
        self.actions.append(action)

    def group_texts(self) -> list[str]:
        return [a.text for a in self.actions if isinstance(a, SendText)]

    def private(self, person: PersonRef) -> list[str]:
        return [a.text for a in self.actions if isinstance(a, SendPrivate) and a.person == person]

    def cards(self) -> list[SendCard]:
        return [a for a in self.actions if isinstance(a, SendCard)]
