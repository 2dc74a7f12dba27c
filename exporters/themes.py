"""Themes in a cycle's open replies, found offline, named by their words, quoted with consent.

Replies to prompts are clustered with scikit-learn alone (no network, no hosted model), in the
analyses' own process (``exporters.analyses``, ``exporters.theme_fit``), fitted on a fixed
sample of at most 20,000 replies (``sample``); the replies wait on disk (``OpenReplies``) and
every reply then joins its nearest theme a batch at a time, so memory does not grow with the
cycle. A theme is named by the words that set it apart most in the sample: the highest mean
weight inside it less the mean outside; those words, joined by "-", are its id.
Quotes come only from people who agreed to ``quote``, redacted as every export's text is, and only
replies that say something (``heard_card.worth_quoting``), nearest the theme's centre first,
one per person. Counts of people and replies go through the disclosure policy (``register``).

Staff rename, merge or drop themes in a TOML file (``load_edits``) that the next export
applies; a theme it names that the export does not find is an error naming the file, the
theme and what to do, never silently ignored.
"""

from __future__ import annotations

import tempfile
import tomllib
from collections.abc import Callable, Iterator, Sequence
from dataclasses import dataclass, replace
from pathlib import Path

import numpy as np
import pyarrow as pa
from pydantic import BaseModel, ConfigDict, ValidationError

from exporters.disclosure import Disclosure, Key, Ledger
from exporters.redact import one_line
from exporters.theme_fit import RANDOM_STATE, Placed

# Fewer open replies than this make no themes: there is nothing to set apart.
FEWEST_REPLIES = 6
QUOTES = 3
# k-means is fitted on at most this many replies (a fixed sample); the rest join the nearest.
FIT_SAMPLE = 20_000
ALL_REPLIES: Key = ("themes", "replies")


@dataclass(frozen=True, slots=True)
class Details:
    """Each open reply's number, author (as a number) and whether it may be quoted."""

    refs: np.ndarray
    authors: np.ndarray
    quotable: np.ndarray


class OpenReplies:
    """Replies to prompts as the export shows them (redacted), gathered as the walk streams by.

    Each reply's text, number (in the .qdpx: the reply id, or a public export's quote number),
    author and whether it may be quoted (the author agreed and it says something) wait in a
    temporary file (Arrow IPC, deleted when closed), read back a batch at a time; memory holds
    a batch and a number for each author, nothing a reply.
    """

    BATCH = 8192
    _SCHEMA = pa.schema(
        [
            ("text", pa.string()),
            ("ref", pa.int64()),
            ("author", pa.int32()),
            ("quotable", pa.bool_()),
        ]
    )

    def __init__(self, enough: Callable[[], object] = lambda: None) -> None:
        # Called once, when there are replies enough for themes (the analyses' process starts).
        self._enough = enough
        self._file = tempfile.TemporaryFile()
        self._writer: pa.ipc.RecordBatchStreamWriter | None = None
        self._people: dict[str, int] = {}
        self._count = 0
        self._batch: tuple[list[str], list[int], list[int], list[bool]] = ([], [], [], [])

    def __len__(self) -> int:
        return self._count

    def extend(
        self,
        refs: Sequence[int],
        people: Sequence[str],
        texts: Sequence[str],
        quotable: Sequence[bool],
    ) -> None:
        """Replies in order: each one's number, author, text and whether it may be quoted."""
        at = 0
        while at < len(refs):
            batch = self._batch
            end = min(len(refs), at + self.BATCH - len(batch[0]))
            batch[0].extend(texts[at:end])
            batch[1].extend(refs[at:end])
            named = self._people
            batch[2].extend([named.setdefault(person, len(named)) for person in people[at:end]])
            batch[3].extend(quotable[at:end])
            before, self._count = self._count, self._count + end - at
            if before < FEWEST_REPLIES <= self._count:
                self._enough()
            if len(batch[0]) == self.BATCH:
                self._flush()
            at = end

    def _flush(self) -> None:
        if not self._batch[0]:
            return
        columns = [pa.array(c, f.type) for c, f in zip(self._batch, self._SCHEMA, strict=True)]
        if self._writer is None:
            self._writer = pa.ipc.new_stream(self._file, self._SCHEMA)
        self._writer.write_batch(pa.record_batch(columns, schema=self._SCHEMA))
        self._batch = ([], [], [], [])

    def _read(self) -> Iterator[pa.RecordBatch]:
        """Every batch written, in order."""
        self._flush()
        if self._writer is None:
            return
        self._file.seek(0)
        yield from pa.ipc.open_stream(self._file)
        self._file.seek(0, 2)

    def batches(self) -> Iterator[tuple[int, pa.StringArray]]:
        """The texts in order, a batch at a time, with the number of the batch's first reply."""
        start = 0
        for batch in self._read():
            yield start, batch.column(0)
            start += batch.num_rows

    def texts(self, rows: np.ndarray) -> list[str]:
        """The texts of the replies numbered ``rows`` (ascending), in that order."""
        found: list[str] = []
        for start, texts in self.batches():
            inside = rows[(rows >= start) & (rows < start + len(texts))]
            found += texts.take(pa.array(inside - start)).to_pylist()
        return found

    def details(self) -> Details:
        """Every reply's number, author and whether it may be quoted, read back in one pass.

        Each batch's columns are copied into arrays of every reply made once (pieces joined
        at the end held everything twice, 26 bytes a reply, while the analyses' answer waited).
        """
        refs, authors, quotable = (
            np.empty(self._count, kind) for kind in (np.int64, np.int32, np.bool_)
        )
        at = 0
        for batch in self._read():
            end = at + batch.num_rows
            for whole, column in zip((refs, authors, quotable), batch.columns[1:], strict=True):
                whole[at:end] = column.to_numpy(zero_copy_only=False)
            at = end
        return Details(refs, authors, quotable)

    def close(self) -> None:
        """Delete the temporary file."""
        if self._writer is not None:
            self._writer.close()
        self._file.close()


