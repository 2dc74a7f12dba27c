"""The audit: entries appended and read, and the erasures it records.

Staff may erase someone from the command line (``dialogue person erase``) while a bot runs in
another process; the bot learns of it from the audit, by pseudonym, at its next poll, and
erases again what the person wrote meanwhile.
"""

from __future__ import annotations

from collections.abc import Mapping
from datetime import datetime
from typing import TYPE_CHECKING

from sqlalchemy import func, insert, select

from bot.core.records import ErasureRequest
from storage._base import RepositoryBase
from storage.records import AuditEntry
from storage.tables import audit

if TYPE_CHECKING:
    from sqlalchemy.ext.asyncio import AsyncEngine


# What an erasure's entry says of who asked for it, beside the pseudonym and the counts:
# nothing when the person did, in the chat.
ASKED: dict[ErasureRequest, dict[str, object]] = {
    "person": {},
    "staff": {"by": "staff"},
    "again": {"by": "staff", "again": True},
}


class Audit(RepositoryBase):
    """Appending to the audit, and reading it back."""

    async def record_audit(self, kind: str, at: datetime, detail: Mapping[str, object]) -> None:
        """Append an audit entry; ``detail`` must hold no platform ids or participant text."""
        async with self._writer.begin() as conn:
            await conn.execute(insert(audit).values(at=at, kind=kind, detail=dict(detail)))

    async def audit_entries(self, kind: str | None = None) -> list[AuditEntry]:
        """Return audit entries, oldest first, optionally of one kind."""
        query = select(audit).order_by(audit.c.id)
        if kind is not None:
            query = query.where(audit.c.kind == kind)
        async with self._engine.connect() as conn:
            rows = await conn.execute(query)
            return [AuditEntry(id=r.id, at=r.at, kind=r.kind, detail=r.detail) for r in rows]


async def last_audit_id(engine: AsyncEngine) -> int:
    """The id of the newest audit entry (0 when there is none)."""
    async with engine.connect() as conn:
        return int((await conn.execute(select(func.max(audit.c.id)))).scalar() or 0)


async def erased_after(
    engine: AsyncEngine, after: int
) -> tuple[int, frozenset[str], frozenset[str]]:
    """Erasures in audit entries newer than id ``after``: the newest id seen, and pseudonyms.

    The pseudonyms of every erasure, then of those staff asked for (not those made again).
    """
    query = (
        select(audit.c.id, audit.c.detail)
        .where(audit.c.kind == "erasure", audit.c.id > after)
        .order_by(audit.c.id)
    )
    async with engine.connect() as conn:
        rows = (await conn.execute(query)).all()
    newest = rows[-1].id if rows else after
    erased = [(str(row.detail["pseudonym"]), row.detail) for row in rows]
    staff = ASKED["staff"]
    return (
        newest,
        frozenset(pseudonym for pseudonym, _ in erased),
        frozenset(pseudonym for pseudonym, detail in erased if _asked(detail) == staff),
    )


def _asked(detail: Mapping[str, object]) -> dict[str, object]:
    """What an erasure's entry says of who asked for it."""
    return {key: detail[key] for key in ("by", "again") if key in detail}
