"""The columnar export path: a batch of replies is redacted and opened as the row-wise path did."""

import re
import sqlite3
import sys
import tempfile
from collections.abc import Mapping
from contextlib import AbstractContextManager
from datetime import UTC, datetime, timedelta, timezone
from pathlib import Path

import pyarrow as pa
import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

from bot.core.captures import ResponseCaptured
from exporters.codebook import Codebook
from exporters.csv_tables import CsvTable, iso_utc
from exporters.cycle_read import read_cycle
from exporters.parquet_tables import arrow_schema
from exporters.pseudonymise import Naming, Pseudonymiser
from exporters.redact import Redactor, one_line
from exporters.reply_page import ReplyPage, Steps, reply_page
from exporters.schema import Table, tables_for
from exporters.themes import FEWEST_REPLIES, OpenReplies
from exporters.transcripts import Transcripts
from exporters.writer import Ending, Replies, SessionPart
from storage._export import REPLY_BATCH_NAMES, ReplyBatch, arrow_times
from storage.dataset_records import SessionRow
from storage.datasets import Datasets
from storage.db import make_engine
from storage.keystore import KeyGone, KeyStore
from storage.repositories import Repository
from tests.support.capture import LIBRARY, STORE_KEY
from tests.support.export_cycle import (
    ALICE,
    DAVE,
    G1,
    KEY,
    NOT_NHS,
    PII,
    T0,
    cycle_captures,
    cycle_engine,
)
from tests.support.export_text import csv_rows

# Pieces a reply may hold: every kind of detail, near misses, and plain words and digits.
PIECES = (
    "07700 900123", "+44 (0)20 7946 0958", "+1 415 555 2671", "020-7946-0958", "0770090012",
    "943 476 5919", "943 476 5918", "9434765919", "943-476-5919",
    "AB 12 34 56 C", "AB123456C", "QQ 12 34 56 A", "GB123456A",
    "E1 6AN", "SW1A 1AA", "GIR 0AA", "ec1a1bb",
    "@neighbour_jo", "<@123>", "<@!45>", "<#678>", "tg://user?id=9", "a@b", "@x",
    "jo.bloggs@example.co.uk", "x@y.org", "www.nhs.uk", "WWW.Example.org", "example.org/page",
    "12 Acacia Avenue", "Flat 3, 4 High Street, London E1 6AN", "12/03/1985", "3rd May 1990",
    "٠٧٧٠٠ ٩٠٠١٢٣", "I think", "the NHS", "trust", "12", "2024", "", " ", ",", ".", "\n",
)  # fmt: skip


@settings(max_examples=300, deadline=None)
@given(
    st.lists(
        st.lists(st.sampled_from(PIECES) | st.text(max_size=8), max_size=12).map(" ".join)
        | st.none(),
        max_size=30,
    ),
    st.sets(st.sampled_from(["phone", "nhs_number", "mention", "email", "postcode", "url"])),
)
def test_a_column_is_redacted_exactly_as_each_text_on_its_own(
    texts: list[str | None], left_out: set[str]
) -> None:
    kinds = [k for k in Redactor().kinds if k not in left_out]
    by_row, by_column = Redactor(kinds), Redactor(kinds)
    expected = [(None, 0) if t is None else by_row(t) for t in texts]
    redacted, found = by_column.column(pa.array(texts, pa.string()))
    assert list(zip(redacted.to_pylist(), found.to_pylist(), strict=True)) == expected
    assert by_column.counts == by_row.counts


def _count_keystore_reads(monkeypatch: pytest.MonkeyPatch) -> list[str]:
    opened: list[str] = []
    connection = KeyStore._connection

    def counted(self: KeyStore) -> AbstractContextManager[sqlite3.Connection]:
        opened.append(self.path)
        return connection(self)

    monkeypatch.setattr(KeyStore, "_connection", counted)
    return opened


