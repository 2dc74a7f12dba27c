"""Registered groups, and the reads a choice step needs (one person's answer, everyone's)."""

from __future__ import annotations

from dataclasses import dataclass
from datetime import datetime
from typing import TYPE_CHECKING

from sqlalchemy import delete, select, update

from bot.core.ids import GroupRef, PersonRef
from storage._keys import dialect_insert, ensure_groups, group_id, person_id
from storage.records import decode_options
from storage.tables import groups, registrations, votes

if TYPE_CHECKING:
    from sqlalchemy.ext.asyncio import AsyncConnection


@dataclass(frozen=True, slots=True)
class RegisteredGroup:
    """A group registered for dialogues, with the name staff gave it."""

    group: GroupRef
    title: str | None
    registered_at: datetime


async def register(conn: AsyncConnection, group: GroupRef, at: datetime, title: str | None) -> bool:
    """Register the group (keeping the first time); False if it was registered already."""
    ids = await ensure_groups(conn, [group])
    if title is not None:
        await conn.execute(update(groups).where(groups.c.id == ids[group]).values(title=title))
    result = await conn.execute(
        dialect_insert(conn, registrations)
        .values(group_id=ids[group], registered_at=at)
        .on_conflict_do_nothing(index_elements=["group_id"])
    )
    return result.rowcount > 0


async def unregister(conn: AsyncConnection, group: GroupRef) -> bool:
    """Stop the group running sessions; False if it was not registered."""
    result = await conn.execute(
        delete(registrations).where(registrations.c.group_id == group_id(group))
    )
    return result.rowcount > 0


async def is_registered(conn: AsyncConnection, group: GroupRef) -> bool:
    """Whether staff registered the group."""
    found = await conn.execute(
        select(registrations.c.group_id).where(registrations.c.group_id == group_id(group))
    )
    return found.first() is not None


async def registered(conn: AsyncConnection) -> list[RegisteredGroup]:
    """Every registered group, oldest registration first."""
    rows = await conn.execute(
        select(groups.c.platform, groups.c.chat_id, groups.c.title, registrations.c.registered_at)
        .join(groups, groups.c.id == registrations.c.group_id)
        .order_by(registrations.c.registered_at, groups.c.id)
    )
    return [
        RegisteredGroup(GroupRef(row.platform, row.chat_id), row.title, row.registered_at)
        for row in rows
    ]


async def vote_of(
    conn: AsyncConnection, session_id: str, person: PersonRef, step_id: str
) -> tuple[int, ...]:
    """The person's current answer to a step of a session (empty if none)."""
    found = await conn.execute(
        select(votes.c.options).where(
            votes.c.session_id == session_id,
            votes.c.participant_id == person_id(conn, person),
            votes.c.step_id == step_id,
        )
    )
    options = found.scalar()
    return () if options is None else decode_options(options)


async def answers(conn: AsyncConnection, session_id: str, step_id: str) -> list[tuple[int, ...]]:
    """Everyone's current answer to a step of a session, without who gave it."""
    found = await conn.execute(
        select(votes.c.options)
        .where(votes.c.session_id == session_id, votes.c.step_id == step_id)
        .order_by(votes.c.id)
    )
    return [decode_options(options) for options in found.scalars()]
