"""Requests from the core for work only the service can do (it needs storage)."""

from __future__ import annotations

from dataclasses import dataclass

from bot.core.ids import GroupRef, PersonRef


@dataclass(frozen=True, slots=True)
class Invited:
    """A person without consent was invited to take part in this group (once is enough)."""

    person: PersonRef
    group: GroupRef


@dataclass(frozen=True, slots=True)
class DataRequested:
    """A person asked to see what is stored about them."""

    person: PersonRef


@dataclass(frozen=True, slots=True)
class ErasureRequested:
    """A person confirmed they withdraw and want their data erased."""

    person: PersonRef


@dataclass(frozen=True, slots=True)
class RoleChanged:
    """Staff made someone a facilitator of a group, or stopped them being one."""

    group: GroupRef
    person: PersonRef
    granted: bool


Effect = Invited | DataRequested | ErasureRequested | RoleChanged
