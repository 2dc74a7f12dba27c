"""Bulk statements for the capture hot path: SQLAlchemy Core writes the SQL, the driver runs it.

Executing a Core ``insert()`` with a list of rows spends 10-15 µs of Python per row building
and processing parameters, which caps capture at a few thousand replies a second. Here each
statement is compiled once per dialect; a batch then costs one tuple per row, with only the
values that need it (timestamps) passed through their type's bind processor.
"""

from __future__ import annotations

from collections.abc import Callable, Sequence
from dataclasses import dataclass
from operator import itemgetter
from typing import TYPE_CHECKING, Any

from sqlalchemy import Dialect, LargeBinary
from sqlalchemy.sql import ClauseElement
from sqlalchemy.sql.compiler import SQLCompiler
from sqlalchemy.types import TypeEngine

if TYPE_CHECKING:
    from sqlalchemy.ext.asyncio import AsyncConnection

_Processor = Callable[[Any], Any]


@dataclass(frozen=True, slots=True)
class _Prepared:
    sql: str
    pick: Callable[[Sequence[Any]], tuple[Any, ...]]  # a row's values in parameter order
    processors: tuple[tuple[int, _Processor], ...]  # parameters that need converting


_cache: dict[tuple[str, str, int], _Prepared] = {}
_queries: dict[tuple[str, str], str] = {}  # first_row's statements, by dialect and key


def _prepare(
    dialect: Dialect,
    key: str,
    build: Callable[[int], ClauseElement],
    fields: Sequence[str],
    rows: int,
) -> _Prepared:
    cached = _cache.get((dialect.name, key, rows))
    if cached is not None:
        return cached
    compiled = build(rows).compile(dialect=dialect)
    assert isinstance(compiled, SQLCompiler), "bulk statements are SQL statements"
    if compiled.positiontup is None:
        raise TypeError(f"{dialect.name}: bulk statements need positional parameters")
    sql, names = compiled.string, tuple(compiled.positiontup)
    if dialect.paramstyle == "qmark":
        sql, names = _numbered(sql, names)
    first = names[: len(names) // rows]
    # A statement of several rows names its parameters per row ("chat_id_m0", "chat_id_m1").
    order = tuple(fields.index(name if name in fields else name[:-3]) for name in first)
    processors = tuple(
        (position, process)
        for position, name in enumerate(first)
        if (process := _processor(compiled.binds[name].type, dialect))
    )
    # itemgetter of one index gives the value, not a tuple of it; a slice keeps the tuple.
    pick = itemgetter(*order) if len(order) > 1 else itemgetter(slice(order[0], order[0] + 1))
    prepared = _Prepared(sql, pick, processors)
    _cache[(dialect.name, key, rows)] = prepared
    return prepared


def _numbered(sql: str, names: tuple[str, ...]) -> tuple[str, tuple[str, ...]]:
    """The statement with its ``?`` numbered (``?3``): a value it takes twice is bound once.

    A reply's insert names its platform, chat and message two or three times each (21
    parameters, 15 values). ``?3`` is SQLite's own form, which Python's ``sqlite3`` binds by
    position without a warning (it warns of ``:3``, a name). Only where every ``?`` is a
    parameter (none is in a literal).
    """
    pieces = sql.split("?")
    if len(pieces) != len(names) + 1:
        return sql, names
    number = {name: n for n, name in enumerate(dict.fromkeys(names), 1)}
    numbered = "".join(
        f"?{number[name]}{piece}" for name, piece in zip(names, pieces[1:], strict=True)
    )
    return pieces[0] + numbered, tuple(number)


def _processor(kind: TypeEngine[Any], dialect: Dialect) -> _Processor | None:
    """What converts a parameter of this type for the driver, if anything must.

    Bytes go as they are: every driver binds them as binary, and the processor of
    ``LargeBinary`` wraps them in the driver's ``Binary`` (sqlite3's is a memoryview, which the
    module then searches an adapter for the slow way: a mark of a message, for every reply).
    """
    if isinstance(kind, LargeBinary):
        return None
    return kind.dialect_impl(dialect).bind_processor(dialect)


def _values(prepared: _Prepared, row: Sequence[Any], last: list[tuple[Any, Any]]) -> Sequence[Any]:
    if not prepared.processors:
        return prepared.pick(row)
    values = list(prepared.pick(row))
    for slot, (position, process) in enumerate(prepared.processors):
        # Rows of a batch often share one timestamp (created_at, handled_at), the same object:
        # converted once. Compared by identity: hashing a time costs more than converting it,
        # and the replies' own times (posted_at) all differ.
        value = values[position]
        if last[slot][0] is not value:
            last[slot] = (value, process(value))
        values[position] = last[slot][1]
    return values


def _last(prepared: _Prepared) -> list[tuple[Any, Any]]:
    """For ``_values``: each processor's last value and what it became (none yet)."""
    nothing = object()
    return [(nothing, None)] * len(prepared.processors)


async def execute_many(
    conn: AsyncConnection,
    key: str,
    build: Callable[[], ClauseElement],
    fields: Sequence[str],
    rows: Sequence[Sequence[Any]],
) -> int:
    """Run ``build()`` once per row; each row holds the values of ``fields`` in that order.

    ``fields`` are the names of the statement's bound parameters (``bindparam`` names).
    Returns the rows the statements changed, as the driver counts them (-1: it does not).
    """
    if not rows:
        return 0
    prepared = _prepare(conn.dialect, key, lambda _: build(), fields, 1)
    last = _last(prepared)
    result = await conn.exec_driver_sql(
        prepared.sql, [tuple(_values(prepared, row, last)) for row in rows]
    )
    return int(result.rowcount)


async def first_row(
    conn: AsyncConnection, key: str, build: Callable[[], ClauseElement]
) -> tuple[Any, ...] | None:
    """The first row of ``build()``, a statement that takes no values, or None.

    Compiled once per dialect, its constants written into the SQL: the writer runs such a
    statement or two for every batch, and SQLAlchemy's own way spends more on building,
    keying and wrapping it than the database spends running it.
    """
    sql = _queries.get((conn.dialect.name, key))
    if sql is None:
        compiled = build().compile(dialect=conn.dialect, compile_kwargs={"literal_binds": True})
        sql = _queries[(conn.dialect.name, key)] = compiled.string
    row = (await conn.exec_driver_sql(sql)).first()
    return None if row is None else tuple(row)


async def execute_returning(
    conn: AsyncConnection,
    key: str,
    build: Callable[[int], ClauseElement],
    fields: Sequence[str],
    rows: Sequence[Sequence[Any]],
) -> list[tuple[Any, ...]]:
    """Run ``build(n)``, one statement of n rows with RETURNING, for all ``rows`` at once.

    Statements are compiled for row counts that are powers of two, and the last row repeats
    to fill one up, so ``build`` must make a repeated row harmless (ON CONFLICT DO NOTHING).
    """
    if not rows:
        return []
    size = 1 << (len(rows) - 1).bit_length()
    prepared = _prepare(conn.dialect, key, build, fields, size)
    filled = [*rows, *[rows[-1]] * (size - len(rows))]
    last = _last(prepared)
    flat = tuple(value for row in filled for value in _values(prepared, row, last))
    result = await conn.exec_driver_sql(prepared.sql, flat)
    return [tuple(row) for row in result]
