"""Shared query pieces: dialect-specific inserts and the internal ids of people and groups.

People are found by a blind index of their platform user id (``user_key``: a keyed hash, see
``KeyStore.index``); the id itself is stored only sealed under the person's own key, so that
destroying the key leaves no readable identifier in any copy of the database.
"""

from __future__ import annotations

from collections.abc import Iterable
from datetime import UTC, datetime
from itertools import groupby
from operator import itemgetter
from typing import TYPE_CHECKING

from sqlalchemy import ScalarSelect, Table, bindparam, select, update

from bot.core.ids import GroupRef, PersonRef
from storage import sealed
from storage.keystore import KeyStore, keys_of
from storage.tables import groups, identities

if TYPE_CHECKING:
    from sqlalchemy.dialects import postgresql, sqlite
    from sqlalchemy.ext.asyncio import AsyncConnection

# (platform, user id) of a person, as plain strings.
Person = tuple[str, str]


def dialect_insert(conn: AsyncConnection, table: Table) -> sqlite.Insert | postgresql.Insert:
    """Return an INSERT that supports ON CONFLICT on the connection's backend."""
    # Imported here: each backend loads only its own dialect (its engine imported it already).
    if conn.dialect.name == "postgresql":
        from sqlalchemy.dialects.postgresql import insert as postgresql_insert

        return postgresql_insert(table)
    from sqlalchemy.dialects.sqlite import insert as sqlite_insert

    return sqlite_insert(table)


def user_key(keys: KeyStore, platform: str, user_id: str) -> str:
    """The blind index a person is looked up by: no user id is stored in plain."""
    return keys.index("identity", platform, user_id)


def sealed_identity(keys: KeyStore, participant: int, platform: str, user_id: str) -> str:
    """A person's user id as their identity row stores it: sealed under their own key."""
    return keys.seal(participant, user_id, sealed.identity(participant, platform))


def identity_row(
    keys: KeyStore, participant: int, platform: str, user_id: str
) -> tuple[int, str, str, str]:
    """(id, platform, user_key, sealed_user_id) of a new identity row; its key must exist."""
    return (
        participant,
        platform,
        user_key(keys, platform, user_id),
        sealed_identity(keys, participant, platform, user_id),
    )


def _blind(keys: KeyStore, people: Iterable[Person]) -> dict[tuple[str, str], Person]:
    """People by (platform, blind index of their user id)."""
    return {
        (platform, user_key(keys, platform, user)): (platform, user) for platform, user in people
    }


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


async def ensure_identities(conn: AsyncConnection, people: Iterable[Person]) -> dict[Person, int]:
    """Get or create the internal ids of people given as (platform, user id).

    A new person's user id is sealed under their own key, made (and committed to the key store)
    before this transaction commits; until then their row holds no user id at all.
    """
    keys = keys_of(conn)
    blind = _blind(keys, people)
    found = await _ensure(conn, identities, ("platform", "user_key"), set(blind))
    if not found:  # nobody asked for (a busy writer knows everyone): no statement for nobody
        return {}
    unsealed = await conn.execute(
        select(identities.c.id, identities.c.platform, identities.c.user_key).where(
            identities.c.id.in_(found.values()), identities.c.sealed_user_id.is_(None)
        )
    )
    fresh = [(pid, blind[(platform, key)]) for pid, platform, key in unsealed]
    if fresh:
        keys.ensure((pid for pid, _ in fresh), reread=True)
        await conn.execute(
            update(identities)
            .where(identities.c.id == bindparam("pid"))
            .values(sealed_user_id=bindparam("sealed")),
            [
                {"pid": pid, "sealed": sealed_identity(keys, pid, platform, user)}
                for pid, (platform, user) in fresh
            ],
        )
    return {blind[key]: pid for key, pid in found.items()}


async def ensure_people(conn: AsyncConnection, people: Iterable[PersonRef]) -> dict[PersonRef, int]:
    """Get or create the internal participant ids of these people."""
    found = await ensure_identities(conn, {(p.platform, p.user_id) for p in people})
    return {PersonRef(platform, user_id): id_ for (platform, user_id), id_ in found.items()}


async def participant_ids(conn: AsyncConnection, people: Iterable[Person]) -> dict[Person, int]:
    """The internal ids of people, as (platform, user id), who exist; never creates one."""
    keys = keys_of(conn)
    blind = _blind(keys, people)
    found = await _lookup(conn, identities, ("platform", "user_key"), sorted(blind))
    return {blind[key]: pid for key, pid in found.items()}


def person_id(conn: AsyncConnection, person: PersonRef) -> ScalarSelect[int]:
    """Subquery for a person's internal id, NULL when unknown; never creates one."""
    key = user_key(keys_of(conn), person.platform, person.user_id)
    return (
        select(identities.c.id)
        .where(identities.c.platform == person.platform, identities.c.user_key == key)
        .scalar_subquery()
    )


def open_person(keys: KeyStore, participant: int, platform: str, sealed_user_id: str) -> PersonRef:
    """A person as stored (their identity row's id, platform and sealed user id), opened."""
    user_id = keys.open(participant, sealed_user_id, sealed.identity(participant, platform))
    return PersonRef(platform, user_id)


class People:
    """Opens stored people, each once (the same people recur on every row of a read)."""

    def __init__(self, keys: KeyStore) -> None:
        """Open with ``keys``, the database's key store."""
        self._keys = keys
        self._found: dict[int, PersonRef] = {}

    def __call__(self, participant: int, platform: str, sealed_user_id: str) -> PersonRef:
        """The person of an identity row (id, platform, sealed user id)."""
        found = self._found.get(participant)
        if found is None:
            found = self._found[participant] = open_person(
                self._keys, participant, platform, sealed_user_id
            )
        return found

    def page(self, participants: Iterable[int]) -> None:
        """Read the keys of a page's people not yet opened, in one read of the key store."""
        self._keys.preload(p for p in participants if p not in self._found)


# The columns ``People`` and ``open_person`` take, in their order.
PERSON_COLUMNS = (identities.c.id, identities.c.platform, identities.c.sealed_user_id)


async def ensure_groups(conn: AsyncConnection, refs: Iterable[GroupRef]) -> dict[GroupRef, int]:
    """Get or create the internal ids of these groups."""
    found = await _ensure(
        conn, groups, ("platform", "chat_id"), {(g.platform, g.chat_id) for g in refs}
    )
    return {GroupRef(platform, chat_id): id_ for (platform, chat_id), id_ in found.items()}


def group_id(group: GroupRef) -> ScalarSelect[int]:
    """Subquery for a group's internal id, NULL when unknown; never creates one."""
    return (
        select(groups.c.id)
        .where(groups.c.platform == group.platform, groups.c.chat_id == group.chat_id)
        .scalar_subquery()
    )
