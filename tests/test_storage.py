import asyncio
from collections.abc import AsyncIterator
from dataclasses import replace
from datetime import UTC, datetime, timedelta, timezone
from pathlib import Path
from typing import Any

import pytest
from sqlalchemy import Connection, event, func, select
from sqlalchemy.dialects import sqlite
from sqlalchemy.dialects.sqlite import DATETIME
from sqlalchemy.exc import StatementError
from sqlalchemy.ext.asyncio import AsyncEngine

from bot.core.captures import (
    Capture,
    ConsentRecorded,
    ResponseCaptured,
    ResponseDeleted,
    ResponseEdited,
    SessionSaved,
    VoteCaptured,
)
from bot.core.ids import GroupRef, PersonRef
from bot.core.state import Status
from storage.db import make_engine, migrate, sqlite_file, upgrade
from storage.records import ConsentRecord, Erasure, PersonData
from storage.repositories import Repository
from storage.tables import UTCDateTime, identities, response_edits, responses
from tests.support.capture import STORE_KEY
from tests.support.records import ALICE, GROUP, SESSION, T0, at, schema_diff

OTHER_GROUP = GroupRef("telegram", "-1002")
BOB = PersonRef("telegram", "5151")


def reply(
    person: PersonRef = ALICE,
    message_id: str = "m1",
    text: str = "first thought",
    session_id: str = "s1",
    group: GroupRef = GROUP,
) -> ResponseCaptured:
    return ResponseCaptured(
        session_id=session_id,
        person=person,
        group=group,
        step_id="open",
        message_id=message_id,
        text=text,
        at=at(1),
    )


def consent(person: PersonRef, *scopes: str, version: str = "v1") -> ConsentRecorded:
    return ConsentRecorded(
        person=person,
        group=GROUP,
        scopes=frozenset(scopes),
        version=version,
        text_hash="sha256:abc",
        at=at(0),
    )


def vote(person: PersonRef, *options: int, minute: int = 5) -> VoteCaptured:
    return VoteCaptured(
        session_id="s1",
        person=person,
        group=GROUP,
        step_id="choose",
        options=options,
        at=at(minute),
    )


@pytest.fixture
async def engine(migrated_url: str) -> AsyncIterator[AsyncEngine]:
    engine = make_engine(migrated_url)
    yield engine
    await engine.dispose()


async def count(engine: AsyncEngine, table: Any) -> int:
    async with engine.connect() as conn:
        return (await conn.execute(select(func.count()).select_from(table))).scalar_one()


async def started(repo: Repository, *captures: Capture) -> None:
    await repo.apply([SessionSaved(SESSION), *captures])


async def test_redelivered_response_is_stored_once(repo: Repository) -> None:
    await started(repo, reply(), reply(text="redelivered copy"))
    await repo.apply([reply(text="redelivered later")])

    data = await repo.person_data(ALICE)
    assert [r.text for r in data.responses] == ["first thought"]


async def test_edit_in_the_same_batch_keeps_history_and_updates_text(repo: Repository) -> None:
    edit = ResponseEdited(ALICE, GROUP, "m1", "second thought", at(2))
    await started(repo, reply(), edit)
    await repo.apply([edit])

    (stored,) = (await repo.person_data(ALICE)).responses
    assert (stored.text, stored.edited_at, stored.earlier_versions) == ("second thought", at(2), 1)


async def test_edit_of_unknown_message_or_by_another_person_is_a_no_op(
    repo: Repository, engine: AsyncEngine
) -> None:
    await started(
        repo,
        reply(),
        ResponseEdited(ALICE, GROUP, "unknown", "x", at(2)),
        ResponseEdited(BOB, GROUP, "m1", "hijack", at(2)),
        ResponseEdited(ALICE, OTHER_GROUP, "m1", "wrong chat", at(2)),
    )

    (stored,) = (await repo.person_data(ALICE)).responses
    assert (stored.text, stored.earlier_versions) == ("first thought", 0)
    assert await count(engine, response_edits) == 0


