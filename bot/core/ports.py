"""The small protocols the service depends on: a platform, and the store behind it."""

from __future__ import annotations

from collections.abc import Sequence
from datetime import datetime
from typing import Protocol

from bot.core.actions import Action
from bot.core.captures import Capture
from bot.core.ids import GroupRef, PersonRef
from bot.core.records import ConsentRecord, Erasure, PersonData
from bot.core.state import SessionState


class Platform(Protocol):
    """A chat platform: it turns native updates into events and performs actions."""

    name: str

    async def start(self) -> None:
        """Connect and begin delivering events."""

    async def stop(self) -> None:
        """Stop delivering events and disconnect."""

    async def perform(self, action: Action) -> None:
        """Carry out one action (send, show a card, ask a choice...)."""


class Store(Protocol):
    """The storage operations the service needs."""

    async def apply(self, captures: Sequence[Capture]) -> None:
        """Write captures in one transaction; redelivered replies are no-ops."""

    async def consent(self, person: PersonRef, group: GroupRef) -> ConsentRecord | None:
        """The person's consent for a group, if any."""

    async def facilitators(self, group: GroupRef) -> frozenset[PersonRef]:
        """People granted facilitation of a group by staff."""

    async def grant_facilitator(self, group: GroupRef, person: PersonRef, at: datetime) -> None:
        """Make a person a facilitator of a group."""

    async def revoke_facilitator(self, group: GroupRef, person: PersonRef) -> bool:
        """Stop a person facilitating a group; whether they did."""

    async def live_sessions(self) -> list[SessionState]:
        """Sessions that are running or paused, to resume after a restart."""

    async def person_data(self, person: PersonRef) -> PersonData:
        """Everything stored about a person."""

    async def erase_person(self, person: PersonRef, pseudonym: str, at: datetime) -> Erasure:
        """Erase everything of a person; the audit keeps only the pseudonym and counts."""