async def test_a_page_of_replies_reads_each_persons_key_once(
    migrated_url: str, monkeypatch: pytest.MonkeyPatch
) -> None:
    async with cycle_engine(migrated_url) as engine:
        sessions = await Datasets(engine).sessions("c1")
    opened = _count_keystore_reads(monkeypatch)
    engine = make_engine(migrated_url)  # a new process's engine: no key cached yet
    try:
        pages = [page async for page in Datasets(engine, batch_size=1000).responses(sessions)]
    finally:
        await engine.dispose()
    people = {reply.person for page in pages for reply in page}
    assert len(pages) == 1 and len(people) > 1
    assert len(opened) == 1, "one read of the keystore for the page, not one per person"


@pytest.mark.parametrize("read", ["participants", "votes"])
async def test_a_page_of_consents_or_votes_reads_each_persons_key_once(
    migrated_url: str, monkeypatch: pytest.MonkeyPatch, read: str
) -> None:
    async with cycle_engine(migrated_url):
        pass
    opened = _count_keystore_reads(monkeypatch)
    engine = make_engine(migrated_url)  # a new process's engine: no key cached yet
    try:
        rows = [row async for row in getattr(Datasets(engine, batch_size=1000), read)("c1")]
    finally:
        await engine.dispose()
    assert len({row.person for row in rows}) > 1
    assert len(opened) == 1, "one read of the keystore for the page, not one per person"


async def test_a_batch_of_replies_holds_what_the_rows_hold_and_names_people_as_they_do(
    migrated_url: str,
) -> None:
    async with cycle_engine(migrated_url) as engine:
        datasets = Datasets(engine, batch_size=3)
        sessions = await datasets.sessions("c1")
        rows = [reply async for page in datasets.responses(sessions) for reply in page]
        batches = [batch async for batch in datasets.reply_batches(sessions)]
    assert len(batches) > 1 and len(rows) == sum(b.columns.num_rows for b in batches)
    research, public = (Naming(Pseudonymiser(b"k" * 32), public=p) for p in (False, True))
    by_column = []
    for batch in batches:
        columns = batch.columns.to_pydict()
        columns["person"] = [batch.people[p] for p in columns.pop("participant")]
        columns["pseudonym"] = research.pseudonyms(
            batch.columns.column("participant"), batch.people
        ).to_pylist()
        shown = public.persons(batch.columns.column("participant"), batch.people)
        assert shown.null_count == len(shown)
        values = zip(*columns.values(), strict=True)
        by_column += [dict(zip(columns, one, strict=True)) for one in values]
    fields = [*REPLY_BATCH_NAMES[:2], *REPLY_BATCH_NAMES[3:], "person"]
    expected = [
        {
            **{name: getattr(reply, name) for name in fields},
            "pseudonym": research.pseudonym(reply.person),
        }
        for reply in rows
    ]
    assert by_column == expected
    assert len({reply["pseudonym"] for reply in by_column}) > 1


def test_a_page_of_texts_opens_as_each_text_does_and_fails_closed(tmp_path: Path) -> None:
    writer = KeyStore(tmp_path / "keys")
    writer.ensure([1, 2])
    old = writer.seal(1, "OLD", b"place")
    reader = KeyStore(writer.path)  # another process, whose cache goes stale
    reader.preload([1, 2])
    writer.destroy([1])
    writer.ensure([1])  # the id given again: a new key
    new, bob = writer.seal(1, "NEW", b"place"), writer.seal(2, "BOB", b"place")
    assert reader.open_all([1, 2], [new, bob], [b"place", b"place"]) == ["NEW", "BOB"]
    altered = bob[:-4] + ("AAAA" if not bob.endswith("AAAA") else "BBBB")
    for person, value, place in [
        (1, old, b"place"),  # its key destroyed
        (2, bob, b"another place"),  # moved
        (2, altered, b"place"),
        (2, "BOB", b"place"),  # never sealed
        (3, bob, b"place"),  # no key at all
    ]:
        with pytest.raises(KeyGone):
            reader.open_all([2, person], [bob, value], [b"place", place])


def everyones_page(
    batch: ReplyBatch,
    known: Mapping[str, SessionRow],
    naming: Naming,
    codebook: Codebook,
    table: Table,
) -> ReplyPage:
    """A page of replies as a research export shows it, everyone's words shown, none quoted."""
    return reply_page(
        batch,
        known,
        naming,
        Redactor(),
        Steps(codebook, {}),
        lambda person, group: True,
        0,
        arrow_schema(table),
    )


