"""Export reads: every row of a kind, fetched in pages by primary key so memory stays flat."""

from __future__ import annotations

from collections.abc import AsyncIterator, Awaitable, Callable, Mapping, Sequence
from dataclasses import dataclass
from typing import TYPE_CHECKING, Any, TypeVar, cast

from sqlalchemy import Column, Row, Select, exists, select

from bot.core.ids import GroupRef, PersonRef
from storage._keys import People
from storage._scopes import scope_flags, scopes_of
from storage.db import scanning
from storage.keystore import KeyStore, keys_of
from storage.records import ParticipantRow, ResponseRow, VoteRow, decode_options
from storage.sealed import open_replies, open_reply
from storage.tables import consents, groups, identities, responses, sessions, votes

if TYPE_CHECKING:
    import pyarrow as pa
    from sqlalchemy.ext.asyncio import AsyncConnection, AsyncEngine


async def typed_rows(conn: AsyncConnection, query: Select[Any]) -> Sequence[Row[Any]]:
    """A query's rows as SQLAlchemy gives them, each value of its column's Python type."""
    rows: Sequence[Row[Any]] = (await conn.execute(query)).all()
    return rows


async def driver_rows(conn: AsyncConnection, query: Select[Any]) -> Sequence[Sequence[Any]]:
    """A query's rows straight from the database driver: no Row built, no value converted.

    For pages of replies going into Arrow: SQLAlchemy's per-value work (a time parsed, then
    given its zone) cost more than reading the rows. Times come as the driver gives them,
    SQLite's UTC text or PostgreSQL's aware datetimes (``arrow_times`` reads both).
    """
    compiled = query.compile(dialect=conn.dialect, compile_kwargs={"render_postcompile": True})
    values = [compiled.params[name] for name in compiled.positiontup or ()]
    driver: Any = (await conn.get_raw_connection()).driver_connection
    if conn.dialect.name == "sqlite":
        async with driver.execute(compiled.string, values) as cursor:
            return cast(Sequence[Sequence[Any]], await cursor.fetchall())
    return cast(Sequence[Sequence[Any]], await driver.fetch(compiled.string, *values))


R = TypeVar("R", Row[Any], Sequence[Any])
# How a page's rows are read: ``typed_rows`` or ``driver_rows``.
Fetch = Callable[["AsyncConnection", Select[Any]], Awaitable[Sequence[R]]]


async def _pages(
    engine: AsyncEngine, query: Select[Any], key: Column[int], batch_size: int, fetch: Fetch[R]
) -> AsyncIterator[Sequence[R]]:
    # Keyset pages, each on a short-lived connection: an abandoned export holds no
    # connection or long read transaction (which would stall SQLite WAL checkpoints).
    if batch_size < 1:
        raise ValueError("batch_size must be at least 1")
    at = next(i for i, column in enumerate(query.selected_columns) if column is key)
    after: int | None = None
    while True:
        page = query.order_by(key).limit(batch_size)
        if after is not None:
            page = page.where(key > after)
        async with scanning(engine) as conn:
            rows = await fetch(conn, page)
        if rows:
            yield rows
        if len(rows) < batch_size:
            return
        after = rows[-1][at]


def _context_columns() -> tuple[Any, ...]:
    return (
        identities.c.platform.label("person_platform"),
        identities.c.sealed_user_id,
        groups.c.platform.label("group_platform"),
        groups.c.chat_id.label("group_chat_id"),
        groups.c.title,
        sessions.c.cycle_id,
        sessions.c.script_id,
        sessions.c.script_version,
        sessions.c.content_version,
    )


# A reply's own columns, first in both orders below.
_OWN_COLUMNS = (
    responses.c.id,
    responses.c.session_id,
    responses.c.step_id,
    responses.c.message_id,
    responses.c.text,
    responses.c.kind,
    responses.c.reply_to,
    responses.c.posted_at,
    responses.c.edited_at,
    responses.c.language,
)
# Where a reply was posted (its text is sealed to the place).
_PLACE_COLUMNS = (responses.c.participant_id, responses.c.platform, responses.c.chat_id)
# The columns of a response row, in the order ``response_row`` unpacks them.
_RESPONSE_COLUMNS = (*_OWN_COLUMNS, *_PLACE_COLUMNS)


