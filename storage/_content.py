"""Content versions: kept once when a session starts on one, read back by digest."""

from __future__ import annotations

import logging
from collections.abc import Iterable, Sequence

from pydantic import ValidationError
from sqlalchemy import select
from sqlalchemy.ext.asyncio import AsyncConnection

from bot.content.version import Version, from_document
from bot.core.captures import ContentUsed
from storage._keys import dialect_insert
from storage.tables import content_versions

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
    """The kept versions of these digests (unknown ones are left out)."""
    wanted = sorted(set(digests))
    if not wanted:
        return {}
    rows = await conn.execute(
        select(content_versions.c.digest, content_versions.c.content).where(
            content_versions.c.digest.in_(wanted)
        )
    )
    found: dict[str, Version] = {}
    for digest, content in rows:
        try:
            found[digest] = from_document(digest, content)
        except ValidationError:
            # Kept by a release whose content models differ: the files' version stands in.
            log.warning("kept content version no longer loads", extra={"version": digest})
    return found
