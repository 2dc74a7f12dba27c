"""The repository the service gets: one object made of the repositories of each aggregate.

It holds no query of its own. ``storage.sessions`` writes captures (every reply by one
function, ``storage._replies.store_replies``) and reads sessions; ``storage.people`` owns
consent, subject access and erasure; ``storage.groups`` registration and facilitators;
``storage.standing`` invitations and session leads; ``storage.audit`` the audit. The export
streams below are ``storage._export``'s. ``storage.writer.QueuedRepository`` is this with every
write going through the single writer.
"""

from __future__ import annotations

from collections.abc import AsyncIterator

from storage import _export
from storage.audit import Audit
from storage.groups import Groups
from storage.people import People
from storage.records import ParticipantRow, ResponseRow, VoteRow
from storage.sessions import Sessions
from storage.standing import StandingQueries

DEFAULT_BATCH = 500


class Repository(Sessions, People, Groups, StandingQueries, Audit):
    """All reads and writes the service makes, on one async engine."""

    def iter_responses(
        self, cycle_id: str | None = None, batch_size: int = DEFAULT_BATCH
    ) -> AsyncIterator[ResponseRow]:
        """Stream every response of a cycle (None: all), fetched ``batch_size`` at a time."""
        return _export.iter_responses(self._engine, cycle_id, batch_size)

    def iter_votes(
        self, cycle_id: str | None = None, batch_size: int = DEFAULT_BATCH
    ) -> AsyncIterator[VoteRow]:
        """Stream every vote of a cycle (None: all), fetched ``batch_size`` at a time."""
        return _export.iter_votes(self._engine, cycle_id, batch_size)

    def iter_participants(
        self, cycle_id: str | None = None, batch_size: int = DEFAULT_BATCH
    ) -> AsyncIterator[ParticipantRow]:
        """Stream consents; for a cycle, of the people who contributed to it."""
        return _export.iter_participants(self._engine, cycle_id, batch_size)
