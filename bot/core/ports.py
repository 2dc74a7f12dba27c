"""The small protocols the service depends on: a platform, and the store behind it."""

from __future__ import annotations

import asyncio
from collections.abc import Iterable, Mapping, Sequence
from datetime import datetime
from typing import Protocol

from bot.content.version import Version
from bot.core.actions import Action
from bot.core.captures import Capture
from bot.core.desk import Desk
from bot.core.ids import GroupRef, MessageRef, PersonRef
from bot.core.records import (
    ConsentRecord,
    Erasure,
    ErasureRequest,
    PersonData,
    ProfileAnswer,
    SessionHeard,
    Turnout,
)
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


class CursorStore(Protocol):
    """Where a platform that can read back history keeps each group's newest handled message."""

    async def cursors(self, platform: str) -> dict[GroupRef, int]:
        """Every stored cursor of a platform, by group."""

    async def advance_cursors(self, marks: Mapping[GroupRef, int], at: datetime) -> None:
        """Move each group's cursor forward to its mark (never back)."""


class Store(Protocol):
    """The storage operations the service needs."""

    async def apply(self, captures: Sequence[Capture]) -> None:
        """Write captures in one transaction; redelivered replies are no-ops."""

    async def apply_once(self, message: MessageRef | None, captures: Sequence[Capture]) -> bool:
        """Write captures in one transaction unless ``message`` was handled before.

        Returns whether they were written, once they are durably committed.
        """

    async def submit_once(
        self, message: MessageRef | None, captures: Sequence[Capture]
    ) -> asyncio.Future[bool]:
        """Queue captures as ``apply_once`` writes them; once queued, what tells the outcome.

        Awaited, the result says whether they were written, once they are durably committed.
        Captures one caller queues are committed in the order it queued them, so that caller
        may decide its next event before the last one's commit.
        """

    async def submit_quietly(
        self, message: MessageRef | None, captures: Sequence[Capture]
    ) -> asyncio.Future[None]:
        """Queue captures as ``submit_once`` does; once queued, what is done once committed.

        Its result is None whether or not they were written, for a caller that only waits.
        """

    async def consent(self, person: PersonRef, group: GroupRef) -> ConsentRecord | None:
        """The person's consent for a group, if any."""

    async def facilitators(self, group: GroupRef) -> frozenset[PersonRef]:
        """People granted facilitation of a group by staff."""

    async def grant_facilitator(self, group: GroupRef, person: PersonRef, at: datetime) -> None:
        """Make a person a facilitator of a group."""

    async def revoke_facilitator(self, group: GroupRef, person: PersonRef) -> bool:
        """Stop a person facilitating a group; whether they did."""

    async def register_group(self, group: GroupRef, at: datetime, title: str | None = None) -> bool:
        """Let a group run sessions; False if it could already."""

    async def is_registered(self, group: GroupRef) -> bool:
        """Whether staff registered the group for dialogues."""

    async def vote_of(self, session_id: str, person: PersonRef, step_id: str) -> tuple[int, ...]:
        """A person's current answer to a step of a session (empty if none)."""

    async def answers(self, session_id: str, step_id: str) -> list[tuple[int, ...]]:
        """Everyone's current answer to a step of a session, without who gave it."""

    async def live_sessions(self) -> list[SessionState]:
        """Sessions that are running or paused, to resume after a restart."""

    async def person_data(self, person: PersonRef) -> PersonData:
        """Everything stored about a person."""

    async def language(self, person: PersonRef) -> str | None:
        """The language the person chose, if it is stored."""

    async def profile_answers(self, person: PersonRef) -> tuple[ProfileAnswer, ...]:
        """A person's answers to the profile questions."""

    async def turnout(self, session_id: str, step_id: str, group: GroupRef) -> Turnout:
        """How many consented people of the group's chat spoke at a step, and at all."""

    async def desk(self, person: PersonRef) -> Desk:
        """The person's self-paced dialogue, open reflection, and whether they facilitate."""

    async def content_versions(self, digests: Iterable[str]) -> dict[str, Version]:
        """The content versions sessions started on, as kept when they started, by digest."""

    async def heard(self, session_id: str) -> SessionHeard:
        """What a session heard, as counts (replies by step, answers by ballot, people)."""

    async def erase_person(
        self, person: PersonRef, pseudonym: str, at: datetime, request: ErasureRequest = "person"
    ) -> Erasure:
        """Erase everything of a person; the audit keeps only the pseudonym, counts and asker.

        Asked ``again``, only what was stored since the last erasure, and nothing is audited
        when there was none.
        """

    async def was_invited(self, key: str) -> bool:
        """Whether the invitation with this key (``ids.invitation_key``) was sent."""

    async def remember_invitation(self, key: str, at: datetime) -> None:
        """Remember that the invitation with this key was sent."""

    async def latest_group(self, person: PersonRef, pseudonym: str) -> GroupRef | None:
        """The chat of the person's latest consent or invitation, if any."""

    async def lead(self, session_id: str) -> PersonRef | None:
        """Who last moved the session on, if anyone did."""

    async def set_lead(self, session_id: str, person: PersonRef, at: datetime) -> None:
        """Make the person the session's lead."""
