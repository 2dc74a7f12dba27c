"""Where the walk puts a table's rows: buffered, then handed to every format as a batch.

A batch is one Arrow record batch of ``BATCH`` rows of one table (a Parquet row group), so
no format holds more than a batch and a columnar reader can hand its batches on as they are.
"""

from __future__ import annotations

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

    def _flush(self, name: str) -> None:
        rows = self._buffers[name]
        if rows:
            self._writers.rows(name, record_batch(self._schemas[name], rows))
            self._buffers[name] = []

    def flush(self) -> None:
        """Hand every table's last rows to the writers (a row of the wrong width fails here)."""
        for name in self._buffers:
            self._flush(name)
