"""Reading exports back: a whole folder as text (are words in it or not?), a CSV table as rows."""

import csv
import zipfile
from pathlib import Path

import pyarrow.parquet as pq


def export_text(folder: Path) -> str:
    """Everything an export holds, as text: text files, Parquet rows and zip members."""
    parts = []
    for path in sorted(p for p in folder.rglob("*") if p.is_file()):
        if path.suffix == ".parquet":
            parts.append(str(pq.read_table(path).to_pylist()))
        elif path.suffix == ".qdpx":
            with zipfile.ZipFile(path) as archive:
                parts += [archive.read(n).decode("utf-8") for n in archive.namelist()]
        else:
            parts.append(path.read_text(encoding="utf-8"))
    return "\n".join(parts)


def csv_rows(path: Path) -> list[dict[str, str]]:
    """The rows of a CSV table, each by its column names."""
    with path.open(encoding="utf-8", newline="") as handle:
        return list(csv.DictReader(handle))
