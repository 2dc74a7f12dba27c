"""Content versions: kept once when a session starts on one, read back by digest."""

from __future__ import annotations

import logging
from collections.abc import Iterable, Sequence
from typing import TYPE_CHECKING, Protocol

from pydantic import ValidationError
from sqlalchemy import select

from bot.content.version import Version, from_document
from bot.core.captures import ContentUsed
from bot.core.direct import is_direct
from bot.core.ids import GroupRef, PersonRef
from storage._keys import PERSON_COLUMNS, People, dialect_insert
from storage.keystore import keys_of
from storage.tables import content_versions, direct_progress, identities

if TYPE_CHECKING:
    from sqlalchemy.ext.asyncio import AsyncConnection

log = logging.getLogger(__name__)


async def record_versions(conn: AsyncConnection, used: Sequence[ContentUsed]) -> None:
    """Keep each version's content; one already kept is left as it was (its key is its hash)."""
    rows = {
        u.version.digest: {
            "digest": u.version.digest,
            "script_id": u.version.script.id,
            "content": u.version.document(),
            "first_used_at": u.at,
        }
        for u in used
    }
    if rows:
        stmt = dialect_insert(conn, content_versions).on_conflict_do_nothing(
            index_elements=["digest"]
        )
        await conn.execute(stmt, list(rows.values()))


async def read_versions(conn: AsyncConnection, digests: Iterable[str]) -> dict[str, Version]:
    """The kept versions of these digests, first used first (unknown ones are left out)."""
    wanted = sorted(set(digests))
    if not wanted:
        return {}
    rows = await conn.execute(
        select(content_versions.c.digest, content_versions.c.content)
        .where(content_versions.c.digest.in_(wanted))
        .order_by(content_versions.c.first_used_at, content_versions.c.digest)
    )
    found: dict[str, Version] = {}
    for digest, content in rows:
        try:
            found[digest] = from_document(digest, content)
        except ValidationError:
            # Kept by a release whose content models differ: the files' version stands in.
            log.warning("kept content version no longer loads", extra={"version": digest})
    return found


# The content version of each resident's self-paced dialogue, by (person, cycle).
Residents = dict[tuple[PersonRef, str], str]


class _Answered(Protocol):
    @property
    def cycle_id(self) -> str | None: ...

    @property
    def content_version(self) -> str | None: ...


async def resident_versions(conn: AsyncConnection, cycle_id: str | None) -> Residents:
    """The version each resident's self-paced dialogue ran (of one cycle, or all)."""
    query = (
        select(
            *PERSON_COLUMNS,
            direct_progress.c.cycle_id,
            direct_progress.c.content_version,
        )
        .join(identities, identities.c.id == direct_progress.c.participant_id)
        .where(direct_progress.c.content_version.is_not(None))
    )
    if cycle_id is not None:
        query = query.where(direct_progress.c.cycle_id == cycle_id)
    rows = await conn.execute(query)
    people = People(keys_of(conn))
    return {(people(i, p, u), c): v for i, p, u, c, v in rows}


def answered_version(
    group: GroupRef, person: PersonRef, row: _Answered, residents: Residents
) -> str | None:
    """The version a person answered: their own in a cycle's direct group, else the session's.

    Residents of one cycle share its direct session, each on the version they started on.
    """
    if is_direct(group) and row.cycle_id is not None:
        return residents.get((person, row.cycle_id), row.content_version)
    return row.content_version
