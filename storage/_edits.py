"""Edits of stored replies, in whatever order they arrive.

The history of a reply is its versions in the order they were written: each ``response_edits``
row holds a text and when it was replaced. An edit may arrive before its message (it waits in
``pending_edits``), twice, or after a newer edit; each ends up in its place in the history,
so the result is the same as if every edit had come once, in order.
"""

from __future__ import annotations

from dataclasses import dataclass
from datetime import datetime
from typing import TYPE_CHECKING

from sqlalchemy import ColumnElement, insert, select, update

from bot.core.captures import ResponseEdited
from bot.core.ids import GroupRef, MessageRef
from storage import sealed
from storage._erased import Marks
from storage._handled import PendingEdit, is_handled, keep_pending, ref
from storage._keys import person_id
from storage.keystore import keys_of
from storage.tables import response_edits, responses

if TYPE_CHECKING:
    from sqlalchemy.ext.asyncio import AsyncConnection


@dataclass(frozen=True, slots=True)
class _Stored:
    id: int
    participant_id: int
    message: MessageRef
    text: str
    edited_at: datetime | None


async def edit_response(conn: AsyncConnection, edit: ResponseEdited, marks: Marks) -> None:
    """Apply a person's edit of their reply, or keep it until the reply arrives."""
    found = await _stored(conn, edit.group, edit.message_id, person_id(conn, edit.person))
    if found is not None:
        await revise(conn, found, edit.text, edit.at, edit.original_length)
        return
    participant = (await conn.execute(select(person_id(conn, edit.person)))).scalar()
    # An edit of a message not seen yet waits for it; one of a message handled without
    # being stored, erased (or someone else's) means nothing.
    message = ref(edit.group, edit.message_id)
    if participant is not None and not await is_handled(conn, message, marks):
        await keep_pending(conn, edit, participant)


async def apply_pending(conn: AsyncConnection, pending: PendingEdit, group: GroupRef) -> None:
    """Apply an edit that was waiting for its message, now stored."""
    found = await _stored(conn, group, pending.message.message_id, pending.participant_id)
    if found is not None:
        await revise(conn, found, pending.text, pending.at, pending.original_length)


async def _stored(
    conn: AsyncConnection, group: GroupRef, message_id: str, participant: ColumnElement[int] | int
) -> _Stored | None:
    found = (
        await conn.execute(
            select(
                responses.c.id, responses.c.participant_id, responses.c.text, responses.c.edited_at
            )
            .where(
                responses.c.platform == group.platform,
                responses.c.chat_id == group.chat_id,
                responses.c.message_id == message_id,
                responses.c.participant_id == participant,
            )
            .with_for_update()
        )
    ).first()
    if found is None:
        return None
    message = ref(group, message_id)
    pid = found.participant_id
    text = keys_of(conn).open(pid, found.text, sealed.reply(pid, sealed.message_key(message)))
    return _Stored(found.id, pid, message, text, found.edited_at)


async def revise(
    conn: AsyncConnection, found: _Stored, text: str, at: datetime, original_length: int | None
) -> None:
    """Put an edit made at ``at`` into the reply's history; a repeated edit changes nothing."""
    if found.edited_at is None or at > found.edited_at:
        if found.text == text:
            return
        await _keep_version(conn, found, found.text, at)
        pid = found.participant_id
        keys = keys_of(conn)
        keys.ensure([pid])
        await conn.execute(
            update(responses)
            .where(responses.c.id == found.id)
            .values(
                text=keys.seal(pid, text, sealed.reply(pid, sealed.message_key(found.message))),
                edited_at=at,
                original_length=original_length,
            )
        )
        return
    # An older edit, late: its text was current from ``at`` until the version that followed it.
    history = response_edits.c
    versions = await conn.execute(
        select(history.id, history.previous_text, history.replaced_at)
        .where(history.response_id == found.id, history.replaced_at >= at)
        .order_by(history.replaced_at)
    )
    following = versions.first()
    if following is None or following.replaced_at == at:
        return  # the same edit again
    context = sealed.earlier(found.participant_id, found.id)
    if keys_of(conn).open(found.participant_id, following.previous_text, context) == text:
        return  # an edit that changed nothing
    await _keep_version(conn, found, text, following.replaced_at)
    await conn.execute(
        update(response_edits).where(history.id == following.id).values(replaced_at=at)
    )


async def _keep_version(conn: AsyncConnection, found: _Stored, text: str, until: datetime) -> None:
    pid = found.participant_id
    keys = keys_of(conn)
    keys.ensure([pid])
    kept = keys.seal(pid, text, sealed.earlier(pid, found.id))
    await conn.execute(
        insert(response_edits).values(response_id=found.id, previous_text=kept, replaced_at=until)
    )