def responses_query(cycle_id: str | None) -> Select[Any]:
    """Responses with their person, group and session (of one cycle, or all)."""
    query = (
        select(*_RESPONSE_COLUMNS, *_context_columns())
        .join(identities, identities.c.id == responses.c.participant_id)
        .join(groups, groups.c.id == responses.c.group_id)
        .join(sessions, sessions.c.id == responses.c.session_id)
    )
    if cycle_id is not None:
        query = query.where(sessions.c.cycle_id == cycle_id)
    return query


def response_row(row: Row[Any], keys: KeyStore, people: People) -> ResponseRow:
    """A row of ``responses_query`` as a ResponseRow, its text and person opened."""
    # Unpacked by position: reading a Row's fields by name costs more than the rest of an
    # export's work on the reply.
    (
        response_id, session_id, step_id, message_id, sealed_text, kind, reply_to, posted_at,
        edited_at, language, participant, platform, chat, person_platform, sealed_user,
        group_platform,
        chat_id, title, cycle_id, script_id, script_version, content_version,
    ) = cast(Sequence[Any], row)  # fmt: skip
    text = open_reply(keys, participant, (platform, chat, message_id), sealed_text)
    return ResponseRow(
        response_id,
        people(participant, person_platform, sealed_user),
        GroupRef(group_platform, chat_id),
        title,
        session_id,
        cycle_id,
        script_id,
        script_version,
        step_id,
        message_id,
        text,
        kind,
        reply_to,
        posted_at,
        edited_at,
        content_version,
        language,
    )


async def iter_responses(
    engine: AsyncEngine, cycle_id: str | None, batch_size: int
) -> AsyncIterator[ResponseRow]:
    """Yield every response (of one cycle, or all), oldest first by id."""
    keys = keys_of(engine)
    people = People(keys)
    async for page in _pages(
        engine, responses_query(cycle_id), responses.c.id, batch_size, typed_rows
    ):
        for row in page:
            yield response_row(row, keys, people)


async def iter_votes(
    engine: AsyncEngine, cycle_id: str | None, batch_size: int
) -> AsyncIterator[VoteRow]:
    """Yield every vote (of one cycle, or all), oldest first by id."""
    query = (
        select(votes, *_context_columns())
        .join(identities, identities.c.id == votes.c.participant_id)
        .join(groups, groups.c.id == votes.c.group_id)
        .join(sessions, sessions.c.id == votes.c.session_id)
    )
    if cycle_id is not None:
        query = query.where(sessions.c.cycle_id == cycle_id)
    people = People(keys_of(engine))
    async for page in _pages(engine, query, votes.c.id, batch_size, typed_rows):
        people.page(row.participant_id for row in page)
        for row in page:
            yield VoteRow(
                vote_id=row.id,
                person=people(row.participant_id, row.person_platform, row.sealed_user_id),
                group=GroupRef(row.group_platform, row.group_chat_id),
                group_title=row.title,
                session_id=row.session_id,
                cycle_id=row.cycle_id,
                script_id=row.script_id,
                script_version=row.script_version,
                step_id=row.step_id,
                options=decode_options(row.options),
                cast_at=row.cast_at,
                content_version=row.content_version,
            )


async def iter_participants(
    engine: AsyncEngine, cycle_id: str | None, batch_size: int
) -> AsyncIterator[ParticipantRow]:
    """Yield each (person, group) consent; for a cycle, only people who contributed to it."""
    query = (
        select(
            consents,
            *scope_flags(consents.c.participant_id, consents.c.group_id),
            identities.c.platform.label("person_platform"),
            identities.c.sealed_user_id,
            groups.c.platform.label("group_platform"),
            groups.c.chat_id.label("group_chat_id"),
            groups.c.title,
        )
        .join(identities, identities.c.id == consents.c.participant_id)
        .join(groups, groups.c.id == consents.c.group_id)
    )
    if cycle_id is not None:
        query = query.where(
            exists()
            .where(
                responses.c.participant_id == consents.c.participant_id,
                responses.c.group_id == consents.c.group_id,
                sessions.c.id == responses.c.session_id,
                sessions.c.cycle_id == cycle_id,
            )
            .correlate(consents)
            | exists()
            .where(
                votes.c.participant_id == consents.c.participant_id,
                votes.c.group_id == consents.c.group_id,
                sessions.c.id == votes.c.session_id,
                sessions.c.cycle_id == cycle_id,
            )
            .correlate(consents)
        )
    people = People(keys_of(engine))
    async for page in _pages(engine, query, consents.c.id, batch_size, typed_rows):
        people.page(row.participant_id for row in page)
        for row in page:
            yield ParticipantRow(
                person=people(row.participant_id, row.person_platform, row.sealed_user_id),
                group=GroupRef(row.group_platform, row.group_chat_id),
                group_title=row.title,
                scopes=scopes_of(row._mapping),
                consent_version=row.consent_version,
                text_hash=row.text_hash,
                given_at=row.given_at,
            )


