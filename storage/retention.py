"""The retention purge: replies and votes past retention, and identities no longer needed.

A person whose identity goes has their key destroyed too, as erasure does, so no copy of their
words or user id made before (a backup, a dump, the WAL, dead rows) can be read any more.
"""

from __future__ import annotations

from dataclasses import dataclass
from datetime import datetime
from typing import TYPE_CHECKING

from sqlalchemy import delete, exists, insert, select

from storage.db import for_writes, sqlite_pragma
from storage.keystore import keys_of
from storage.tables import (
    audit,
    consents,
    direct_progress,
    facilitators,
    identities,
    response_edits,
    responses,
    scheduled_sessions,
    session_leads,
    session_reflections,
    votes,
)

if TYPE_CHECKING:
    from sqlalchemy.ext.asyncio import AsyncEngine


@dataclass(frozen=True, slots=True)
class Purge:
    """How many rows a purge removed."""

    responses: int
    votes: int
    identities: int


async def purge(engine: AsyncEngine, before: datetime | None, at: datetime) -> Purge:
    """Purge old data and unneeded identities, with one audit record, in one transaction.

    Replies and votes from before ``before`` go (None keeps them); then every identity that
    nothing refers to any more: people who left, with no consent, role, data, schedule,
    self-paced place, reflection or session they lead. Their keys are destroyed before the
    deletion commits (should it fail after, what is left of them is unreadable, as is every
    older copy).
    """
    writer = for_writes(engine)
    async with writer.begin() as conn:
        removed_responses = removed_votes = 0
        if before is not None:
            old = select(responses.c.id).where(responses.c.posted_at < before)
            await conn.execute(delete(response_edits).where(response_edits.c.response_id.in_(old)))
            removed_responses = (
                await conn.execute(delete(responses).where(responses.c.posted_at < before))
            ).rowcount
            removed_votes = (
                await conn.execute(delete(votes).where(votes.c.cast_at < before))
            ).rowcount
        referenced = [
            exists().where(table.c[column] == identities.c.id)
            for table, column in (
                (consents, "participant_id"),
                (facilitators, "participant_id"),
                (responses, "participant_id"),
                (votes, "participant_id"),
                (scheduled_sessions, "facilitator_id"),
                (direct_progress, "participant_id"),
                (session_reflections, "participant_id"),
                (session_leads, "participant_id"),
            )
        ]
        orphan = select(identities.c.id).where(*(~ref for ref in referenced))
        gone = (
            (
                await conn.execute(
                    delete(identities).where(identities.c.id.in_(orphan)).returning(identities.c.id)
                )
            )
            .scalars()
            .all()
        )
        keys_of(conn).destroy(gone)
        removed_people = len(gone)
        await conn.execute(
            insert(audit).values(
                at=at,
                kind="retention_purge",
                detail={
                    "before": before.isoformat() if before else None,
                    "responses": removed_responses,
                    "votes": removed_votes,
                    "identities": removed_people,
                },
            )
        )
    if engine.dialect.name == "sqlite":
        # As for erasure: the freed bytes leave the WAL too.
        async with engine.connect() as conn:
            await sqlite_pragma(conn, "PRAGMA wal_checkpoint(TRUNCATE)")
    return Purge(removed_responses, removed_votes, removed_people)
