"""A page of replies as the export shows it, worked out on its Arrow columns.

``Datasets.reply_batches`` gives a page of replies as columns; this turns it into the
responses table's rows (one Arrow record batch, no row built as an object) and the Python
columns the walk still needs for transcripts, REFI-QDA, counts and themes. A reply's group,
cycle, script and session name come from its session: the page's sessions are looked up once
each and spread over their rows with ``take``, as are each step's prompt and language.
"""

from __future__ import annotations

from collections.abc import Callable, Mapping, Sequence
from dataclasses import dataclass
from datetime import UTC, date, datetime, timedelta
from typing import Any, cast

import numpy as np
import pyarrow as pa
import pyarrow.compute as pc

from bot.content.models import Step
from exporters.codebook import Codebook, short
from exporters.pseudonymise import Naming
from exporters.redact import Redactor
from storage._export import ReplyBatch
from storage.dataset_records import SessionRow

_EPOCH = datetime(1970, 1, 1, tzinfo=UTC)
_MICROSECOND = timedelta(microseconds=1)


def microseconds(at: datetime) -> int:
    """A time (UTC when naive, as the database gives it) in microseconds since the epoch."""
    return ((at if at.tzinfo else at.replace(tzinfo=UTC)) - _EPOCH) // _MICROSECOND


def _spread(values: Sequence[object], indices: pa.Array, kind: pa.DataType) -> pa.Array:
    """One value per distinct key (``values``) given to each row by its key's index."""
    return pa.array(values, kind).take(indices)


def _python(times: pa.Array, unit: str) -> list[Any]:
    """UTC times as naive Python datetimes, or dates for ``datetime64[D]``.

    Through NumPy: ``to_pylist`` makes each time zone-aware, at many times the cost.
    """
    return cast(
        list[Any], times.to_numpy(zero_copy_only=False).astype(unit).astype(object).tolist()
    )


@dataclass(frozen=True)
class Steps:
    """Each (content version, script, step) of an export: its step, prompt and language."""

    codebook: Codebook
    found: dict[tuple[str | None, str | None, str], tuple[Step | None, str | None, str | None]]

    def __call__(
        self, version: str | None, script_id: str | None, step_id: str
    ) -> tuple[Step | None, str | None, str | None]:
        """The step, its prompt text and its script's language (looked up once)."""
        key = (version, script_id, step_id)
        known = self.found.get(key)
        if known is None:
            step = self.codebook.step(script_id, step_id, version)
            script = self.codebook.script(script_id, version)
            known = self.found[key] = (
                step,
                step.text if step else None,
                script.language if script else None,
            )
        return known


@dataclass(frozen=True)
class ReplyPage:
    """One page of replies: every row for counts and order, the shown rows for the writers.

    ``sessions``, ``posted``, ``groups``, ``people``, ``steps`` and ``days`` have a value per
    reply; ``shown`` numbers the rows whose words are exported, ``shown_before[i]`` is how many
    of them come before row ``i``, and ``refs`` to ``step_rows`` are those shown replies'
    columns. ``table`` holds the shown replies' rows of the responses table.
    """

    sessions: list[str]
    posted: np.ndarray
    groups: list[str]
    people: list[str]
    steps: list[tuple[str, str]]
    days: list[date]
    shown: np.ndarray
    shown_before: np.ndarray
    refs: list[int]
    speakers: list[str | None]
    texts: list[str]
    # UTC, naive (made in bulk from the page's column).
    posted_at: list[datetime]
    edited: list[bool]
    step_rows: list[Step | None]
    table: pa.RecordBatch

    def __len__(self) -> int:
        return len(self.sessions)

    def end_of_session(self, at: int) -> int:
        """Where the run of the session of row ``at`` ends in this page."""
        session = self.sessions[at]
        end = at
        while end < len(self.sessions) and self.sessions[end] == session:
            end += 1
        return end

    def first_from(self, at: int, end: int, when: datetime) -> int:
        """The first row of ``at:end`` posted at or after ``when`` (``end`` if none)."""
        later = np.flatnonzero(self.posted[at:end] >= microseconds(when))
        return at + int(later[0]) if len(later) else end


