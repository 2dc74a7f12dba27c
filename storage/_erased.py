"""Erased messages: remembered by a keyed hash of their platform key, so none comes back.

A reply erased by /withdraw, /forget or a platform deletion leaves a mark: the HMAC-SHA256,
with the deployment's pseudonym key, of its (platform, chat, message id). No person, no text,
and without the key no way to tell which message a mark stands for. Marks are kept for good
(unlike handled messages, purged after ``capture.remember_days``), so no redelivery, replay or
catch-up, however late, stores an erased message again, even after its author agrees again.
"""

from __future__ import annotations

from collections.abc import Iterable
from typing import TYPE_CHECKING

from sqlalchemy import select

from bot.core.ids import MessageRef
from storage._keys import dialect_insert
from storage.keyed import KeyedHash
from storage.tables import erased_messages

if TYPE_CHECKING:
    from sqlalchemy.ext.asyncio import AsyncConnection

_KIND = "erased-message"


class Marks:
    """The marks of messages under one deployment's key."""

    def __init__(self, key: bytes) -> None:
        """``key``: the deployment's pseudonym key."""
        self._hash = KeyedHash(key)

    def of(self, platform: str, chat_id: str, message_id: str) -> bytes:
        """The mark of a message: a keyed hash of its platform key."""
        # Unit separators keep ("a", "bc") and ("ab", "c") apart; the kind keeps these hashes
        # apart from pseudonyms made with the same key.
        return self._hash.digest(f"{_KIND}\x1f{platform}\x1f{chat_id}\x1f{message_id}".encode())

    def of_ref(self, message: MessageRef) -> bytes:
        """The mark of a message, by its reference."""
        return self.of(message.platform, message.chat_id, message.message_id)


async def remember(conn: AsyncConnection, marks: Iterable[bytes]) -> None:
    """Remember these messages as erased (a mark already there stays as it is)."""
    rows = [{"mark": mark} for mark in sorted(set(marks))]
    if rows:
        insert = dialect_insert(conn, erased_messages)
        await conn.execute(insert.on_conflict_do_nothing(index_elements=["mark"]), rows)


async def erased(conn: AsyncConnection, marks: Iterable[bytes]) -> set[bytes]:
    """Those of these marks that stand for erased messages."""
    wanted = set(marks)
    if not wanted:
        return set()
    found = await conn.execute(
        select(erased_messages.c.mark).where(erased_messages.c.mark.in_(wanted))
    )
    return {bytes(mark) for (mark,) in found}
