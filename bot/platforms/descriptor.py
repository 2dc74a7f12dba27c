"""What a platform tells the rest of the bot about itself: one small object per platform.

The registry (``bot.platforms.registry``) lists them; settings, logging, ``dialogue run``,
``invite``, ``group`` and ``health`` read this list and name no platform. A descriptor is cheap
to import: its platform's library, settings model and adapter load only when asked for.
"""

from __future__ import annotations

from collections.abc import Mapping
from dataclasses import dataclass, field
from pathlib import Path
from typing import TYPE_CHECKING, Any, Protocol

if TYPE_CHECKING:
    from bot.content.check import Library
    from bot.core.ids import GroupRef, PersonRef
    from bot.core.ports import CursorStore, Platform
    from bot.platforms.section import PlatformSection
    from bot.texts import Catalogue


class InviteProblem(Exception):
    """Something about an invitation request that staff can fix; the message says what."""


@dataclass(frozen=True, slots=True)
class Invitation:
    """One platform's way in: a link (with its QR code file) or what to type."""

    platform: str
    text: str
    qr: Path | None = None


@dataclass(frozen=True, slots=True)
class Roles:
    """What a platform's settings say about who may do what."""

    staff: frozenset[PersonRef] = frozenset()
    facilitators: Mapping[GroupRef, frozenset[PersonRef]] = field(default_factory=dict)
    # Groups that may run sessions without being registered.
    registered: frozenset[GroupRef] = frozenset()
    # Whether the adapter's "admin" flag (a group's administrators) makes a facilitator.
    admins_facilitate: bool = False


@dataclass(frozen=True, slots=True)
class Wiring:
    """What the composition root hands a platform to build its adapter from."""

    # The service: each adapter types it by what it uses (handle, clock, sessions, roles).
    service: Any
    texts: Catalogue
    language: str
    library: Library
    resources: Path
    cursors: CursorStore


class Descriptor(Protocol):
    """One platform: its name (its settings table, its ids' prefix) and what it provides."""

    name: str
    # Keys of its table read from the environment only (DIALOGUE_<NAME>_<KEY>), never the file.
    secrets: tuple[str, ...]
    # The secret it cannot run without, if any (checked by ``dialogue health``).
    required_secret: str | None
    # Its libraries' loggers: held at WARNING (payloads), or silenced (URLs holding a token).
    quiet_loggers: tuple[str, ...]
    silent_loggers: tuple[str, ...]

    def settings_model(self) -> type[PlatformSection]:
        """The pydantic model of its settings table."""

    def roles(self, section: Any) -> Roles:
        """Staff, facilitators and groups its settings name."""

    def chat_id_problem(self, chat_id: str) -> str | None:
        """Why ``chat_id`` cannot be one of its groups' ids, or None."""

    def build(self, section: Any, wiring: Wiring) -> Platform | None:
        """Its adapter (not started); None if the command line drives it (the console)."""

    async def invitation(
        self,
        section: Any,
        cycle_id: str,
        group: GroupRef | None,
        out: Path,
        bot_name: str | None,
    ) -> Invitation:
        """How a resident joins the cycle (or the group) on this platform."""
