"""The first export: responses, votes and participants as CSV, pseudonymised, streamed."""

from __future__ import annotations

import csv
from collections.abc import AsyncIterator, Callable, Iterable
from datetime import datetime
from pathlib import Path

from bot.content.check import Library
from bot.content.models import SCOPES, Step
from bot.core.ids import GroupRef, PersonRef
from storage.repositories import Repository

RESPONSE_COLUMNS = (
    "response_id",
    "cycle_id",
    "group",
    "session_id",
    "script_id",
    "script_version",
    "step_id",
    "step_text",
    "participant",
    "text",
    "kind",
    "posted_at",
    "edited_at",
    "reply_to",
)
VOTE_COLUMNS = (
    "vote_id",
    "cycle_id",
    "group",
    "session_id",
    "script_id",
    "script_version",
    "step_id",
    "participant",
    "options",
    "option_labels",
    "cast_at",
)
PARTICIPANT_COLUMNS = (
    "participant",
    "group",
    *SCOPES,
    "consent_version",
    "consent_text_hash",
    "consented_at",
)


async def export_csv(
    source: Repository,
    library: Library,
    out: Path,
    pseudonymise: Callable[[PersonRef], str],
    cycle_id: str | None,
) -> dict[str, int]:
    """Write the three tables into ``out``; returns the row count of each file."""
    out.mkdir(parents=True, exist_ok=True)
    counts: dict[str, int] = {}

    def step_of(script_id: str | None, step_id: str) -> Step | None:
        script = library.scripts.get(script_id or "")
        index = script.index_of(step_id) if script else None
        return script.steps[index] if script is not None and index is not None else None

    async def responses() -> AsyncIterator[Iterable[object]]:
        async for row in source.iter_responses(cycle_id):
            step = step_of(row.script_id, row.step_id)
            yield (
                row.response_id,
                row.cycle_id,
                _group(row.group),
                row.session_id,
                row.script_id,
                row.script_version,
                row.step_id,
                step.text if step else "",
                pseudonymise(row.person),
                row.text,
                row.kind,
                _when(row.posted_at),
                _when(row.edited_at),
                row.reply_to or "",
            )

    async def votes() -> AsyncIterator[Iterable[object]]:
        async for row in source.iter_votes(cycle_id):
            step = step_of(row.script_id, row.step_id)
            choices = step.choices() if step else ()
            labels = [choices[n - 1] for n in row.options if 0 < n <= len(choices)]
            yield (
                row.vote_id,
                row.cycle_id,
                _group(row.group),
                row.session_id,
                row.script_id,
                row.script_version,
                row.step_id,
                pseudonymise(row.person),
                ";".join(str(n) for n in row.options),
                ";".join(labels),
                _when(row.cast_at),
            )

    async def participants() -> AsyncIterator[Iterable[object]]:
        async for row in source.iter_participants(cycle_id):
            yield (
                pseudonymise(row.person),
                _group(row.group),
                *(scope in row.scopes for scope in SCOPES),
                row.consent_version,
                row.text_hash,
                _when(row.given_at),
            )

    counts["responses.csv"] = await _write(out / "responses.csv", RESPONSE_COLUMNS, responses())
    counts["votes.csv"] = await _write(out / "votes.csv", VOTE_COLUMNS, votes())
    counts["participants.csv"] = await _write(
        out / "participants.csv", PARTICIPANT_COLUMNS, participants()
    )
    return counts


async def _write(
    path: Path, columns: tuple[str, ...], rows: AsyncIterator[Iterable[object]]
) -> int:
    count = 0
    with path.open("w", encoding="utf-8", newline="") as handle:
        writer = csv.writer(handle, lineterminator="\r\n")
        writer.writerow(columns)
        async for row in rows:
            writer.writerow(row)
            count += 1
    return count


def _group(group: GroupRef) -> str:
    return f"{group.platform}:{group.chat_id}"


def _when(value: datetime | None) -> str:
    return value.isoformat() if value else ""
