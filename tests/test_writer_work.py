"""The capture writer's work a reply: what its statements bind, and how texts are sealed."""

from __future__ import annotations

import hmac
import random
import sqlite3
from datetime import UTC, datetime, timedelta, timezone
from functools import partial
from pathlib import Path
from typing import Any

import pytest
from sqlalchemy import event, func, select
from sqlalchemy.dialects import sqlite
from sqlalchemy.ext.asyncio import AsyncEngine
from sqlalchemy.sql import ClauseElement

from bot.core.captures import ResponseCaptured
from storage import sealed
from storage._bulk import _numbered, execute_many, first_row
from storage._erased import Marks
from storage._replies import Known, _add, reply_row, store_replies
from storage.db import for_writes, make_engine
from storage.keystore import PREFIX, KeyGone, KeyStore
from storage.tables import UTCDateTime, groups, responses
from tests.support.capture import STORE_KEY, at, at_a_prompt, group, person, running

G1 = group("g1")
ALICE = person("ALICE-UID-5e0c")


async def test_a_reply_insert_binds_its_words_sealed_and_its_mark_as_bytes(
    migrated_url: str,
) -> None:
    async with running(migrated_url, [G1]) as bot:
        await at_a_prompt(bot, G1, ALICE)
        (session,) = await bot.store.live_sessions()
        words = "ALICE-WORDS-77aa the clinic should ask"
        reply = ResponseCaptured(
            session.session_id or "", ALICE, G1, "first-thoughts", "m1", words, at(1)
        )
        bound: list[tuple[Any, ...]] = []

        def record(
            conn: Any, cursor: Any, sql: str, parameters: Any, context: Any, many: bool
        ) -> None:
            if sql.startswith("INSERT INTO responses"):
                bound.extend(tuple(row) for row in (parameters if many else [parameters]))

        event.listen(bot.engine.sync_engine, "before_cursor_execute", record)
        marks = Marks(STORE_KEY)
        async with for_writes(bot.engine).begin() as conn:
            stored = await store_replies(conn, [reply_row(reply)], marks, Known())
        assert list(stored) == [(G1.platform, G1.chat_id, "m1")]
        (row,) = bound
        # Neither the plain words nor the plain user id goes to the database: their row's own
        # values are named apart from what the statement takes.
        assert words not in row and ALICE.user_id not in row
        assert any(isinstance(v, str) and v.startswith(PREFIX) for v in row)
        # The mark goes as the bytes it is (not wrapped in the driver's Binary, a memoryview
        # that sqlite3 searches an adapter for), and still keeps an erased message out.
        (mark,) = [v for v in row if isinstance(v, bytes | bytearray | memoryview)]
        assert type(mark) is bytes and mark == marks.of(G1.platform, G1.chat_id, "m1")
        # The chat and message the statement names three times each are bound once: 15
        # values, not 21 (SQLite's ``?3``, as PostgreSQL's ``$3``).
        assert len(row) == 15
        assert row.count(G1.chat_id) == 1 and row.count("m1") == 1


def test_texts_sealed_together_open_each_in_its_own_place_only(tmp_path: Path) -> None:
    keys = KeyStore(tmp_path / "keys")
    keys.ensure([1, 2])
    places = [sealed.reply(1, ("t", "c", "m1")), sealed.reply(2, ("t", "c", "m2"))] * 2
    texts = ["first words", "second", "first words", "second"]
    together = keys.seal_all([1, 2, 1, 2], texts, places)
    assert [
        keys.open(p, s, c) for p, s, c in zip([1, 2, 1, 2], together, places, strict=True)
    ] == texts
    # Each has a nonce of its own: the same words in the same place seal differently.
    assert len(set(together)) == 4 and together[0] != together[2]
    assert keys.seal_all([], [], []) == []
    with pytest.raises(KeyGone):
        keys.open(1, together[0], places[1])  # another row's place
    with pytest.raises(KeyGone):
        keys.open(2, together[0], places[0])  # another person's key


async def test_a_bulk_statement_converts_each_time_also_where_rows_share_one(
    migrated_url: str,
) -> None:
    engine = make_engine(migrated_url)
    try:
        shared, other = at(1), at(2)
        equal = shared + timedelta(0)  # equal to the shared one, another object
        times = [shared, shared, other, shared, equal, other + timedelta(microseconds=1)]
        await _write_groups_created_at(engine, times)
        async with engine.connect() as conn:
            result = await conn.execute(select(groups.c.chat_id, groups.c.created_at))
            found = {chat: created for chat, created in result}
        assert [found[f"chat{n}"] for n in range(len(times))] == times
    finally:
        await engine.dispose()


def test_sqlite_binds_none_and_bytes_as_they_are_through_adapters_found_at_once(
    tmp_path: Path,
) -> None:
    make_engine(f"sqlite+aiosqlite:///{tmp_path}/test.db")
    # Registered: found by one look-up, not the search that formats and drops an error.
    assert (type(None), sqlite3.PrepareProtocol) in sqlite3.adapters
    assert (bytes, sqlite3.PrepareProtocol) in sqlite3.adapters
    db = sqlite3.connect(tmp_path / "plain.db")
    db.execute("CREATE TABLE t (a, b)")
    db.execute("INSERT INTO t VALUES (?, ?)", (None, b"\x00mark\xff"))
    assert db.execute("SELECT a, typeof(a), b, typeof(b) FROM t").fetchall() == [
        (None, "null", b"\x00mark\xff", "blob")
    ]
    db.close()


