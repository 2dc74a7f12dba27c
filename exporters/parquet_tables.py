"""Parquet for one table, a record batch (one row group) at a time so memory stays flat."""

from __future__ import annotations

import sys
from collections.abc import AsyncIterator, Sequence
from contextlib import asynccontextmanager
from importlib.abc import MetaPathFinder
from pathlib import Path

import pyarrow as pa
import pyarrow.parquet as pq

from bot.private_files import private_file
from exporters.schema import Table
from exporters.writer import Start, TableFiles, Writer

_TYPES = {
    "string": pa.string(),
    "integer": pa.int64(),
    "boolean": pa.bool_(),
    "datetime": pa.timestamp("us", tz="UTC"),
    "date": pa.date32(),
}


def arrow_schema(table: Table) -> pa.Schema:
    """The Arrow schema of a table, with each column's description as field metadata."""
    return pa.schema(
        [
            pa.field(
                c.name,
                _TYPES[c.type],
                nullable=not c.required,
                metadata={"description": c.description},
            )
            for c in table.columns
        ],
        metadata={"description": table.description},
    )


@asynccontextmanager
async def without_pandas() -> AsyncIterator[None]:
    """Inside, pandas cannot be imported, unless it is loaded already.

    pyarrow imports pandas (over 30 MB resident) whenever it builds an array from Python
    objects, only to ask whether they are pandas objects and to learn pandas's missing values;
    the export never hands it one. A failed import costs pyarrow a few microseconds an array.
    """
    if "pandas" in sys.modules:
        yield
        return
    refuse = _Refuse("pandas")
    sys.meta_path.insert(0, refuse)
    try:
        yield
    finally:
        sys.meta_path.remove(refuse)


class _Refuse(MetaPathFinder):
    """Fails the import of one module, as if it were not installed."""

    def __init__(self, name: str) -> None:
        self._name = name

    def find_spec(self, name: str, *_: object) -> None:
        if name == self._name:
            raise ModuleNotFoundError(f"No module named '{name}'", name=name)


def record_batch(schema: pa.Schema, rows: Sequence[tuple[object, ...]]) -> pa.RecordBatch:
    """Rows (tuples in column order) as one Arrow record batch of the schema."""
    columns = zip(*rows, strict=True) if rows else ([] for _ in schema)
    arrays = [
        pa.array(values, type=field.type) for values, field in zip(columns, schema, strict=True)
    ]
    return pa.record_batch(arrays, schema=schema)


class ParquetTable:
    """Writes one table's record batches to ``NAME.parquet``."""

    def __init__(self, folder: Path, table: Table) -> None:
        self.path = folder / f"{table.name}.parquet"
        self.schema = arrow_schema(table)
        self._writer = pq.ParquetWriter(private_file(self.path), self.schema, compression="zstd")

    def write(self, batch: pa.RecordBatch) -> None:
        """Append a batch as one row group."""
        self._writer.write_batch(batch)

    def close(self) -> None:
        """Finish the file (an empty table still gets its schema)."""
        self._writer.close()


def open_writer(start: Start) -> Writer:
    """The Parquet format: ``NAME.parquet`` for every table of the profile."""
    return TableFiles(start, ParquetTable)