@dataclass(frozen=True, slots=True, eq=False)
class Theme:
    """Replies that share words, named by the words that set them apart."""

    id: str
    name: str
    words: tuple[str, ...]
    # Its replies' numbers, nearest the theme's centre first; 32-bit where they fit (kept to
    # the end of the export: the theme_replies table, REFI-QDA's codings).
    refs: np.ndarray
    people: int  # people whose replies are in the theme
    quotes: tuple[str, ...]

    def keys(self) -> tuple[Key, Key]:
        """The ledger keys of its people and replies."""
        return ("themes", self.id, "people"), ("themes", self.id, "replies")


class ThemeFileError(Exception):
    """Staff's theme file cannot be applied; the message names the file, theme and remedy."""


class ThemeEdits(BaseModel):
    """Staff's changes to the themes an export finds, by theme id (see ``themes.csv``)."""

    model_config = ConfigDict(extra="forbid")

    rename: dict[str, str] = {}
    merge: dict[str, str] = {}
    drop: list[str] = []


def load_edits(path: Path) -> ThemeEdits | None:
    """Staff's theme file, if there is one; raises ``ThemeFileError`` when it is malformed."""
    if not path.is_file():
        return None
    try:
        return ThemeEdits.model_validate(tomllib.loads(path.read_text(encoding="utf-8")))
    except tomllib.TOMLDecodeError as bad:
        raise ThemeFileError(f"{path}: not valid TOML ({bad}); fix the line it names") from None
    except ValidationError as bad:
        problems = "; ".join(
            f"{'.'.join(map(str, e['loc'])) or 'file'}: {e['msg']}" for e in bad.errors()
        )
        raise ThemeFileError(
            f'{path}: {problems}; the file may hold only [rename] (theme id = "new name"), '
            '[merge] (theme id = "theme id it joins") and drop = ["theme id", ...]'
        ) from None


def sample(count: int, size: int) -> np.ndarray:
    """The rows themes are fitted on: all ``count``, or a fixed sample of ``size`` of them."""
    rows = np.arange(count)
    if count > size:
        rows = np.sort(np.random.default_rng(RANDOM_STATE).choice(rows, size, False))
    return rows


def find_themes(
    replies: OpenReplies,
    placed: Sequence[Placed],
    edits: ThemeEdits | None = None,
    source: Path | None = None,
) -> tuple[Theme, ...]:
    """The themes ``placed`` (``exporters.theme_fit``), staff's ``edits`` (from ``source``) applied.

    Largest first; a name shared by two themes gets a number, so every id names one theme.
    """
    details = replies.details()
    found = sorted(
        (_Found("-".join(words), " ".join(words), words, rows) for words, rows in placed),
        key=lambda t: (-len(t.rows), t.id),
    )
    seen: dict[str, int] = {}
    for i, one in enumerate(found):
        seen[one.id] = seen.get(one.id, 0) + 1
        if seen[one.id] > 1:
            found[i] = replace(one, id=f"{one.id}-{seen[one.id]}")
    if edits is not None:
        found = _edited(found, edits, source)
    return tuple(_theme(replies, details, one) for one in found)