@pytest.mark.parametrize("chat", ["-1001234", "канал-ü", "a\x1fb"])
def test_a_messages_mark_is_the_keyed_hash_of_its_kind_and_key_as_marks_were_always_made(
    chat: str,
) -> None:
    # Marks already stored must keep matching: the same bytes hashed, whatever makes them.
    message = b"erased-message\x1f" + "\x1f".join(("telegram", chat, "m7")).encode()
    expected = hmac.digest(STORE_KEY, message, "sha256")
    assert Marks(STORE_KEY).of("telegram", chat, "m7") == expected


def _times() -> list[datetime]:
    """Times as replies bring them: in order, many in one second, some back in time."""
    start = datetime(2025, 3, 1, 23, 59, 58, tzinfo=UTC)
    steps = random.Random(23).choices([0, 1, 7, 999, 1000, 250_000, 999_999], k=3000)
    times = [start]
    for step in steps:
        times.append(times[-1] + timedelta(microseconds=step))
    edges = [
        datetime(2025, 3, 1, 18, 0, tzinfo=UTC),  # microsecond 0: still written out
        datetime(2025, 3, 1, 18, 0, 0, 999999, tzinfo=UTC),
        datetime(2025, 3, 1, 17, 59, 59, 999999, tzinfo=UTC),  # back, one moment before
        datetime(999, 1, 2, 3, 4, 5, 6, tzinfo=UTC),  # a year of three digits
        datetime(1, 1, 1, tzinfo=UTC),
        datetime(9999, 12, 31, 23, 59, 59, 999999, tzinfo=UTC),
        datetime(2025, 3, 2, 1, 30, 0, 5, tzinfo=timezone(timedelta(hours=5, minutes=30))),
        datetime(2025, 3, 1, 15, 0, 0, 5, tzinfo=timezone(timedelta(hours=-8))),
    ]
    return times + edges + times[::-7]


def test_sqlite_writes_each_time_as_isoformat_does_whatever_came_before() -> None:
    dialect = sqlite.dialect()
    bound = UTCDateTime().dialect_impl(dialect).bind_processor(dialect)
    assert bound is not None
    for moment in _times():
        utc = moment.astimezone(UTC)
        assert bound(moment) == utc.isoformat(" ", "microseconds")[:26], moment


class _Counted(datetime):
    """A time that counts how often it (or a time made from it) is formatted whole."""

    formatted = 0

    def isoformat(self, sep: str = "T", timespec: str = "auto") -> str:
        _Counted.formatted += 1
        return super().isoformat(sep, timespec)


def test_sqlite_formats_the_date_and_time_of_a_second_once_for_all_times_in_it() -> None:
    dialect = sqlite.dialect()
    bound = UTCDateTime().dialect_impl(dialect).bind_processor(dialect)
    assert bound is not None
    start = _Counted(2025, 3, 1, 18, 0, 1, tzinfo=UTC)
    texts = [bound(start + timedelta(microseconds=n * 997)) for n in range(1000)]
    assert _Counted.formatted == 1
    assert texts[0] == "2025-03-01 18:00:01.000000"
    assert texts[-1] == "2025-03-01 18:00:01.996003"


async def test_times_written_in_bulk_read_back_as_they_were(migrated_url: str) -> None:
    engine = make_engine(migrated_url)
    times = _times()[::11]
    try:
        await _write_groups_created_at(engine, times)
        async with engine.connect() as conn:
            result = await conn.execute(select(groups.c.chat_id, groups.c.created_at))
            found = {chat: created for chat, created in result}
            if engine.dialect.name == "sqlite":  # the text stored, as SQLAlchemy writes it
                stored = dict(
                    (await conn.exec_driver_sql("SELECT chat_id, created_at FROM groups")).all()
                )
                assert [stored[f"chat{n}"] for n in range(len(times))] == [
                    when.astimezone(UTC).isoformat(" ", "microseconds")[:26] for when in times
                ]
        assert [found[f"chat{n}"] for n in range(len(times))] == times
    finally:
        await engine.dispose()


async def _write_groups_created_at(engine: AsyncEngine, times: list[datetime]) -> None:
    """One group a time, ``chat{n}`` created at ``times[n]``, written in one bulk statement."""
    rows = [("t", f"chat{n}", when) for n, when in enumerate(times)]
    async with for_writes(engine).begin() as conn:
        await execute_many(
            conn,
            "groups",
            partial(_add, conn, groups, "chat_id"),
            ("platform", "chat_id", "created_at"),
            rows,
        )


def test_a_statement_is_numbered_only_where_each_question_mark_is_a_parameter() -> None:
    assert _numbered("SELECT ? WHERE a = ? AND b = ?", ("x", "y", "x")) == (
        "SELECT ?1 WHERE a = ?2 AND b = ?1",
        ("x", "y"),
    )
    # A question mark in a literal: left as it is, bound by position as before.
    literal = "SELECT '?', ? WHERE a = ?"
    assert _numbered(literal, ("x", "x")) == (literal, ("x", "x"))


async def test_a_statement_of_every_batch_is_built_once_and_sent_with_its_constants(
    migrated_url: str,
) -> None:
    engine = make_engine(migrated_url)
    built: list[str] = []
    sent: list[tuple[str, Any]] = []

    def last() -> ClauseElement:
        built.append("last")
        return select(func.coalesce(func.max(responses.c.id), 41) + 1)

    def record(conn: Any, cursor: Any, sql: str, parameters: Any, *_: Any) -> None:
        sent.append((sql, parameters))

    event.listen(engine.sync_engine, "before_cursor_execute", record)
    try:
        async with engine.connect() as conn:
            found = [await first_row(conn, f"test {migrated_url}", last) for _ in range(3)]
        assert found == [(42,)] * 3
        assert built == ["last"]  # built and compiled for the first only
        assert all("41" in sql and not parameters for sql, parameters in sent[-3:])
    finally:
        await engine.dispose()
