"""Every format of a dataset export, listed once: the walk feeds each of them every batch.

Adding a format is a module with an ``open_writer(start)`` (see ``exporters.writer``) and
its entry here.
"""

from __future__ import annotations

from exporters import csv_tables, parquet_tables, polis, qdpx, transcripts
from exporters.writer import Format

FORMATS: tuple[Format, ...] = (
    csv_tables.open_writer,
    parquet_tables.open_writer,
    transcripts.open_writer,
    qdpx.open_writer,
    polis.open_writer,
)
