"""Erasures recorded in the audit, for a running bot to drop what it remembers of those people.

Staff may erase someone from the command line (``dialogue person erase``) while a bot runs in
another process; the bot learns of it here, by pseudonym, at its next poll.
"""

from __future__ import annotations

from sqlalchemy import func, select
from sqlalchemy.ext.asyncio import AsyncEngine

from storage.tables import audit


async def last_audit_id(engine: AsyncEngine) -> int:
    """The id of the newest audit entry (0 when there is none)."""
    async with engine.connect() as conn:
        return int((await conn.execute(select(func.max(audit.c.id)))).scalar() or 0)


async def erased_after(engine: AsyncEngine, after: int) -> tuple[int, frozenset[str]]:
    """Pseudonyms erased in audit entries newer than id ``after``, and the newest id seen."""
    query = (
        select(audit.c.id, audit.c.detail)
        .where(audit.c.kind == "erasure", audit.c.id > after)
        .order_by(audit.c.id)
    )
    async with engine.connect() as conn:
        rows = (await conn.execute(query)).all()
    newest = rows[-1].id if rows else after
    return newest, frozenset(str(row.detail["pseudonym"]) for row in rows)
