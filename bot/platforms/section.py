"""The base of every settings table, and of a platform's own table (``[telegram]``...)."""

from __future__ import annotations

from pydantic import BaseModel, ConfigDict


class Section(BaseModel):
    """A settings table: unknown keys are errors, so a typo is never silently ignored."""

    model_config = ConfigDict(extra="forbid")


class PlatformSection(Section):
    """A platform's table: at least whether the platform is switched on."""

    enabled: bool = False
