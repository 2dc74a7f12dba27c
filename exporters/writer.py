"""The one interface every export format implements, and what the walk feeds it.

The walk (``exporters.walk``) reads the export once and hands every format the same batches:
table rows as Arrow record batches, each session's story (steps, cards, runs of replies as
columns) in time order, the Polis ballots as columns. A format takes what it writes and keeps
no more than a batch; ``finish`` closes its files. The formats are listed once, in
``exporters.formats.FORMATS``; adding one is a module there and an entry in the list.
"""

from __future__ import annotations

from collections.abc import Callable, Mapping, Sequence
from dataclasses import dataclass, field
from datetime import datetime
from pathlib import Path
from typing import TYPE_CHECKING, Protocol

if TYPE_CHECKING:
    import numpy as np
    import pyarrow as pa

    from exporters.codebook import Codebook
    from exporters.polis import Ballots, Conversation
    from exporters.qdpx import Value
    from exporters.schema import Table


@dataclass(frozen=True)
class Start:
    """What a format may know before the first row: where, which tables, for whom."""

    out: Path
    profile: str
    tables: tuple[Table, ...]
    codebook: Codebook
    export_id: int
    cycle: str | None
    now: datetime
    ballots: Ballots
    conversation: Conversation

    @property
    def public(self) -> bool:
        """Whether this is the public profile (no participant-level data)."""
        return self.profile == "public"


@dataclass(frozen=True)
class SessionPart:
    """A session begins: what its transcript and source say about it."""

    name: str
    group: str
    cycle: str | None
    script_id: str | None
    script_version: str | None
    # The content version as the tables show it (``exporters.codebook.short``).
    content_version: str | None
    started_at: datetime | None
    ended_at: datetime | None


@dataclass
class Replies:
    """A run of one session's replies (no step or card between them), as columns."""

    refs: list[int] = field(default_factory=list)
    steps: list[tuple[str, str]] = field(default_factory=list)
    speakers: list[str | None] = field(default_factory=list)
    texts: list[str] = field(default_factory=list)
    # UTC, naive (made in bulk from a page's column).
    posted: list[datetime] = field(default_factory=list)
    edited: list[bool] = field(default_factory=list)

    def __len__(self) -> int:
        return len(self.refs)


@dataclass
class Casts:
    """Polis ballots as cast (voter, statement, coded vote, when), as columns."""

    voters: list[int] = field(default_factory=list)
    comments: list[int] = field(default_factory=list)
    votes: list[int] = field(default_factory=list)
    at: list[datetime] = field(default_factory=list)

    def __len__(self) -> int:
        return len(self.voters)


@dataclass(frozen=True)
class Ending:
    """What is found only after every row went by: themes and opinion groups."""

    # (name, description, reply refs) of each theme.
    themes: Sequence[tuple[str, str, np.ndarray]]
    # Polis voter id -> opinion group, numbered from 0.
    polis_groups: Mapping[int, int]


class Writer(Protocol):
    """One export format.

    Each method's default ignores its input: a format subclasses this and overrides only
    what it writes.
    """

    def rows(self, table: str, batch: pa.RecordBatch) -> None:
        """A batch of a table's rows, columns in the table's order."""
        return None

    def cases(self, cases: Mapping[str, Mapping[str, Value]]) -> None:
        """The participants, each with the variables of their case (research profile)."""
        return None

    def session(self, part: SessionPart) -> None:
        """A session begins; its steps, cards and replies follow in time order."""
        return None

    def step(self, position: int, step_id: str, text: str, at: datetime) -> None:
        """A step put in front of the group (``position`` counts from 1)."""
        return None

    def card(self, card_id: str, version: str, title: str, at: datetime) -> None:
        """A resource card shown to the group."""
        return None

    def replies(self, batch: Replies) -> None:
        """Replies of the open session, in order."""
        return None

    def end_session(self) -> None:
        """The open session is over."""
        return None

    def casts(self, batch: Casts) -> None:
        """Polis ballots as cast."""
        return None

    def finish(self, ending: Ending) -> dict[Path, int]:
        """Close every file; returns the files whose rows are counted, with their counts."""
        return {}


# A format: given the start of an export, its writer, or None when the profile has no use for it.
Format = Callable[[Start], Writer | None]


class Writers:
    """Every writer of one export, called in the order of ``FORMATS``."""

    def __init__(self, start: Start, formats: Sequence[Format]) -> None:
        self._all = [w for w in (make(start) for make in formats) if w is not None]

    def rows(self, table: str, batch: pa.RecordBatch) -> None:
        """See :meth:`Writer.rows`."""
        for writer in self._all:
            writer.rows(table, batch)

    def cases(self, cases: Mapping[str, Mapping[str, Value]]) -> None:
        """See :meth:`Writer.cases`."""
        for writer in self._all:
            writer.cases(cases)

    def session(self, part: SessionPart) -> None:
        """See :meth:`Writer.session`."""
        for writer in self._all:
            writer.session(part)

    def step(self, position: int, step_id: str, text: str, at: datetime) -> None:
        """See :meth:`Writer.step`."""
        for writer in self._all:
            writer.step(position, step_id, text, at)

    def card(self, card_id: str, version: str, title: str, at: datetime) -> None:
        """See :meth:`Writer.card`."""
        for writer in self._all:
            writer.card(card_id, version, title, at)

    def replies(self, batch: Replies) -> None:
        """See :meth:`Writer.replies`."""
        if batch:
            for writer in self._all:
                writer.replies(batch)

    def end_session(self) -> None:
        """See :meth:`Writer.end_session`."""
        for writer in self._all:
            writer.end_session()

    def casts(self, batch: Casts) -> None:
        """See :meth:`Writer.casts`."""
        if batch:
            for writer in self._all:
                writer.casts(batch)

    def finish(self, ending: Ending) -> dict[Path, int]:
        """Finish every writer, and let each go; every counted file with its rows.

        What a writer kept for its finish (REFI-QDA's cases, 8 bytes a reply) is not kept
        for the rest of the export (the report, the manifest).
        """
        counted: dict[Path, int] = {}
        finishing, self._all = self._all, []
        for writer in finishing:
            counted.update(writer.finish(ending))
        return counted


class TableFile(Protocol):
    """One table's file in one format."""

    path: Path

    def write(self, batch: pa.RecordBatch) -> None:
        """Append a batch of rows."""

    def close(self) -> None:
        """Finish the file."""


class TableFiles(Writer):
    """A format that writes each table of the profile to a file of its own."""

    def __init__(self, start: Start, open_file: Callable[[Path, Table], TableFile]) -> None:
        self._files = {t.name: open_file(start.out, t) for t in start.tables}
        self._rows = dict.fromkeys(self._files, 0)

    def rows(self, table: str, batch: pa.RecordBatch) -> None:
        """Append the batch to the table's file."""
        self._files[table].write(batch)
        self._rows[table] += batch.num_rows

    def finish(self, ending: Ending) -> dict[Path, int]:
        """Close every file (an empty table still gets its header or schema)."""
        for file in self._files.values():
            file.close()
        return {file.path: self._rows[name] for name, file in self._files.items()}
