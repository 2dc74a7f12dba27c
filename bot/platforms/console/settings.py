"""The ``[console]`` settings table."""

from __future__ import annotations

from pydantic import Field

from bot.platforms.section import PlatformSection


class ConsoleSettings(PlatformSection):
    """The local console platform."""

    enabled: bool = True
    group: str = "console"
    facilitators: list[str] = Field(default_factory=lambda: ["facilitator"])
