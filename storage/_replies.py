"""Storing replies, the capture hot path: a few bulk statements however many replies.

A stored reply is itself the record that its message was handled (its unique key), so the
replies of a batch need no row in ``handled_messages``: that saves a third of the database's
work per reply.
"""

from __future__ import annotations

from collections.abc import Callable, Sequence
from dataclasses import dataclass, field
from datetime import UTC, datetime
from functools import partial
from operator import itemgetter
from typing import TYPE_CHECKING, Any, cast

from sqlalchemy import (
    ColumnClause,
    Integer,
    Table,
    bindparam,
    case,
    exists,
    func,
    literal_column,
    null,
    select,
)
from sqlalchemy.sql import ClauseElement

from bot.core.captures import ResponseCaptured
from storage import sealed
from storage._bulk import execute_many, first_row
from storage._erased import Marks
from storage._keys import dialect_insert, ensure_identities, participant_ids, user_key
from storage.keystore import keys_of
from storage.tables import (
    erased_messages,
    groups,
    handled_messages,
    identities,
    pending_edits,
    responses,
)

if TYPE_CHECKING:
    from sqlalchemy.ext.asyncio import AsyncConnection

_KEY = ["platform", "chat_id", "message_id"]
_FIELDS = (
    "session_id",
    "person_platform",
    "person_user_id",
    "step_id",
    "platform",
    "chat_id",
    "message_id",
    "text",
    "kind",
    "reply_to",
    "posted_at",
    "original_length",
    "language",
)
# What the inserts take: a row of _FIELDS with four values after it (its person's blind index,
# its text sealed, the mark of its message, and the id it was sealed for). The row's own user id
# and text are named apart, so no statement takes them.
_SEALED = (
    *(f"plain_{name}" if name in ("person_user_id", "text") else name for name in _FIELDS),
    "person_user_key",
    "text",
    "mark",
    "participant_id",
)
# A reply as a row of _FIELDS: plain values, cheap to hand to a writer in another process.
ReplyRow = tuple[object, ...]
# A message as (platform, chat id, message id): plain strings, cheaper to hash than a MessageRef
# for every reply of a batch.
MessageKey = tuple[str, str, str]
_PERSON, _CHAT, _MESSAGE, _TEXT = slice(1, 3), slice(4, 6), slice(4, 7), 7
# SQLAlchemy cannot correlate a subquery inside RETURNING (it would join the table again), so
# this one expression is written out; it is the same SQL on SQLite and PostgreSQL.
_WAITING: ColumnClause[bool] = literal_column(
    "EXISTS (SELECT 1 FROM pending_edits WHERE pending_edits.platform = responses.platform "
    "AND pending_edits.chat_id = responses.chat_id "
    "AND pending_edits.message_id = responses.message_id)"
)


@dataclass
class Known:
    """People and groups a writer has made sure exist, so it need not insert them again.

    Ids are looked up in the insert itself. The ids of people whose words the writer sealed
    (under the key of that id) are remembered too, but the insert checks each against the id
    it finds, so a stale entry can only make an insert fail, never attach a reply to the wrong
    person or seal it under the wrong key: the writer then forgets everything and tries again.
    """

    people: set[tuple[str, str]] = field(default_factory=set)
    groups: set[tuple[str, str]] = field(default_factory=set)
    ids: dict[tuple[str, str], int] = field(default_factory=dict)
    # Each person's blind index (``user_key``): a keyed hash, the same for as long as the key
    # store's index key, kept so a batch hashes only people it has not met.
    blind: dict[tuple[str, str], str] = field(default_factory=dict)

    def forget(self) -> None:
        """Forget everything (after a failure, or when people may have been erased)."""
        self.people.clear()
        self.groups.clear()
        self.ids.clear()
        self.blind.clear()


def reply_row(c: ResponseCaptured) -> ReplyRow:
    """A captured reply as the row that stores it."""
    return (
        c.session_id,
        c.person.platform,
        c.person.user_id,
        c.step_id,
        c.group.platform,
        c.group.chat_id,
        c.message_id,
        c.text,
        c.kind,
        c.reply_to,
        c.at,
        c.original_length,
        c.language,
    )


# The message a reply row came in, as (platform, chat id, message id): a slice taken in C, as
# this runs twice for every reply stored.
row_key = cast(Callable[[ReplyRow], MessageKey], itemgetter(_MESSAGE))


async def store_replies(
    conn: AsyncConnection, replies: Sequence[ReplyRow], marks: Marks, known: Known
) -> dict[MessageKey, bool]:
    """Store replies: the one write of a reply, whichever path it came by.

    Each text is sealed under its person's key, and each reply goes in only if its message was
    never handled without being stored (a row in ``handled_messages``), erased, or stored
    before (the unique key, which makes the stored reply its message's handled mark). Returns
    the messages of the replies stored, each with whether an edit is waiting for it.
    """
    rows = await _rows(conn, replies, marks, known)
    # A single writer per platform inserts, so the replies stored now are those numbered
    # after the highest number before (filtered to these messages, in case of another).
    (before,) = await first_row(conn, "last reply", _last_reply) or (0,)
    inserted = await execute_many(
        conn, "replies", partial(_insert, conn), _SEALED, list(rows.values())
    )
    # Each row inserts one reply or none: when the driver counts them all in, every one was
    # stored, and with no edit waiting for any message none waits for these (the commonest
    # case by far, with no need to read the replies back).
    if inserted == len(rows) and not await _edits_waiting(conn):
        return dict.fromkeys(rows, False)
    r = responses.c
    stored = await conn.execute(
        select(r.platform, r.chat_id, r.message_id, _WAITING).where(r.id > before)
    )
    return {
        key: bool(waiting)
        for platform, chat, message, waiting in stored.all()
        if (key := (platform, chat, message)) in rows
    }


