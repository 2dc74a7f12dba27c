"""A Frictionless Tabular Data Package describing every CSV table of an export.

The named profile ``tabular-data-package`` (not a v1 profile URL) lets the validator work
offline: a URL would make it fetch the profile's JSON Schema from the network.
"""

from __future__ import annotations

import json
from collections.abc import Mapping, Sequence
from pathlib import Path

from bot.private_files import private_file
from exporters.schema import Column, Table


def _field(column: Column) -> dict[str, object]:
    field: dict[str, object] = {
        "name": column.name,
        "type": column.type,
        "description": column.description,
    }
    if column.type == "datetime":
        # ISO 8601 with an offset and optional microseconds, as Python writes it.
        field["format"] = "any"
    constraints: dict[str, object] = {}
    if column.required:
        constraints["required"] = True
    if column.enum:
        constraints["enum"] = list(column.enum)
    if constraints:
        field["constraints"] = constraints
    return field


def resource(table: Table) -> dict[str, object]:
    """The data resource of one table's CSV file."""
    schema: dict[str, object] = {
        "fields": [_field(c) for c in table.columns],
        "missingValues": [""],
    }
    if table.primary_key:
        schema["primaryKey"] = list(table.primary_key)
    if table.foreign_keys:
        schema["foreignKeys"] = [
            {
                "fields": list(k.fields),
                "reference": {"resource": k.table, "fields": list(k.reference)},
            }
            for k in table.foreign_keys
        ]
    return {
        "name": table.name,
        "path": f"{table.name}.csv",
        "profile": "tabular-data-resource",
        "format": "csv",
        "mediatype": "text/csv",
        "encoding": "utf-8",
        "description": table.description,
        "dialect": {"delimiter": ",", "lineTerminator": "\r\n", "header": True},
        "schema": schema,
    }


def write(folder: Path, tables: Sequence[Table], about: Mapping[str, object]) -> Path:
    """Write ``datapackage.json`` for the tables (``about`` gives name, title, created...)."""
    package = {"profile": "tabular-data-package", **about}
    package["resources"] = [resource(t) for t in tables]
    path = folder / "datapackage.json"
    private_file(path).write_text(
        json.dumps(package, indent=2, ensure_ascii=False) + "\n", encoding="utf-8"
    )
    return path