async def test_delete_removes_response_and_its_history(
    repo: Repository, engine: AsyncEngine
) -> None:
    await started(repo, reply(), ResponseEdited(ALICE, GROUP, "m1", "second", at(2)))
    await repo.apply([ResponseDeleted(GROUP, "m1", at(3), person=BOB)])
    assert await count(engine, responses) == 1

    await repo.apply([ResponseDeleted(GROUP, "m1", at(3), person=ALICE)])

    assert await count(engine, responses) == 0
    assert await count(engine, response_edits) == 0


async def test_delete_without_a_known_author_removes_the_message(
    repo: Repository, engine: AsyncEngine
) -> None:
    await started(repo, reply())
    await repo.apply([ResponseDeleted(GROUP, "m1", at(3))])
    assert await count(engine, responses) == 0


async def test_concurrent_writes_that_read_first_do_not_fail_as_locked(repo: Repository) -> None:
    people = [PersonRef("telegram", f"p{i}") for i in range(12)]
    await started(repo, *(reply(p, f"m-{p.user_id}") for p in people))
    leaving, staying = people[:6], people[6:]

    await asyncio.gather(
        *(repo.erase_person(p, f"x-{p.user_id}", at(9)) for p in leaving),
        *(
            repo.apply([ResponseEdited(p, GROUP, f"m-{p.user_id}", "edited", at(2))])
            for p in staying
        ),
        *(repo.revoke_facilitator(GROUP, p) for p in people),
    )

    for p in staying:
        assert [r.text for r in (await repo.person_data(p)).responses] == ["edited"]
    assert len(await repo.audit_entries("erasure")) == len(leaving)


async def test_a_changed_vote_replaces_the_old_one(repo: Repository) -> None:
    await started(repo, vote(ALICE, 1), vote(ALICE, 2, minute=6))
    await repo.apply([vote(ALICE, 1, 3, minute=7)])

    (stored,) = (await repo.person_data(ALICE)).votes
    assert (stored.options, stored.cast_at) == ((1, 3), at(7))


async def test_consent_is_upserted_and_looked_up_per_group(repo: Repository) -> None:
    await repo.apply([consent(ALICE, "participate", "quote")])
    assert await repo.consent(ALICE, GROUP) == ConsentRecord(
        frozenset({"participate", "quote"}), "v1", "sha256:abc", at(0)
    )

    await repo.apply([consent(ALICE, "participate", version="v2")])
    found = await repo.consent(ALICE, GROUP)
    assert found is not None
    assert (found.scopes, found.version) == (frozenset({"participate"}), "v2")
    assert await repo.consent(ALICE, OTHER_GROUP) is None


async def test_unknown_consent_scope_is_refused(repo: Repository) -> None:
    with pytest.raises(ValueError, match="telepathy"):
        await repo.apply([consent(ALICE, "participate", "telepathy")])


async def test_consent_lookup_of_unknown_person_creates_no_identity(
    repo: Repository, engine: AsyncEngine
) -> None:
    assert await repo.consent(ALICE, GROUP) is None
    assert await count(engine, identities) == 0


async def test_facilitators_are_granted_and_revoked(repo: Repository, engine: AsyncEngine) -> None:
    await repo.grant_facilitator(GROUP, ALICE, at(0))
    await repo.grant_facilitator(GROUP, ALICE, at(1))
    assert await repo.facilitators(GROUP) == frozenset({ALICE})
    assert await repo.facilitators(OTHER_GROUP) == frozenset()

    assert await repo.revoke_facilitator(GROUP, ALICE) is True
    assert await repo.revoke_facilitator(GROUP, ALICE) is False
    assert await repo.revoke_facilitator(GROUP, BOB) is False
    assert await repo.facilitators(GROUP) == frozenset()
    assert await count(engine, identities) == 1