def reply_page(
    batch: ReplyBatch,
    known: Mapping[str, SessionRow],
    naming: Naming,
    redactor: Redactor,
    steps: Steps,
    shown: Callable[[str, str], bool],
    quoted: int,
    schema: pa.Schema,
) -> ReplyPage:
    """A page of ``Datasets.reply_batches`` as the export shows it.

    ``shown(person, group)`` says whether a person's words in a group are exported; ``quoted``
    is how many replies earlier pages showed (a public export numbers its quotes in order).
    """
    cols = batch.columns
    sessions = cols.column("session_id")
    by_session = pc.dictionary_encode(sessions)
    rows = [known[s] for s in by_session.dictionary.to_pylist()]
    session_names = [naming.session(s.session_id) for s in rows]
    group_names = [naming.group(s.group) for s in rows]
    script_ids = [s.script_id for s in rows]
    where = by_session.indices
    session_at = where.to_numpy(zero_copy_only=False)
    pseudonyms = naming.pseudonyms(cols.column("participant"), batch.people)
    names = pseudonyms.dictionary.to_pylist()
    people = [names[i] for i in pseudonyms.indices.to_numpy(zero_copy_only=False)]
    groups = [group_names[i] for i in session_at]
    scripts = [script_ids[i] for i in session_at]
    step_ids = cols.column("step_id").to_pylist()
    versions = cols.column("content_version").to_pylist()
    found = [steps(v, s, st) for v, s, st in zip(versions, scripts, step_ids, strict=True)]
    mask = pa.array(
        [shown(p, g) for p, g in zip(people, groups, strict=True)]
        if naming.public
        else [True] * len(people),
        pa.bool_(),
    )
    chosen = mask.to_numpy(zero_copy_only=False)
    texts, redactions = redactor.column(pc.filter(cols.column("text"), mask))
    persons = (
        naming.persons(cols.column("participant"), batch.people) if naming.public else pseudonyms
    )
    speakers = pc.filter(persons, mask)
    count = len(texts)
    refs = (
        pa.array(range(quoted + 1, quoted + 1 + count), pa.int64())
        if naming.public
        else pc.filter(cols.column("response_id"), mask)
    )
    content = pc.dictionary_encode(cols.column("content_version"))
    spread = {
        "response_id": cols.column("response_id"),
        "cycle_id": _spread([s.cycle_id for s in rows], where, pa.string()),
        "group": _spread(group_names, where, pa.string()),
        "session_id": _spread(session_names, where, pa.string()),
        "script_id": _spread(script_ids, where, pa.string()),
        "script_version": _spread([s.script_version for s in rows], where, pa.string()),
        "content_version": _spread(
            [short(v) for v in content.dictionary.to_pylist()], content.indices, pa.string()
        ),
        "step_id": cols.column("step_id"),
        "step_text": pa.array([f[1] for f in found], pa.string()),
        "language": pa.array([f[2] for f in found], pa.string()),
        "reply_language": cols.column("language"),
        "kind": cols.column("kind"),
        "posted_at": cols.column("posted_at"),
        "edited_at": cols.column("edited_at"),
        "message_id": cols.column("message_id"),
        "reply_to": cols.column("reply_to"),
    }
    table = {name: pc.filter(column, mask) for name, column in spread.items()}
    table |= {"participant": speakers, "text": texts, "redactions": redactions}
    posted = cols.column("posted_at")
    keys = [(s or "", st) for s, st in zip(scripts, step_ids, strict=True)]
    return ReplyPage(
        sessions=sessions.to_pylist(),
        posted=posted.cast(pa.int64()).to_numpy(zero_copy_only=False),
        groups=groups,
        people=people,
        steps=keys,
        days=_python(posted, "datetime64[D]"),
        shown=np.flatnonzero(chosen),
        shown_before=np.concatenate(([0], np.cumsum(chosen))).astype(np.int64),
        refs=refs.to_pylist(),
        speakers=speakers.to_pylist(),
        texts=texts.to_pylist(),
        posted_at=_python(table["posted_at"], "datetime64[us]"),
        edited=pc.is_valid(table["edited_at"]).to_pylist(),
        step_rows=[f[0] for f, show in zip(found, chosen, strict=True) if show],
        table=pa.record_batch([table[f.name].cast(f.type) for f in schema], schema=schema),
    )
