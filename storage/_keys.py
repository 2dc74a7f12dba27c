"""Shared query pieces: dialect-specific inserts and the internal ids of people and groups."""

from __future__ import annotations

from collections.abc import Iterable
from datetime import UTC, datetime
from itertools import groupby
from operator import itemgetter

from sqlalchemy import ScalarSelect, Table, select
from sqlalchemy.dialects import postgresql, sqlite
from sqlalchemy.ext.asyncio import AsyncConnection

from bot.core.ids import GroupRef, PersonRef
from storage.tables import groups, identities


def dialect_insert(conn: AsyncConnection, table: Table) -> sqlite.Insert | postgresql.Insert:
    """Return an INSERT that supports ON CONFLICT on the connection's backend."""
    if conn.dialect.name == "postgresql":
        return postgresql.insert(table)
    return sqlite.insert(table)


async def _ensure(
    conn: AsyncConnection, table: Table, columns: tuple[str, str], keys: set[tuple[str, str]]
) -> dict[tuple[str, str], int]:
    if not keys:
        return {}
    # Sorted, so concurrent writers on PostgreSQL take unique-index locks in the same order.
    ordered = sorted(keys)
    now = datetime.now(UTC)
    rows = [{columns[0]: a, columns[1]: b, "created_at": now} for a, b in ordered]
    insert = dialect_insert(conn, table).on_conflict_do_nothing(index_elements=list(columns))
    await conn.execute(insert, rows)
    return await _lookup(conn, table, columns, ordered)


async def _lookup(
    conn: AsyncConnection, table: Table, columns: tuple[str, str], ordered: list[tuple[str, str]]
) -> dict[tuple[str, str], int]:
    first, second = table.c[columns[0]], table.c[columns[1]]
    found: dict[tuple[str, str], int] = {}
    # One plain IN per platform: binding a list of strings costs far less than one of pairs.
    for head, keyed in groupby(ordered, key=itemgetter(0)):
        tails = [tail for _, tail in keyed]
        query = select(table.c.id, second).where(first == head, second.in_(tails))
        found.update(((head, tail), id_) for id_, tail in await conn.execute(query))
    return found


async def ensure_people(conn: AsyncConnection, people: Iterable[PersonRef]) -> dict[PersonRef, int]:
    """Get or create the internal participant ids of these people."""
    found = await _ensure(
        conn, identities, ("platform", "user_id"), {(p.platform, p.user_id) for p in people}
    )
    return {PersonRef(platform, user_id): id_ for (platform, user_id), id_ in found.items()}


async def participant_ids(
    conn: AsyncConnection, people: Iterable[tuple[str, str]]
) -> dict[tuple[str, str], int]:
    """The internal ids of people, as (platform, user id), who exist; never creates one."""
    return await _lookup(conn, identities, ("platform", "user_id"), sorted(set(people)))


async def ensure_groups(conn: AsyncConnection, refs: Iterable[GroupRef]) -> dict[GroupRef, int]:
    """Get or create the internal ids of these groups."""
    found = await _ensure(
        conn, groups, ("platform", "chat_id"), {(g.platform, g.chat_id) for g in refs}
    )
    return {GroupRef(platform, chat_id): id_ for (platform, chat_id), id_ in found.items()}


def person_id(person: PersonRef) -> ScalarSelect[int]:
    """Subquery for a person's internal id, NULL when unknown; never creates one."""
    return (
        select(identities.c.id)
        .where(identities.c.platform == person.platform, identities.c.user_id == person.user_id)
        .scalar_subquery()
    )


def group_id(group: GroupRef) -> ScalarSelect[int]:
    """Subquery for a group's internal id, NULL when unknown; never creates one."""
    return (
        select(groups.c.id)
        .where(groups.c.platform == group.platform, groups.c.chat_id == group.chat_id)
        .scalar_subquery()
    )