async def test_a_page_gives_each_reply_its_time_and_day_in_utc(migrated_url: str) -> None:
    async with cycle_engine(migrated_url) as engine:
        datasets = Datasets(engine, batch_size=3)
        read = await read_cycle(datasets, LIBRARY, "c1")
        known = {session.session_id: session for session in read.sessions}
        batches = [batch async for batch in datasets.reply_batches(read.sessions)]
    responses = next(t for t in tables_for("research") if t.name == "responses")
    naming = Naming(Pseudonymiser(b"k" * 32), public=False)
    times = []
    for batch in batches:
        page = everyones_page(batch, known, naming, read.codebook, responses)
        posted = batch.columns.column("posted_at").to_pylist()
        assert page.days == [at.date() for at in posted]
        assert page.posted_at == [at.replace(tzinfo=None) for at in posted]
        times += posted
    assert len({(at.hour, at.minute) for at in times}) > 1


@settings(max_examples=100, deadline=None)
@given(st.lists(st.text(alphabet="a \x00\n*_<>#|`\\"), max_size=6))
def test_a_run_of_replies_reads_in_its_transcript_as_each_reply_written_alone(
    texts: list[str],
) -> None:
    with tempfile.TemporaryDirectory() as folder:
        written = []
        for runs in ([texts], [[text] for text in texts]):
            transcripts = Transcripts(Path(folder) / str(len(written)))
            transcripts.session(SessionPart("s", "g", "c1", "x", "1", None, None, None))
            for run in runs:
                at = [datetime(2025, 3, 1, 18, 5)] * len(run)
                transcripts.replies(
                    Replies([1] * len(run), [("x", "q")] * len(run), ["p"] * len(run), run, at,
                            [False] * len(run))
                )  # fmt: skip
            transcripts.finish(Ending([], {}))
            written.append((transcripts.folder / "s.md").read_text(encoding="utf-8"))
    assert written[0] == written[1]
    assert written[0].count("- **p** at 18:05: ") == len(texts)


# Every character Python's regular expressions take for white space (29 of them).
WHITE = [chr(c) for c in range(sys.maxunicode + 1) if re.fullmatch(r"\s", chr(c))]


@settings(max_examples=500, deadline=None)
@given(st.text(st.sampled_from([*WHITE, "a", "b", ".", "\x00", "é", "\u200b"]), max_size=20))
def test_a_quote_on_one_line_has_each_run_of_white_space_made_one_space(text: str) -> None:
    assert one_line(text) == re.sub(r"\s+", " ", text).strip()


def test_a_quote_on_one_line_treats_every_kind_of_white_space_alike() -> None:
    assert len(WHITE) == 29
    assert one_line(f"{''.join(WHITE)}a{''.join(WHITE)}b\u200bc{''.join(WHITE)}") == "a b\u200bc"


@settings(max_examples=200, deadline=None)
@given(st.lists(st.none() | st.datetimes(min_value=datetime(1, 1, 1)), max_size=40))
def test_times_in_csv_are_iso_8601_in_utc_to_the_microsecond(times: list[datetime | None]) -> None:
    column = pa.array([t and t.replace(tzinfo=UTC) for t in times], pa.timestamp("us", "UTC"))
    expected = [t and t.isoformat(timespec="microseconds") + "Z" for t in times]
    assert iso_utc(column).to_pylist() == expected


def test_a_csv_table_writes_its_times_as_iso_8601_in_utc(tmp_path: Path) -> None:
    table = next(t for t in tables_for("research") if t.name == "sessions")
    at = datetime(2025, 3, 1, 18, 20, 0, 250, tzinfo=UTC)
    rows = [{c.name: None for c in table.columns} | {"started_at": at, "session_id": "s1"}]
    csv = CsvTable(tmp_path, table)
    csv.write(pa.RecordBatch.from_pylist(rows, schema=arrow_schema(table)))
    csv.close()
    (row,) = csv_rows(tmp_path / "sessions.csv")
    assert row["started_at"] == "2025-03-01T18:20:00.000250Z" and row["ended_at"] == ""