@dataclass(frozen=True, slots=True, eq=False)
class _Found:
    """A theme as found (or as staff's edits leave it), its replies as rows of ``OpenReplies``."""

    id: str
    name: str
    words: tuple[str, ...]
    rows: np.ndarray  # nearest the theme's centre first


def _theme(replies: OpenReplies, details: Details, found: _Found) -> Theme:
    """A theme of the replies found (nearest its centre first), quoting one reply a person."""
    rows = found.rows
    authors = details.authors
    picked: dict[int, int] = {}  # author: the row quoted
    for row in rows[details.quotable[rows]].tolist():
        if len(picked) == QUOTES:
            break
        picked.setdefault(int(authors[row]), row)
    chosen = np.array(list(picked.values()), np.int64)
    order = np.argsort(chosen, kind="stable")
    texts = dict(zip(chosen[order].tolist(), replies.texts(chosen[order]), strict=True))
    quotes = tuple(one_line(texts[row]) for row in chosen.tolist())
    people = len(np.unique(authors[rows]))
    refs = details.refs[rows]
    if len(refs) and refs.max() <= np.iinfo(np.int32).max:
        refs = refs.astype(np.int32)
    return Theme(found.id, found.name, found.words, refs, people, quotes)


def _edited(found: list[_Found], edits: ThemeEdits, source: Path | None) -> list[_Found]:
    where = f"{source}" if source else "the theme file"
    ids = {t.id: t for t in found}
    known = ", ".join(ids) or "none"

    def check(section: str, theme_id: str) -> None:
        if theme_id not in ids:
            raise ThemeFileError(
                f"{where}: {section}: '{theme_id}' is not a theme this export found (themes: "
                f"{known}); use a theme_id from themes.csv, or remove the entry"
            )

    for theme_id in edits.drop:
        check("drop", theme_id)
    for theme_id, into in edits.merge.items():
        check("merge", theme_id)
        check("merge", into)
        if into in edits.merge or into in edits.drop or into == theme_id:
            raise ThemeFileError(
                f"{where}: merge: '{theme_id}' joins '{into}', which is itself merged, dropped "
                "or the same theme; merge it into a theme that stays"
            )
        if theme_id in edits.drop:
            raise ThemeFileError(
                f"{where}: '{theme_id}' is both merged and dropped; keep one of the two entries"
            )
    for theme_id in edits.rename:
        check("rename", theme_id)
        if theme_id in edits.merge or theme_id in edits.drop:
            raise ThemeFileError(
                f"{where}: rename: '{theme_id}' is merged or dropped; rename the theme it joins"
            )
    kept = []
    for theme in found:
        if theme.id in edits.drop or theme.id in edits.merge:
            continue
        joined = [t for t in found if edits.merge.get(t.id) == theme.id]
        rows = np.concatenate([theme.rows, *(t.rows for t in joined)])
        kept.append(replace(theme, name=edits.rename.get(theme.id, theme.name), rows=rows))
    return kept


def register(themes: Sequence[Theme], ledger: Ledger) -> None:
    """Each theme's people and replies; its replies add up to all the themed replies."""
    cells = []
    for theme in themes:
        people, replies = theme.keys()
        ledger.count(people, theme.people)
        cells.append(ledger.count(replies, len(theme.refs)))
        ledger.alike(people, replies)
    total = sum(len(t.refs) for t in themes)
    ledger.adds_up(ledger.unpublished(ALL_REPLIES, total), cells)


def rows(themes: Sequence[Theme], disclosure: Disclosure) -> Iterator[tuple[object, ...]]:
    """Rows of the ``themes`` table."""
    for theme in themes:
        people, replies = theme.keys()
        cells = (disclosure.value(people), disclosure.value(replies))
        yield (theme.id, theme.name, " ".join(theme.words), *cells)


def quote_rows(themes: Sequence[Theme]) -> Iterator[tuple[object, ...]]:
    """Rows of the ``theme_quotes`` table."""
    for theme in themes:
        for rank, quote in enumerate(theme.quotes, 1):
            yield (theme.id, rank, quote)


def reply_batches(
    themes: Sequence[Theme], schema: pa.Schema, size: int
) -> Iterator[pa.RecordBatch]:
    """The ``theme_replies`` table (research: the reply ids of each theme), ``size`` rows a batch.

    Made from each theme's array of numbers: a Python row a reply, from a theme's whole
    list at once, took about 100 bytes a reply of the theme at a time.
    """
    for theme in themes:
        for at in range(0, len(theme.refs), size):
            refs = pa.array(theme.refs[at : at + size], schema.field("response_id").type)
            ids = pa.repeat(pa.scalar(theme.id, schema.field("theme_id").type), len(refs))
            yield pa.record_batch([ids, refs], schema=schema)
