"""Storing replies, the capture hot path: three bulk statements however many replies."""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass, field
from datetime import UTC, datetime

from sqlalchemy import Table, bindparam, select
from sqlalchemy.ext.asyncio import AsyncConnection
from sqlalchemy.sql import ClauseElement

from bot.core.captures import ResponseCaptured
from storage._bulk import execute_many
from storage._keys import dialect_insert
from storage.tables import groups, identities, responses

_KEY = ["platform", "chat_id", "message_id"]
_REPLY_FIELDS = (
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
)


@dataclass
class Known:
    """People and groups a writer has made sure exist, so it need not insert them again.

    Only existence is remembered, never an id (ids are looked up in the insert itself), so a
    stale entry can only make an insert fail, never attach a reply to the wrong person: the
    writer then forgets everything and tries again.
    """

    people: set[tuple[str, str]] = field(default_factory=set)
    groups: set[tuple[str, str]] = field(default_factory=set)

    def forget(self) -> None:
        """Forget everything (after a failure, or when people may have been erased)."""
        self.people.clear()
        self.groups.clear()


async def insert_replies(
    conn: AsyncConnection, captured: Sequence[ResponseCaptured], known: Known | None = None
) -> None:
    """Store replies; one already stored (same platform, chat and message id) is kept as is."""
    if not captured:
        return
    now = datetime.now(UTC)
    known = known or Known()
    people = {(c.person.platform, c.person.user_id) for c in captured} - known.people
    chats = {(c.group.platform, c.group.chat_id) for c in captured} - known.groups
    # Sorted, so concurrent writers on PostgreSQL take unique-index locks in the same order.
    await execute_many(
        conn,
        "identities",
        lambda: _add(conn, identities, "user_id"),
        ("platform", "user_id", "created_at"),
        [(*person, now) for person in sorted(people)],
    )
    await execute_many(
        conn,
        "groups",
        lambda: _add(conn, groups, "chat_id"),
        ("platform", "chat_id", "created_at"),
        [(*chat, now) for chat in sorted(chats)],
    )
    # Remembered only now: if this transaction fails, the writer forgets them anyway.
    known.people |= people
    known.groups |= chats
    rows: dict[tuple[str, str, str], tuple[object, ...]] = {}
    for c in captured:
        # A redelivery inside the batch keeps the first copy, like one across batches does.
        rows.setdefault(
            (c.group.platform, c.group.chat_id, c.message_id),
            (
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
            ),
        )
    await execute_many(
        conn, "responses", lambda: _insert_reply(conn), _REPLY_FIELDS, list(rows.values())
    )


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


def _insert_reply(conn: AsyncConnection) -> ClauseElement:
    # Ids come from subqueries: no round trip to look them up, and no cache to go stale.
    participant = (
        select(identities.c.id)
        .where(
            identities.c.platform == bindparam("person_platform"),
            identities.c.user_id == bindparam("person_user_id"),
        )
        .scalar_subquery()
    )
    group = (
        select(groups.c.id)
        .where(groups.c.platform == bindparam("platform"), groups.c.chat_id == bindparam("chat_id"))
        .scalar_subquery()
    )
    plain = ("session_id", "step_id", "platform", "chat_id", "message_id", "text", "kind")
    return (
        dialect_insert(conn, responses)
        .values(
            participant_id=participant,
            group_id=group,
            reply_to=bindparam("reply_to"),
            posted_at=bindparam("posted_at", type_=responses.c.posted_at.type),
            original_length=bindparam("original_length"),
            **{name: bindparam(name) for name in plain},
        )
        .on_conflict_do_nothing(index_elements=_KEY)
    )