async def test_session_state_round_trips_and_live_sessions_follow_status(
    repo: Repository,
) -> None:
    await repo.apply([SessionSaved(SESSION)])
    assert await repo.session("s1") == SESSION
    assert await repo.live_sessions() == [SESSION]

    paused = replace(SESSION, status=Status.PAUSED, step_index=2, step_started_at=at(9))
    ended = replace(paused, session_id="s0", status=Status.ENDED, ended_at=at(3))
    await repo.apply([SessionSaved(paused), SessionSaved(ended)])

    assert await repo.live_sessions() == [paused]
    assert await repo.session("s0") == ended
    assert await repo.session("missing") is None


async def test_times_come_back_as_aware_utc(repo: Repository) -> None:
    berlin = timezone(timedelta(hours=1))
    state = replace(SESSION, started_at=datetime(2025, 3, 1, 19, 0, tzinfo=berlin))
    await repo.apply([SessionSaved(state)])

    loaded = await repo.session("s1")
    assert loaded is not None and loaded.started_at is not None
    assert loaded.started_at.tzinfo is UTC
    assert loaded.started_at == T0


async def test_naive_times_are_refused(repo: Repository) -> None:
    with pytest.raises(StatementError, match="naive datetime"):
        await repo.apply([SessionSaved(replace(SESSION, started_at=datetime(2025, 3, 1)))])


@pytest.mark.parametrize(
    "moment",
    [
        datetime(2025, 3, 1, 18, 0, 3, 123, tzinfo=UTC),
        datetime(2025, 3, 1, 18, 0, tzinfo=UTC),  # no microseconds: still written out
        datetime(2025, 3, 1, 0, 30, tzinfo=timezone(timedelta(hours=5, minutes=30))),
        datetime(2024, 12, 31, 23, 59, 59, 999999, tzinfo=timezone(timedelta(hours=-8))),
        datetime(999, 1, 2, 3, 4, 5, 6, tzinfo=UTC),  # a year of three digits, padded
    ],
)
def test_sqlite_gets_times_as_sqlalchemys_datetime_would_store_them(moment: datetime) -> None:
    dialect = sqlite.dialect()
    bound = UTCDateTime().dialect_impl(dialect).bind_processor(dialect)
    assert bound is not None
    own = DATETIME().bind_processor(dialect)
    assert own is not None
    assert bound(moment) == own(moment.astimezone(UTC).replace(tzinfo=None))
    assert bound(None) is None
    with pytest.raises(ValueError, match="naive datetime"):
        bound(moment.replace(tzinfo=None))


async def test_session_without_id_is_refused(repo: Repository) -> None:
    with pytest.raises(ValueError, match="session_id"):
        await repo.apply([SessionSaved(replace(SESSION, session_id=None))])


async def test_person_data_lists_consents_replies_and_votes(repo: Repository) -> None:
    await started(
        repo,
        consent(ALICE, "participate"),
        reply(),
        ResponseEdited(ALICE, GROUP, "m1", "edited", at(2)),
        vote(ALICE, 2),
        reply(BOB, "m2", "bob's"),
    )

    data = await repo.person_data(ALICE)
    assert [(g, c.scopes) for g, c in data.consents] == [(GROUP, frozenset({"participate"}))]
    assert [(r.session_id, r.step_id, r.message_id, r.text) for r in data.responses] == [
        ("s1", "open", "m1", "edited")
    ]
    assert [(v.step_id, v.options) for v in data.votes] == [("choose", (2,))]
    assert await repo.person_data(PersonRef("telegram", "nobody")) == PersonData()


