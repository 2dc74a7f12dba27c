"""The export's own README.md: what the data is, how it was collected, what was removed."""

from __future__ import annotations

from collections.abc import Mapping, Sequence
from importlib import resources
from pathlib import Path
from string import Template

from bot.private_files import private_file
from exporters.schema import Table


def _template(name: str) -> Template:
    return Template(resources.files("exporters").joinpath(f"templates/{name}").read_text("utf-8"))


def _tables(tables: Sequence[Table]) -> str:
    parts = []
    for table in tables:
        lines = [f"### `{table.name}`", "", table.description, ""]
        lines += [f"- `{c.name}` ({c.type}): {c.description}" for c in table.columns]
        parts.append("\n".join(lines))
    return "\n\n".join(parts)


def write(
    folder: Path,
    tables: Sequence[Table],
    facts: Mapping[str, object],
    redaction: Mapping[str, int],
    threshold: int,
) -> Path:
    """Write ``README.md`` into the export folder."""
    profile = str(facts["profile"])
    kinds = ", ".join(f"{kind.replace('_', ' ')} ({n})" for kind, n in redaction.items())
    text = (
        f"free text had these details replaced by `[kind]` (count in brackets): {kinds}."
        if redaction
        else "switched off for this export; free text is as participants wrote it."
    )
    extra = (
        "- `polis/`: agree/disagree/pass statements in the layout of Polis's CSV exports "
        "(with `summary.csv`; red-dwarf's loader reads the folder).\n"
        if profile == "research"
        else ""
    )
    notes = _template(f"profile-{profile}.md").substitute(
        threshold=threshold, threshold_less=threshold - 1, export_id=facts["export_id"]
    )
    body = _template("export-readme.md").substitute(
        {str(k): str(v) for k, v in facts.items()},
        profile_notes=notes.rstrip(),
        redaction=text,
        extra_files=extra,
        tables=_tables(tables),
    )
    path = folder / "README.md"
    private_file(path).write_text(body, encoding="utf-8")
    return path