@settings(max_examples=50, deadline=None)
@given(st.lists(st.integers(0, 9), max_size=8), st.integers(1, 4))
def test_open_replies_given_in_any_pieces_are_kept_as_given_one_by_one(
    sizes: list[int], batch: int
) -> None:
    started: list[int] = []
    total = sum(sizes)
    refs = list(range(100, 100 + total))
    people = [f"p{n % 3}" for n in range(total)]
    texts = [f"reply {n}" for n in range(total)]
    quotable = [n % 2 == 0 for n in range(total)]
    pieces, whole = OpenReplies(lambda: started.append(1)), OpenReplies()
    pieces.BATCH = whole.BATCH = batch
    at = 0
    for size in sizes:
        end = at + size
        pieces.extend(refs[at:end], people[at:end], texts[at:end], quotable[at:end])
        at = end
    for n in range(total):
        whole.extend([refs[n]], [people[n]], [texts[n]], [quotable[n]])
    assert len(pieces) == total and started == ([1] if total >= FEWEST_REPLIES else [])
    assert [b.to_pylist() for _, b in pieces.batches()] == [
        b.to_pylist() for _, b in whole.batches()
    ]
    assert all(len(b) == batch for _, b in list(pieces.batches())[:-1])
    kept, one_by_one = pieces.details(), whole.details()
    assert kept.refs.tolist() == refs == one_by_one.refs.tolist()
    assert kept.authors.tolist() == [n % 3 for n in range(total)] == one_by_one.authors.tolist()
    assert kept.quotable.tolist() == quotable
    pieces.close()
    whole.close()


def test_times_from_either_driver_are_the_same_instants_in_utc() -> None:
    # SQLite gives its stored UTC text (with or without microseconds), asyncpg aware times.
    sqlite = arrow_times(["2025-03-01 18:20:00", "2025-03-01 18:20:00.000250", None])
    postgres = arrow_times(
        [
            datetime(2025, 3, 1, 18, 20, tzinfo=UTC),
            datetime(2025, 3, 1, 19, 20, 0, 250, tzinfo=timezone(timedelta(hours=1))),
            None,
        ]
    )
    expected = [
        datetime(2025, 3, 1, 18, 20, tzinfo=UTC),
        datetime(2025, 3, 1, 18, 20, 0, 250, tzinfo=UTC),
        None,
    ]
    for times in (sqlite, postgres):
        assert times.type == pa.timestamp("us", "UTC")
        assert times.to_pylist() == expected


async def test_pages_read_from_the_driver_redact_only_valid_nhs_numbers_and_hold_no_erased_words(
    migrated_url: str, tmp_path: Path
) -> None:
    def said(n: int, text: str) -> ResponseCaptured:
        at = T0 + timedelta(minutes=30 + n)
        return ResponseCaptured("s-g1", ALICE, G1, "open", f"alice-edge-{n}", text, at)

    valid, formula = PII["nhs_number"], "=SUM(A1:A9)"
    engine = make_engine(migrated_url)
    try:
        repo = Repository(engine, STORE_KEY)
        await repo.apply(
            [
                *cycle_captures(),
                said(1, f"mine {valid}"),
                said(2, f"not {NOT_NHS}"),
                said(3, formula),
            ]
        )
        await repo.erase_person(DAVE, KEY(DAVE), T0 + timedelta(days=1))
        # A page a reply: the valid and the invalid number fall either side of a boundary.
        datasets = Datasets(engine, batch_size=1)
        read = await read_cycle(datasets, LIBRARY, "c1")
        batches = [batch async for batch in datasets.reply_batches(read.sessions)]
    finally:
        await engine.dispose()
    table = next(t for t in tables_for("research") if t.name == "responses")
    known = {session.session_id: session for session in read.sessions}
    naming, csv = Naming(KEY, public=False), CsvTable(tmp_path, table)
    texts = []
    for batch in batches:
        page = everyones_page(batch, known, naming, read.codebook, table)
        texts += page.table.column("text").to_pylist()
        csv.write(page.table)
    csv.close()
    assert len(batches) == len(texts) > 3
    assert "mine [nhs-number]" in texts and f"not {NOT_NHS}" in texts and formula in texts
    assert not [text for text in texts if "DAVE" in text]
    cells = [row["text"] for row in csv_rows(tmp_path / "responses.csv")]
    assert "'" + formula in cells and formula not in cells