async def test_erasure_removes_everything_of_the_person_and_nothing_else(
    repo: Repository, engine: AsyncEngine
) -> None:
    for person, message_id in ((ALICE, "m1"), (BOB, "m2")):
        await started(
            repo,
            consent(person, "participate"),
            reply(person, message_id, f"words of {person.user_id}"),
            ResponseEdited(person, GROUP, message_id, "edited", at(2)),
            vote(person, 1),
        )
        await repo.grant_facilitator(GROUP, person, at(0))
    bob_before = await repo.person_data(BOB)

    erased = await repo.erase_person(ALICE, "p-7f3a", at(30))

    assert erased == Erasure(responses=1, votes=1, consents=1)
    assert await repo.person_data(ALICE) == PersonData()
    assert await repo.person_data(BOB) == bob_before
    assert await repo.facilitators(GROUP) == frozenset({BOB})
    assert await count(engine, identities) == 1
    assert await count(engine, response_edits) == 1
    (entry,) = await repo.audit_entries("erasure")
    assert entry.at == at(30)
    assert dict(entry.detail) == {"pseudonym": "p-7f3a", "responses": 1, "votes": 1, "consents": 1}
    assert ALICE.user_id not in repr(entry)


async def test_audit_entries_are_filtered_by_kind(repo: Repository) -> None:
    await repo.record_audit("export", at(1), {"cycle": "c1", "rows": 3})
    await repo.record_audit("retention", at(2), {"removed": 0})

    assert [e.kind for e in await repo.audit_entries()] == ["export", "retention"]
    assert [dict(e.detail) for e in await repo.audit_entries("export")] == [
        {"cycle": "c1", "rows": 3}
    ]


async def test_erased_reply_leaves_the_sqlite_file_and_its_wal(sqlite_url: str) -> None:
    marker = "MARKER-b9e1c0ffee-unique"
    user_id = "uid-0xdeadbeef-erasable"
    person = PersonRef("telegram", user_id)
    db = sqlite_file(sqlite_url)
    assert db is not None
    wal = db.with_name(db.name + "-wal")
    await upgrade(sqlite_url)
    engine = make_engine(sqlite_url)
    repo = Repository(engine, STORE_KEY)
    try:
        await started(
            repo,
            consent(person, "participate"),
            reply(person, text=f"before edit {marker}"),
            ResponseEdited(person, GROUP, "m1", f"after edit {marker}", at(2)),
            reply(BOB, "m2", "others stay"),
        )
        # Sealed at rest: the words are in neither file, yet the person can read them back.
        assert marker.encode() not in _raw(db) + _raw(wal)
        assert marker in (await repo.person_data(person)).responses[0].text

        await repo.erase_person(person, "p-1", at(30))

        for path in (db, wal):
            raw = _raw(path)
            assert marker.encode() not in raw, path
            assert user_id.encode() not in raw, path
        assert [r.text for r in (await repo.person_data(BOB)).responses] == ["others stay"]
    finally:
        await engine.dispose()


def _raw(path: Path) -> bytes:
    return path.read_bytes() if path.exists() else b""


async def _export_fixture(repo: Repository) -> None:
    second = replace(SESSION, session_id="s2", cycle_id="c2")
    await repo.set_group_title(GROUP, "Riverside tenants")
    await repo.apply(
        [
            SessionSaved(SESSION),
            SessionSaved(second),
            consent(ALICE, "participate", "quote"),
            consent(BOB, "participate"),
            *(reply(ALICE, f"a{i}", f"alice {i}") for i in range(7)),
            reply(BOB, "b0", "bob in c2", session_id="s2"),
            reply(BOB, "b1", "bob again", session_id="s2"),
            *(
                VoteCaptured("s1", PersonRef("telegram", f"v{i}"), GROUP, "choose", (i,), at(5))
                for i in range(7)
            ),
            VoteCaptured("s2", BOB, GROUP, "choose", (1, 2), at(5)),
        ]
    )


