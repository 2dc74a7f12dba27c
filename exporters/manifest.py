"""``MANIFEST.json``: every file of an export with its SHA-256 and row count, and its making."""

from __future__ import annotations

import hashlib
import json
from collections.abc import Mapping
from pathlib import Path

from bot.private_files import private_file

NAME = "MANIFEST.json"


def sha256(path: Path) -> str:
    """The SHA-256 of a file, read in blocks."""
    digest = hashlib.sha256()
    with path.open("rb") as handle:
        while block := handle.read(1 << 20):
            digest.update(block)
    return digest.hexdigest()


def write(folder: Path, rows: Mapping[Path, int], about: Mapping[str, object]) -> Path:
    """Checksum every file under ``folder`` (rows: known row counts) and write the manifest."""
    files = []
    for path in sorted(p for p in folder.rglob("*") if p.is_file() and p.name != NAME):
        files.append(
            {
                "path": path.relative_to(folder).as_posix(),
                "bytes": path.stat().st_size,
                "sha256": sha256(path),
                "rows": rows.get(path),
            }
        )
    manifest = {**about, "files": files}
    target = folder / NAME
    private_file(target).write_text(
        json.dumps(manifest, indent=2, ensure_ascii=False) + "\n", encoding="utf-8"
    )
    return target
