"""Every table of an export goes to CSV and Parquet at once, buffered in batches."""

from __future__ import annotations

from pathlib import Path

from exporters.csv_tables import CsvTable
from exporters.parquet_tables import ParquetTable, record_batch
from exporters.schema import Table

BATCH = 5000


class TableSink:
    """One table: rows are buffered, then written to both formats a batch at a time."""

    def __init__(self, folder: Path, table: Table, batch: int = BATCH) -> None:
        self.table = table
        self.rows = 0
        self._batch = batch
        self._buffer: list[tuple[object, ...]] = []
        self._csv = CsvTable(folder, table)
        self._parquet = ParquetTable(folder, table)

    def add(self, row: tuple[object, ...]) -> None:
        """Queue one row (values in column order; a row of the wrong width fails the batch)."""
        self._buffer.append(row)
        if len(self._buffer) >= self._batch:
            self.flush()

    def flush(self) -> None:
        """Write what is buffered."""
        if not self._buffer:
            return
        batch = record_batch(self._parquet.schema, self._buffer)
        self._csv.write(batch)
        self._parquet.write(batch)
        self.rows += len(self._buffer)
        self._buffer = []

    def close(self) -> None:
        """Write the rest and close both files."""
        self.flush()
        self._csv.close()
        self._parquet.close()

    @property
    def files(self) -> tuple[Path, Path]:
        """The CSV and Parquet files."""
        return self._csv.path, self._parquet.path


class Sinks:
    """The open tables of one export, by name."""

    def __init__(self, folder: Path, tables: tuple[Table, ...]) -> None:
        self.tables = {t.name: t for t in tables}
        self._open = {t.name: TableSink(folder, t) for t in tables}

    def __contains__(self, name: str) -> bool:
        return name in self._open

    def add(self, name: str, row: tuple[object, ...]) -> None:
        """Queue a row for a table; a table the profile does not export ignores it."""
        sink = self._open.get(name)
        if sink is not None:
            sink.add(row)

    def close(self) -> dict[Path, int]:
        """Close every table; returns each file with its row count."""
        counts: dict[Path, int] = {}
        for sink in self._open.values():
            sink.close()
            for path in sink.files:
                counts[path] = sink.rows
        return counts
