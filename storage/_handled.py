"""Messages handled once: which were seen, and edits that came before their message."""

from __future__ import annotations

from collections.abc import Collection, Sequence
from dataclasses import dataclass
from datetime import datetime
from functools import partial
from typing import TYPE_CHECKING

from sqlalchemy import (
    ColumnClause,
    ColumnElement,
    Table,
    and_,
    delete,
    literal,
    literal_column,
    or_,
    select,
    union_all,
)
from sqlalchemy.sql import ClauseElement

from bot.core.captures import ResponseEdited
from bot.core.ids import GroupRef, MessageRef
from storage import sealed
from storage._bulk import execute_returning
from storage._erased import Marks, erased
from storage._keys import dialect_insert
from storage.keystore import keys_of
from storage.tables import erased_messages, handled_messages, pending_edits, responses

if TYPE_CHECKING:
    from sqlalchemy.ext.asyncio import AsyncConnection

_KEY = ["platform", "chat_id", "message_id"]
_CLAIM_FIELDS = ("platform", "chat_id", "message_id", "handled_at")


def ref(group: GroupRef, message_id: str) -> MessageRef:
    """The key of a message in a group."""
    return MessageRef(group.platform, group.chat_id, message_id)


@dataclass(frozen=True, slots=True)
class PendingEdit:
    """An edit that was waiting for its message."""

    message: MessageRef
    participant_id: int
    text: str
    original_length: int | None
    at: datetime


async def claim(
    conn: AsyncConnection, messages: Sequence[MessageRef], at: datetime, marks: Marks
) -> dict[MessageRef, bool]:
    """Mark these messages handled, in one statement.

    Returns the messages neither handled, stored (a stored reply marks its message handled)
    nor erased before, each with whether an edit is waiting for it.
    """
    keyed = {marks.of_ref(m): m for m in messages}
    gone = await erased(conn, keyed)
    kept = await _stored(conn, messages)
    rows = [
        (m.platform, m.chat_id, m.message_id, at)
        for k, m in keyed.items()
        if k not in gone and m not in kept
    ]
    found = await execute_returning(conn, "claim", partial(_claim, conn), _CLAIM_FIELDS, rows)
    return {MessageRef(platform, chat, message): bool(w) for platform, chat, message, w in found}


# SQLAlchemy cannot correlate a subquery inside RETURNING (it would join the table again), so
# this one expression is written out; it is the same SQL on SQLite and PostgreSQL.
_WAITING: ColumnClause[bool] = literal_column(
    "EXISTS (SELECT 1 FROM pending_edits WHERE pending_edits.platform = "
    "handled_messages.platform AND pending_edits.chat_id = handled_messages.chat_id "
    "AND pending_edits.message_id = handled_messages.message_id)"
)


def _claim(conn: AsyncConnection, rows: int) -> ClauseElement:
    handled = handled_messages.c
    return (
        dialect_insert(conn, handled_messages)
        .values([dict.fromkeys(_CLAIM_FIELDS)] * rows)
        .on_conflict_do_nothing(index_elements=_KEY)
        .returning(handled.platform, handled.chat_id, handled.message_id, _WAITING)
    )


async def release(conn: AsyncConnection, messages: Collection[MessageRef]) -> None:
    """Unmark these messages handled: each has a reply of its own to store, which marks it."""
    if messages:
        await conn.execute(delete(handled_messages).where(_any(handled_messages, messages)))


async def _stored(conn: AsyncConnection, messages: Collection[MessageRef]) -> set[MessageRef]:
    """Those of these messages whose reply is stored."""
    if not messages:
        return set()
    r = responses.c
    found = await conn.execute(
        select(r.platform, r.chat_id, r.message_id).where(_any(responses, messages))
    )
    return {MessageRef(platform, chat, message) for platform, chat, message in found}


def _any(table: Table, messages: Collection[MessageRef]) -> ColumnElement[bool]:
    # One equality test per message, so each can use the key's index (a row-value IN list
    # makes SQLite scan the table).
    c = table.c
    return or_(
        *(
            and_(c.platform == m.platform, c.chat_id == m.chat_id, c.message_id == m.message_id)
            for m in messages
        )
    )


async def is_handled(conn: AsyncConnection, message: MessageRef, marks: Marks) -> bool:
    """Whether this message was handled before (stored or not), or erased."""
    found = await conn.execute(
        union_all(
            *(
                select(literal(1)).where(
                    table.c.platform == message.platform,
                    table.c.chat_id == message.chat_id,
                    table.c.message_id == message.message_id,
                )
                for table in (handled_messages, responses)
            ),
            select(literal(1)).where(erased_messages.c.mark == marks.of_ref(message)),
        )
    )
    return found.first() is not None


async def keep_pending(conn: AsyncConnection, edit: ResponseEdited, participant_id: int) -> None:
    """Keep an edit whose message has not arrived yet."""
    message = ref(edit.group, edit.message_id)
    keys = keys_of(conn)
    keys.ensure([participant_id])
    sealed_text = keys.seal(
        participant_id, edit.text, sealed.pending(participant_id, sealed.message_key(message))
    )
    stmt = dialect_insert(conn, pending_edits).values(
        platform=message.platform,
        chat_id=message.chat_id,
        message_id=message.message_id,
        participant_id=participant_id,
        text=sealed_text,
        original_length=edit.original_length,
        edited_at=edit.at,
    )
    # Every edit is kept (they may come in any order); the same edit twice is one.
    await conn.execute(stmt.on_conflict_do_nothing(index_elements=[*_KEY, "edited_at"]))


async def take_pending(
    conn: AsyncConnection, messages: Collection[MessageRef]
) -> list[PendingEdit]:
    """Remove and return the edits that were waiting for these messages, oldest first."""
    if not messages:
        return []
    # Only messages an edit is known to wait for come here.
    wanted = _any(pending_edits, messages)
    rows = (
        await conn.execute(select(pending_edits).where(wanted).order_by(pending_edits.c.edited_at))
    ).all()
    await conn.execute(delete(pending_edits).where(wanted))
    keys = keys_of(conn)
    found: list[PendingEdit] = []
    for r in rows:
        message = MessageRef(r.platform, r.chat_id, r.message_id)
        pid = r.participant_id
        text = keys.open(pid, r.text, sealed.pending(pid, sealed.message_key(message)))
        found.append(PendingEdit(message, pid, text, r.original_length, r.edited_at))
    return found


async def purge(conn: AsyncConnection, before: datetime) -> None:
    """Forget handled messages and drop waiting edits older than ``before``."""
    await conn.execute(delete(handled_messages).where(handled_messages.c.handled_at < before))
    await conn.execute(delete(pending_edits).where(pending_edits.c.edited_at < before))