def _last_reply() -> ClauseElement:
    """The highest id of a stored reply (0: none)."""
    return select(func.coalesce(func.max(responses.c.id), 0))


def _any_edit() -> ClauseElement:
    """An edit waiting for its message, if any."""
    return select(pending_edits.c.platform).limit(1)


async def _edits_waiting(conn: AsyncConnection) -> bool:
    """Whether any edit waits for its message."""
    return await first_row(conn, "any edit", _any_edit) is not None


async def _rows(
    conn: AsyncConnection, replies: Sequence[ReplyRow], marks: Marks, known: Known
) -> dict[MessageKey, ReplyRow]:
    """The rows to insert, one per message with its mark; their people and groups exist."""
    now = datetime.now(UTC)
    # (platform, user id) and (platform, chat id): strings, as reply_row makes them.
    people = cast(set[tuple[str, str]], {row[_PERSON] for row in replies}) - known.people
    chats = cast(set[tuple[str, str]], {row[_CHAT] for row in replies}) - known.groups
    # Their user ids sealed under their own keys (made now if need be), found by blind index.
    known.ids.update(await ensure_identities(conn, people))
    # Sorted, so concurrent writers on PostgreSQL take unique-index locks in the same order.
    await execute_many(
        conn,
        "groups",
        partial(_add, conn, groups, "chat_id"),
        ("platform", "chat_id", "created_at"),
        [(*chat, now) for chat in sorted(chats)],
    )
    # Remembered only now: if this transaction fails, the writer forgets them anyway.
    known.people |= people
    known.groups |= chats
    rows: dict[MessageKey, ReplyRow] = {}
    keep = rows.setdefault  # one look-up a reply
    for row in replies:
        # A redelivery inside the batch keeps the first copy, like one across batches does.
        keep(row_key(row), row)
    return await _sealed(conn, rows, marks, known)


async def _sealed(
    conn: AsyncConnection, rows: dict[MessageKey, ReplyRow], marks: Marks, known: Known
) -> dict[MessageKey, ReplyRow]:
    """The rows as ``_SEALED`` has them, their texts sealed under their people's keys.

    Keys are made first if need be. Each row is extended by one tuple, in one pass a reply:
    this runs for every reply stored.
    """
    # (platform, user id) and texts: strings, as reply_row makes them.
    people = cast(list[tuple[str, str]], [row[_PERSON] for row in rows.values()])
    ids = known.ids
    each = set(people)
    unknown = each.difference(ids)
    if unknown:
        ids.update(await participant_ids(conn, unknown))
    pids = [ids[person] for person in people]
    keys = keys_of(conn)
    keys.ensure(pids)
    blind = known.blind
    for person in each.difference(blind):
        blind[person] = user_key(keys, *person)
    texts = keys.seal_all(
        pids,
        cast(list[str], [row[_TEXT] for row in rows.values()]),
        map(sealed.reply, pids, rows),
    )
    mark = marks.of
    return {
        key: row + (blind[person], text, mark(*key), pid)
        for (key, row), person, text, pid in zip(rows.items(), people, texts, pids, strict=True)
    }


def _add(conn: AsyncConnection, table: Table, name: str) -> ClauseElement:
    return (
        dialect_insert(conn, table)
        .values(
            platform=bindparam("platform"),
            **{name: bindparam(name)},
            created_at=bindparam("created_at"),
        )
        .on_conflict_do_nothing(index_elements=["platform", name])
    )


def _values(row: int) -> dict[str, Any]:
    # Ids come from subqueries: no round trip to look them up, and no cache of them to go
    # stale. Parameters are named as SQLAlchemy names those of a multi-row insert
    # ("chat_id_m0"), which storage._bulk relies on.
    suffix = f"_m{row}"

    def param(name: str) -> Any:
        column = responses.c.get(name, erased_messages.c.get(name))
        return bindparam(name + suffix, type_=column.type if column is not None else None)

    found = (
        select(identities.c.id)
        .where(
            identities.c.platform == param("person_platform"),
            identities.c.user_key == param("person_user_key"),
        )
        .scalar_subquery()
    )
    # The id the text was sealed for, if it is still the person's; else NULL, which the
    # table refuses: the writer forgets what it knew and tries again.
    sealed_for = bindparam("participant_id" + suffix, type_=Integer)
    participant = case((found == sealed_for, sealed_for), else_=null())
    group = (
        select(groups.c.id)
        .where(groups.c.platform == param("platform"), groups.c.chat_id == param("chat_id"))
        .scalar_subquery()
    )
    plain = (
        "session_id",
        "step_id",
        "platform",
        "chat_id",
        "message_id",
        "text",
        "kind",
        "reply_to",
        "posted_at",
        "original_length",
        "language",
    )
    values = {n: param(n) for n in plain}
    return {"participant_id": participant, "group_id": group, **values, "mark": param("mark")}


def _insert(conn: AsyncConnection) -> ClauseElement:
    # The reply goes in unless its message was handled without being stored (a row in
    # handled_messages), or erased, or stored already (the unique key).
    values = _values(0)
    h = handled_messages.c
    unseen = ~exists().where(
        h.platform == values["platform"],
        h.chat_id == values["chat_id"],
        h.message_id == values["message_id"],
    )
    mark = values.pop("mark")
    kept = ~exists().where(erased_messages.c.mark == mark)
    columns = list(values)
    return (
        dialect_insert(conn, responses)
        .from_select(columns, select(*(values[c] for c in columns)).where(unseen, kept))
        .on_conflict_do_nothing(index_elements=_KEY)
    )