async def test_exports_stream_every_row_in_batches_and_filter_by_cycle(
    engine: AsyncEngine,
) -> None:
    repo = Repository(engine, STORE_KEY)
    await _export_fixture(repo)
    selects: list[str] = []

    def record(conn: Connection, cursor: Any, statement: str, *_: Any) -> None:
        if statement.lstrip().upper().startswith("SELECT"):
            selects.append(statement)

    event.listen(engine.sync_engine, "before_cursor_execute", record)

    everything = [r async for r in repo.iter_responses(batch_size=3)]
    assert len(selects) == 9 // 3 + 1
    assert [r.message_id for r in everything] == [f"a{i}" for i in range(7)] + ["b0", "b1"]

    c1 = [r async for r in repo.iter_responses("c1", batch_size=2)]
    assert {r.person for r in c1} == {ALICE} and len(c1) == 7
    first = c1[0]
    assert (first.group, first.group_title, first.session_id, first.cycle_id) == (
        GROUP,
        "Riverside tenants",
        "s1",
        "c1",
    )
    assert (first.script_id, first.script_version, first.step_id, first.text) == (
        "housing",
        "3",
        "open",
        "alice 0",
    )

    assert len([v async for v in repo.iter_votes(batch_size=2)]) == 8
    (c2_vote,) = [v async for v in repo.iter_votes("c2", batch_size=2)]
    assert (c2_vote.person, c2_vote.options, c2_vote.cycle_id) == (BOB, (1, 2), "c2")

    everyone = [p async for p in repo.iter_participants(batch_size=1)]
    assert {(p.person, p.scopes) for p in everyone} == {
        (ALICE, frozenset({"participate", "quote"})),
        (BOB, frozenset({"participate"})),
    }
    (c2_person,) = [p async for p in repo.iter_participants("c2", batch_size=1)]
    assert (c2_person.person, c2_person.consent_version) == (BOB, "v1")
    assert [p async for p in repo.iter_participants("nope")] == []


async def test_migrated_schema_matches_the_models(migrated_url: str) -> None:
    engine = make_engine(migrated_url)
    try:
        async with engine.connect() as conn:
            assert await conn.run_sync(schema_diff) == []
    finally:
        await engine.dispose()


async def test_upgrade_twice_is_harmless(migrated_url: str, engine: AsyncEngine) -> None:
    await upgrade(migrated_url)
    assert await count(engine, identities) == 0


async def test_sqlite_migration_can_rebuild_a_table_without_cascading_deletes(
    sqlite_url: str,
) -> None:
    await upgrade(sqlite_url)
    engine = make_engine(sqlite_url)
    try:
        await started(Repository(engine, STORE_KEY), reply())

        def rebuild_identities(conn: Connection) -> None:
            conn.exec_driver_sql(
                "CREATE TABLE identities_new (id INTEGER PRIMARY KEY, platform VARCHAR NOT NULL,"
                " user_key VARCHAR NOT NULL, sealed_user_id VARCHAR, created_at DATETIME NOT NULL)"
            )
            conn.exec_driver_sql("INSERT INTO identities_new SELECT * FROM identities")
            conn.exec_driver_sql("DROP TABLE identities")
            conn.exec_driver_sql("ALTER TABLE identities_new RENAME TO identities")

        await migrate(sqlite_url, rebuild_identities)
        assert await count(engine, responses) == 1
    finally:
        await engine.dispose()


async def test_sqlite_connections_get_the_safety_pragmas(sqlite_url: str) -> None:
    engine = make_engine(sqlite_url)
    try:
        async with engine.connect() as conn:
            values = [
                (await conn.exec_driver_sql(f"PRAGMA {name}")).scalar()
                for name in ("journal_mode", "secure_delete", "foreign_keys", "busy_timeout")
            ]
    finally:
        await engine.dispose()
    assert values == ["wal", 1, 1, 5000]


def test_database_urls_are_understood(tmp_path: Path) -> None:
    assert make_engine("postgresql://u@h/db").url.drivername == "postgresql+asyncpg"
    assert sqlite_file(f"sqlite+aiosqlite:///{tmp_path}/a/b.db") == tmp_path / "a" / "b.db"
    assert sqlite_file("postgresql+asyncpg://u@h/db") is None
    make_engine(f"sqlite+aiosqlite:///{tmp_path}/new/dir/x.db")
    assert (tmp_path / "new" / "dir").is_dir()
