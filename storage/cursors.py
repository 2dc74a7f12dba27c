"""Each group's cursor: the newest platform message handled there, to catch up from after downtime.

Platforms that can read back a chat's history (Discord) keep one per group. Cursors carry no
person and no text, and only ever move forward: a write that is older than what is stored
changes nothing, so a late or repeated batch can never make the bot skip messages.
"""

from __future__ import annotations

from collections.abc import Mapping
from datetime import datetime
from typing import TYPE_CHECKING

from sqlalchemy import select

from bot.core.ids import GroupRef
from storage._keys import dialect_insert
from storage.tables import platform_cursors

if TYPE_CHECKING:
    from sqlalchemy.ext.asyncio import AsyncEngine


class PlatformCursors:
    """The cursors of every group, in the application's database."""

    def __init__(self, engine: AsyncEngine) -> None:
        self.engine = engine

    async def cursors(self, platform: str) -> dict[GroupRef, int]:
        """Every stored cursor of a platform, by group."""
        query = select(platform_cursors.c.chat_id, platform_cursors.c.message_id).where(
            platform_cursors.c.platform == platform
        )
        async with self.engine.connect() as conn:
            rows = await conn.execute(query)
            return {GroupRef(platform, chat): message_id for chat, message_id in rows}

    async def advance_cursors(self, marks: Mapping[GroupRef, int], at: datetime) -> None:
        """Move each group's cursor forward to its mark, in one transaction (never back)."""
        if not marks:
            return
        # Sorted, so concurrent writers on PostgreSQL take row locks in the same order.
        rows = [
            {"platform": g.platform, "chat_id": g.chat_id, "message_id": m, "updated_at": at}
            for g, m in sorted(marks.items(), key=lambda item: (item[0].platform, item[0].chat_id))
        ]
        async with self.engine.begin() as conn:
            insert = dialect_insert(conn, platform_cursors)
            newer = insert.excluded.message_id
            upsert = insert.on_conflict_do_update(
                index_elements=["platform", "chat_id"],
                set_={"message_id": newer, "updated_at": insert.excluded.updated_at},
                where=platform_cursors.c.message_id < newer,
            )
            await conn.execute(upsert, rows)
