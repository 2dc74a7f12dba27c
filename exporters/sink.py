"""Where the walk puts a table's rows: buffered, then handed to every format as a batch.

A batch is one Arrow record batch of ``BATCH`` rows of one table (a Parquet row group), so
no format holds more than a batch and a columnar reader can hand its batches on as they are.
"""

from __future__ import annotations

import pyarrow as pa

from exporters.parquet_tables import arrow_schema, record_batch
from exporters.schema import Table
from exporters.writer import Writers

BATCH = 5000


class Sinks:
    """The rows of an export's tables on their way to the writers, a batch at a time."""

    def __init__(self, tables: tuple[Table, ...], writers: Writers, batch: int = BATCH) -> None:
        self.tables = {t.name: t for t in tables}
        self._schemas = {t.name: arrow_schema(t) for t in tables}
        self._buffers: dict[str, list[tuple[object, ...]]] = {t.name: [] for t in tables}
        # Tables whose rows come as Arrow batches already, re-cut to ``batch`` rows.
        self._batches: dict[str, list[pa.RecordBatch]] = {t.name: [] for t in tables}
        self._writers = writers
        self._batch = batch

    def __contains__(self, name: str) -> bool:
        return name in self._buffers

    def add(self, name: str, row: tuple[object, ...]) -> None:
        """Queue a row (values in column order); a table the profile does not export ignores it."""
        buffer = self._buffers.get(name)
        if buffer is None:
            return
        buffer.append(row)
        if len(buffer) >= self._batch:
            self._flush(name)

    def schema(self, name: str) -> pa.Schema:
        """The Arrow schema of a table's batches (of the profile's table of that name)."""
        return self._schemas[name]

    def add_batch(self, name: str, batch: pa.RecordBatch) -> None:
        """Queue a batch of a table's rows, of its ``schema`` (a table not exported ignores it).

        The writers get the same batches as from ``add``: ``batch`` rows each, the last
        shorter, so a Parquet file's row groups do not depend on how its rows came.
        """
        queued = self._batches.get(name)
        if queued is None or not batch.num_rows:
            return
        queued.append(batch)
        if sum(b.num_rows for b in queued) >= self._batch:
            rows = pa.Table.from_batches(queued).combine_chunks()
            whole = rows.num_rows - rows.num_rows % self._batch
            for at in range(0, whole, self._batch):
                self._writers.rows(name, rows.slice(at, self._batch).to_batches()[0])
            rest = rows.slice(whole)
            self._batches[name] = rest.to_batches() if rest.num_rows else []

    def _flush(self, name: str) -> None:
        rows = self._buffers[name]
        if rows:
            self._writers.rows(name, record_batch(self._schemas[name], rows))
            self._buffers[name] = []
        queued = self._batches[name]
        if queued:
            self._writers.rows(name, pa.Table.from_batches(queued).combine_chunks().to_batches()[0])
            self._batches[name] = []

    def flush(self) -> None:
        """Hand every table's last rows to the writers (a row of the wrong width fails here)."""
        for name in self._buffers:
            self._flush(name)