# A reply's own columns and its author, in the order ``reply_batch`` unpacks them (and
# ``storage.datasets``); the rest of its context is its session's.
REPLY_COLUMNS = (
    *_OWN_COLUMNS,
    identities.c.platform,
    identities.c.sealed_user_id,
    *_PLACE_COLUMNS,
)


@dataclass(frozen=True, slots=True)
class ReplyBatch:
    """A page of replies as columns, their texts opened, with the people they name.

    ``columns`` holds, in this order: ``response_id`` (int64), ``session_id``, ``participant``
    (int64, the identity row: look the person up in ``people``), ``step_id``, ``message_id``,
    ``text`` (opened), ``kind``, ``reply_to``, ``posted_at`` and ``edited_at`` (timestamps,
    UTC), ``content_version`` (the version the person answered) and ``language`` (the one the
    bot spoke to the person in; None from before languages were recorded). A reply's group,
    cycle and script are its session's. Give ``participant`` and ``people`` to
    ``exporters.pseudonymise.Naming.pseudonyms`` for a column of pseudonyms.
    """

    columns: pa.RecordBatch
    people: Mapping[int, PersonRef]


def reply_batch(
    rows: Sequence[Sequence[Any]],
    keys: KeyStore,
    people: People,
    version: Callable[[str, PersonRef], str | None],
) -> ReplyBatch:
    """A page of reply rows (``REPLY_COLUMNS``, as ``driver_rows`` reads them) as a ReplyBatch.

    ``version`` gives the content version a person answered in a session (asked once for
    each session and person of the page). The keys of the page's people must be loaded
    (``KeyStore.preload``); the texts are opened here, a page at a time.
    """
    import pyarrow as pa

    (
        ids, session_ids, step_ids, message_ids, sealed, kinds, reply_to, posted, edited,
        languages, platforms, sealed_users, participants, message_platforms, chats,
    ) = (list(column) for column in zip(*rows, strict=True)) if rows else ([],) * 15  # fmt: skip
    messages = zip(message_platforms, chats, message_ids, strict=True)
    texts = open_replies(keys, participants, messages, sealed)
    found: dict[int, PersonRef] = {}
    for participant, platform, sealed_user in zip(
        participants, platforms, sealed_users, strict=True
    ):
        if participant not in found:
            found[participant] = people(participant, platform, sealed_user)
    versions: dict[tuple[str, int], str | None] = {}
    for key in zip(session_ids, participants, strict=True):
        if key not in versions:
            versions[key] = version(key[0], found[key[1]])
    answered = [versions[key] for key in zip(session_ids, participants, strict=True)]
    columns = pa.RecordBatch.from_arrays(
        [
            pa.array(ids, pa.int64()),
            pa.array(session_ids, pa.string()),
            pa.array(participants, pa.int64()),
            pa.array(step_ids, pa.string()),
            pa.array(message_ids, pa.string()),
            pa.array(texts, pa.string()),
            pa.array(kinds, pa.string()),
            pa.array(reply_to, pa.string()),
            arrow_times(posted),
            arrow_times(edited),
            pa.array(answered, pa.string()),
            pa.array(languages, pa.string()),
        ],
        names=list(REPLY_BATCH_NAMES),
    )
    return ReplyBatch(columns, found)


def arrow_times(values: Sequence[Any]) -> pa.Array:
    """Times as ``driver_rows`` reads them (SQLite's UTC text, aware datetimes) in Arrow, UTC."""
    import pyarrow as pa

    found = pa.array(values)
    if not pa.types.is_timestamp(found.type):
        # SQLite's "2025-03-01 18:20:00[.ffffff]", stored in UTC (``storage.tables``).
        found = found.cast(pa.timestamp("us"))
    return found.cast(pa.timestamp("us", "UTC"))


REPLY_BATCH_NAMES = (
    "response_id", "session_id", "participant", "step_id", "message_id", "text", "kind",
    "reply_to", "posted_at", "edited_at", "content_version", "language",
)  # fmt: skip
