"""Erasure reaches every copy: a person's words are sealed under a key of their own, which
``/withdraw confirm`` destroys, so no file, log, dead row, dump or backup made before can be read.

Real SQLite files (the database, its WAL and shared memory, a backup) and a real PostgreSQL server
(a pg_dump, the tables' own files and the server's WAL, found through the server). The service
runs on the capture writer in its own process, as ``dialogue run`` does.
"""

from __future__ import annotations

import os
import sqlite3
import subprocess
from collections.abc import Iterable
from pathlib import Path

import pytest
from alembic import command as alembic
from alembic.script import ScriptDirectory
from sqlalchemy import Connection, select, text, update
from sqlalchemy.engine import make_url
from sqlalchemy.exc import IntegrityError

from bot.core.captures import (
    ConsentRecorded,
    ProfileAnswered,
    ReflectionSaved,
    ResponseCaptured,
)
from bot.core.desk import Reflection
from bot.core.ids import PersonRef
from storage import sealed
from storage._erased import Marks
from storage._keys import ensure_people, user_key
from storage._replies import Known, ReplyRow, reply_row, store_replies
from storage.db import (
    alembic_config,
    downgrade,
    for_writes,
    make_engine,
    migrate,
    sqlite_file,
    upgrade,
)
from storage.keystore import PREFIX, KeyGone, KeyStore, keys_of
from storage.repositories import Repository
from storage.retention import purge
from storage.tables import (
    identities,
    pending_edits,
    person_languages,
    profile_answers,
    response_edits,
    responses,
    session_reflections,
)
from tests.support.capture import (
    FRAN,
    STORE_KEY,
    Harness,
    at,
    command,
    edit,
    group,
    person,
    running,
    say,
    stored_replies,
    user_ids,
)

G1 = group("g1")
# Alice's platform user id: distinctive, so a scan of a file can tell it is not there.
ALICE_ID = "ALICE-UID-81d2f6"
ALICE, BOB = person(ALICE_ID), person("bob")
# Each word Alice typed, in each place a text of hers is kept: a reply, its earlier version, an
# edit waiting for its message, a profile answer, a reflection; and her user id.
ALICE_WORDS = (
    ALICE_ID.encode(),
    b"ALICE-NOW-7c1f",
    b"ALICE-BEFORE-52be",
    b"ALICE-WAITING-e9d4",
    b"ALICE-AGE-3f3f",
    b"ALICE-WELL-4a4a",
)
PG_DUMP = "/usr/lib/postgresql/15/bin/pg_dump"
SEALED_TABLES = (
    "identities",
    "responses",
    "response_edits",
    "pending_edits",
    "profile_answers",
    "session_reflections",
)


async def converse(bot: Harness) -> None:
    """Alice and Bob agree and reply; Alice edits a reply, and edits one not yet arrived."""
    for event in (
        command(FRAN, G1, "/start health-data-intro", "c1"),
        command(ALICE, G1, "/agree participate", "c2"),
        command(ALICE, G1, "/language en", "c2b"),
        command(BOB, G1, "/agree participate", "c3"),
        command(FRAN, G1, "/goto first-thoughts", "c4"),
        say(ALICE, G1, "m1", "ALICE-BEFORE-52be my GP keeps my notes", 1),
        say(BOB, G1, "m2", "BOB-STAYS-0a11 records should follow me", 2),
        edit(ALICE, G1, "m1", "ALICE-NOW-7c1f my GP and the hospital", 3),
        edit(ALICE, G1, "m3", "ALICE-WAITING-e9d4 a late edit", 4),
    ):
        await bot.service.handle(event)
    (session,) = await bot.store.live_sessions()
    assert session.session_id is not None
    reflection = Reflection(session.session_id, G1, at(5), ("ALICE-WELL-4a4a went well", "", None))
    await bot.store.apply(
        [
            ProfileAnswered(ALICE, "age", "ALICE-AGE-3f3f", at(5)),
            ReflectionSaved(ALICE, reflection, at(6)),
        ]
    )


async def withdraw(bot: Harness, who: PersonRef) -> None:
    await bot.service.handle(command(who, G1, "/withdraw", "w1", 10))
    await bot.service.handle(command(who, G1, "/withdraw confirm", "w2", 11))


async def participant(bot: Harness, who: PersonRef) -> int:
    async with bot.engine.connect() as conn:
        (found,) = [pid for pid, user in (await user_ids(conn)).items() if user == who.user_id]
        return found


def stored_key(keys: KeyStore, participant_id: int) -> bytes | None:
    """A person's key as the key store file holds it (None: there is none)."""
    with sqlite3.connect(keys.path) as conn:
        row = conn.execute(
            "SELECT key FROM person_keys WHERE participant_id = ?", (participant_id,)
        ).fetchone()
    return None if row is None else bytes(row[0])


def raw(paths: Iterable[Path]) -> bytes:
    return b"".join(p.read_bytes() for p in paths if p.exists())


def sqlite_files(db: Path) -> list[Path]:
    return [db, Path(f"{db}-wal"), Path(f"{db}-shm"), Path(f"{db}-journal")]


async def alice_sealed(bot: Harness, alice: int) -> list[tuple[str, bytes]]:
    """Alice's sealed texts and user id as stored, each with what binds it to its place."""
    async with bot.engine.connect() as conn:
        me = await conn.execute(select(identities).where(identities.c.id == alice))
        found = [(i.sealed_user_id, sealed.identity(alice, i.platform)) for i in me]
        replies = await conn.execute(select(responses).where(responses.c.participant_id == alice))
        found += [
            (r.text, sealed.reply(alice, (r.platform, r.chat_id, r.message_id))) for r in replies
        ]
        earlier = await conn.execute(
            select(response_edits).join(responses).where(responses.c.participant_id == alice)
        )
        found += [(e.previous_text, sealed.earlier(alice, e.response_id)) for e in earlier]
        waiting = await conn.execute(
            select(pending_edits).where(pending_edits.c.participant_id == alice)
        )
        found += [
            (w.text, sealed.pending(alice, (w.platform, w.chat_id, w.message_id))) for w in waiting
        ]
        answers = await conn.execute(
            select(profile_answers).where(profile_answers.c.participant_id == alice)
        )
        found += [(a.answer, sealed.answer(alice, a.question_id)) for a in answers]
        reflected = await conn.execute(
            select(session_reflections).where(session_reflections.c.participant_id == alice)
        )
        found += [
            (r.went_well, sealed.reflection("went_well", alice, r.session_id)) for r in reflected
        ]
    return found


def assert_unreadable(keys: KeyStore, alice: int, copies: list[tuple[str, bytes]]) -> None:
    """Nothing the deployment still holds opens these copies: not Alice's key, nor any other."""
    with sqlite3.connect(keys.path) as conn:
        others = [p for (p,) in conn.execute("SELECT participant_id FROM person_keys")]
    fresh = KeyStore(keys.path)  # as another process would read the key store: no cache
    for value, place in copies:
        for store in (keys, fresh):
            for who in (alice, *others):
                with pytest.raises(KeyGone):
                    store.open(who, value, place)


@pytest.mark.parametrize("database_url", ["sqlite"], indirect=True)
async def test_withdrawn_words_leave_the_sqlite_files_and_no_backup_made_before_can_be_read(
    migrated_url: str, tmp_path: Path
) -> None:
    db = sqlite_file(migrated_url)
    assert db is not None
    backup = tmp_path / "backup-before.db"
    async with running(migrated_url, [G1]) as bot:
        assert bot.store.process_id is not None  # sealed in the writer's own process
        await converse(bot)
        keys = keys_of(bot.engine)
        alice, bob = await participant(bot, ALICE), await participant(bot, BOB)
        # Sealed at rest: not one word in plain in the files, yet readable through the bot.
        for word in ALICE_WORDS:
            assert word not in raw(sqlite_files(db))
        assert [r.text for r in (await bot.store.person_data(ALICE)).responses] == [
            "ALICE-NOW-7c1f my GP and the hospital"
        ]
        exported = [row.text async for row in bot.store.iter_responses()]
        assert "ALICE-NOW-7c1f my GP and the hospital" in exported
        assert ("ALICE-BEFORE-52be my GP keeps my notes",) in [
            r.earlier for r in await stored_replies(bot.engine)
        ]
        # A backup, as staff would take one, before the withdrawal.
        with sqlite3.connect(db) as source, sqlite3.connect(backup) as target:
            source.backup(target)
        copied = await alice_sealed(bot, alice)
        # The user id, the reply, its earlier text, the waiting edit, the profile answer, the
        # reflection.
        assert len(copied) == 6
        mine = await bot.store.person_data(ALICE)
        assert [a.answer for a in mine.profile] == ["ALICE-AGE-3f3f"]
        assert mine.reflections == (("ALICE-WELL-4a4a went well", "", None),)
        assert mine.language == "en"
        assert mine.language == "en"
        alice_key, bob_key = stored_key(keys, alice), stored_key(keys, bob)
        assert alice_key is not None and bob_key is not None
        assert alice_key in Path(keys.path).read_bytes()  # the scan below can see a key

        await withdraw(bot, ALICE)
        await bot.service.handle(say(BOB, G1, "m4", "BOB-LATER-77aa after alice left", 12))

        assert (await bot.store.person_data(ALICE)).responses == ()
        # Her chosen language went with her.
        async with bot.engine.connect() as conn:
            chosen = await conn.execute(
                select(person_languages).where(person_languages.c.participant_id == alice)
            )
            assert chosen.all() == []
        assert [r.text for r in (await bot.store.person_data(BOB)).responses] == [
            "BOB-STAYS-0a11 records should follow me",
            "BOB-LATER-77aa after alice left",
        ]
        # The key store keeps no byte of Alice's key, in its file or a journal beside it.
        assert stored_key(keys, alice) is None
        key_files = [Path(keys.path), Path(f"{keys.path}-journal"), Path(f"{keys.path}-wal")]
        assert alice_key not in raw(key_files)
        assert bob_key in raw(key_files)
        # The backup still holds Alice's sealed texts, and nothing can open them.
        with sqlite3.connect(backup) as old:
            kept = {
                v
                for (v,) in old.execute(
                    "SELECT text FROM responses WHERE participant_id = ?", (alice,)
                )
            }
        assert kept and kept <= {value for value, _ in copied}
        assert_unreadable(keys, alice, copied)
        for word in ALICE_WORDS:
            assert word not in raw([*sqlite_files(db), backup])


def _pg_files(data: Path, relative: str) -> list[Path]:
    """A relation's file and its further segments (each 1 GB) and free-space/visibility maps."""
    base = data / relative
    return sorted(base.parent.glob(base.name + "*"))


@pytest.mark.parametrize("database_url", ["postgresql"], indirect=True)
async def test_withdrawn_words_are_unreadable_in_a_pg_dump_and_the_servers_own_files(
    migrated_url: str, tmp_path: Path
) -> None:
    dump = tmp_path / "before.sql"
    url = make_url(migrated_url)
    async with running(migrated_url, [G1]) as bot:
        await converse(bot)
        keys = keys_of(bot.engine)
        alice = await participant(bot, ALICE)
        copied = await alice_sealed(bot, alice)
        assert len(copied) == 6
        exported = [row.text async for row in bot.store.iter_responses()]
        assert "ALICE-NOW-7c1f my GP and the hospital" in exported
        done = subprocess.run(
            [PG_DUMP, "--format=plain", "--data-only", "-h", str(url.host), "-p", str(url.port)]
            + ["-U", str(url.username), "-f", str(dump), str(url.database)],
            capture_output=True,
            text=True,
            env={**os.environ, "PGPASSWORD": url.password or ""},
            check=False,
        )
        assert done.returncode == 0, done.stderr
        before = dump.read_bytes()
        # Sealed at rest: the dump holds Alice's texts sealed, never in plain.
        assert all(value.encode() in before for value, _ in copied)
        for word in ALICE_WORDS:
            assert word not in before

        await withdraw(bot, ALICE)
        assert (await bot.store.person_data(ALICE)).responses == ()

        async with bot.engine.connect() as conn:
            data = Path(
                (await conn.execute(text("SELECT current_setting('data_directory')"))).scalar_one()
            )
            relations = [
                (await conn.execute(text(f"SELECT pg_relation_filepath('{table}')"))).scalar_one()
                for table in SEALED_TABLES
            ]
        admin = bot.engine.execution_options(isolation_level="AUTOCOMMIT")
        async with admin.connect() as conn:
            # A plain VACUUM (dead rows stay in the pages) and a checkpoint to write them out.
            for table in SEALED_TABLES:
                await conn.execute(text(f"VACUUM {table}"))
            await conn.execute(text("CHECKPOINT"))
        server_files = [f for r in relations for f in _pg_files(data, r)]
        server_files += sorted(p for p in (data / "pg_wal").iterdir() if p.is_file())
        assert server_files and all(f.exists() for f in server_files)
        for word in ALICE_WORDS:
            assert word not in raw(server_files)
            assert word not in before
        assert_unreadable(keys, alice, copied)


async def test_a_person_who_agrees_again_after_withdrawing_gets_a_new_key_in_every_process(
    migrated_url: str,
) -> None:
    async with running(migrated_url, [G1]) as bot:
        await converse(bot)
        keys = keys_of(bot.engine)
        carol = person("carol")  # the newest person: on SQLite her id is given again
        await bot.service.handle(command(carol, G1, "/agree participate", "c5", 5))
        await bot.service.handle(say(carol, G1, "m5", "CAROL-FIRST words", 6))
        first = await participant(bot, carol)
        old_key = stored_key(keys, first)

        await withdraw(bot, carol)
        await bot.service.handle(command(carol, G1, "/agree participate", "c6", 20))
        await bot.service.handle(say(carol, G1, "m6", "CAROL-AGAIN new words", 21))

        # Sealed in the writer's process under a key made anew there, not one it had cached.
        assert [r.text for r in (await bot.store.person_data(carol)).responses] == [
            "CAROL-AGAIN new words"
        ]
        again = await participant(bot, carol)
        assert stored_key(keys, again) not in (None, old_key)
        if migrated_url.startswith("sqlite"):
            assert again == first  # the case a stale cached key would get wrong


async def test_upgrading_a_database_made_before_keys_seals_the_texts_it_holds(
    migrated_url: str,
) -> None:
    async with running(migrated_url, [G1]) as bot:
        await converse(bot)
        alice = await participant(bot, ALICE)
    # As a database made before keys: migrated back to the revision before the one that seals
    # them, the same tables holding plain texts, no person's key (the key store keeps only the
    # index that people are found by).
    await downgrade(migrated_url, "0008_cursors")
    engine = make_engine(migrated_url)
    try:
        async with engine.begin() as conn:
            plain = {
                responses: {"text": "PLAIN-REPLY"},
                response_edits: {"previous_text": "PLAIN-EARLIER"},
                pending_edits: {"text": "PLAIN-WAITING"},
                profile_answers: {"answer": "PLAIN-AGE"},
                session_reflections: {"went_well": "PLAIN-WELL", "was_hard": ""},
            }
            for table, values in plain.items():
                await conn.execute(update(table).values(values))
        with sqlite3.connect(keys_of(engine).path) as store:
            store.execute("DELETE FROM person_keys")
        keys_of(engine).forget()

        await upgrade(migrated_url)

        mine = await Repository(engine, STORE_KEY).person_data(ALICE)
        assert [r.text for r in mine.responses] == ["PLAIN-REPLY"]
        assert [a.answer for a in mine.profile] == ["PLAIN-AGE"]
        assert mine.reflections == (("PLAIN-WELL", "", None),)
        async with engine.connect() as conn:
            for table, values in plain.items():
                for column in values:
                    stored = (await conn.execute(select(table.c[column]))).scalars().all()
                    assert stored and all(v.startswith(PREFIX) for v in stored), table.name
        assert stored_key(keys_of(engine), alice) is not None
    finally:
        await engine.dispose()


def _upgrade_to_before_sealed_identities(conn: Connection) -> None:
    cfg = alembic_config()
    cfg.attributes["connection"] = conn
    script = ScriptDirectory.from_config(cfg)

    def sealed_on_the_way(head: str) -> bool:
        found = script.iterate_revisions(head, "base")
        return any(r.revision == "0014_identities" for r in found if r is not None)

    for head in [h for h in script.get_heads() if not sealed_on_the_way(h)] + ["0013_ops"]:
        alembic.upgrade(cfg, head)


async def test_upgrading_a_database_made_before_sealed_identities_seals_the_user_ids(
    database_url: str,
) -> None:
    await migrate(database_url, _upgrade_to_before_sealed_identities)
    engine = make_engine(database_url)
    try:
        async with engine.begin() as conn:
            now = {"at": at(0)}
            await conn.execute(
                text(
                    "INSERT INTO identities (id, platform, user_id, created_at)"
                    f" VALUES (1, '{ALICE.platform}', '{ALICE_ID}', :at)"
                ),
                now,
            )
            await conn.execute(
                text(
                    "INSERT INTO groups (id, platform, chat_id, created_at)"
                    f" VALUES (1, '{G1.platform}', '{G1.chat_id}', :at)"
                ),
                now,
            )
            await conn.execute(text("INSERT INTO facilitators VALUES (1, 1, :at)"), now)

        await upgrade(database_url)

        repository = Repository(engine, STORE_KEY)
        assert await repository.facilitators(G1) == frozenset({ALICE})
        await repository.grant_facilitator(G1, ALICE, at(1))  # found again: no second row
        async with engine.connect() as conn:
            rows = (await conn.execute(select(identities))).all()
        assert len(rows) == 1 and ALICE_ID not in repr(rows)
        assert rows[0].sealed_user_id.startswith(PREFIX)
    finally:
        await engine.dispose()


@pytest.mark.parametrize("wrong", ["id", "blind index"])
async def test_a_writer_remembering_a_stale_fact_fails_its_insert_rather_than_misfile_words(
    migrated_url: str, wrong: str
) -> None:
    async with running(migrated_url, [G1]) as bot:
        await converse(bot)
        (session,) = await bot.store.live_sessions()
        assert session.session_id is not None
        alice, bob = await participant(bot, ALICE), await participant(bot, BOB)

        def row(message_id: str, words: str) -> ReplyRow:
            captured = ResponseCaptured(
                session.session_id or "", ALICE, G1, "first-thoughts", message_id, words, at(30)
            )
            return reply_row(captured)

        # A writer that believes Alice's id is Bob's (as after an erasure it was not told of),
        # or that remembers Bob's blind index as hers: the insert finds Bob by it, not the id
        # Alice's words were sealed for.
        alice_ref = (ALICE.platform, ALICE.user_id)
        if wrong == "id":
            known = Known(people={alice_ref}, ids={alice_ref: bob})
        else:
            bobs = user_key(keys_of(bot.engine), BOB.platform, BOB.user_id)
            known = Known(people={alice_ref}, ids={alice_ref: alice}, blind={alice_ref: bobs})
        marks = Marks(STORE_KEY)
        with pytest.raises(IntegrityError):
            async with for_writes(bot.engine).begin() as conn:
                await store_replies(conn, [row("m7", "ALICE-MISFILED words")], marks, known)
        known.forget()  # as the writer does after a failure, before it tries again
        async with for_writes(bot.engine).begin() as conn:
            await store_replies(conn, [row("m7", "ALICE-FILED words")], marks, known)
        assert known.ids[(ALICE.platform, ALICE.user_id)] == alice
        texts = [r.text for r in (await bot.store.person_data(ALICE)).responses]
        assert texts == ["ALICE-NOW-7c1f my GP and the hospital", "ALICE-FILED words"]
        assert "ALICE-MISFILED" not in str(await bot.store.person_data(BOB))


async def test_a_retention_purge_that_removes_a_person_destroys_their_key(
    migrated_url: str,
) -> None:
    async with running(migrated_url, [G1]) as bot:
        await bot.service.handle(command(FRAN, G1, "/start health-data-intro", "c1"))
        (session,) = await bot.store.live_sessions()
        assert session.session_id is not None
        old, recent = at(-45 * 86400), at(-5 * 86400)
        await bot.store.apply(
            [
                ResponseCaptured(
                    session.session_id, ALICE, G1, "first-thoughts", "m1", "ALICE-OLD-1d1d", old
                ),
                ResponseCaptured(
                    session.session_id, BOB, G1, "first-thoughts", "m2", "BOB-NEW-2e2e", recent
                ),
                ConsentRecorded(BOB, G1, frozenset({"participate"}), "1", "h", recent),
            ]
        )
        keys = keys_of(bot.engine)
        alice, bob = await participant(bot, ALICE), await participant(bot, BOB)
        copied = await alice_sealed(bot, alice)  # as a backup made before the purge holds them
        assert len(copied) == 2  # her user id and her reply
        assert stored_key(keys, alice) is not None

        done = await purge(bot.engine, at(-30 * 86400), at(0))

        assert (done.responses, done.identities) == (1, 1)
        assert stored_key(keys, alice) is None and stored_key(keys, bob) is not None
        assert_unreadable(keys, alice, copied)
        assert [r.text for r in (await bot.store.person_data(BOB)).responses] == ["BOB-NEW-2e2e"]


async def test_an_id_given_again_after_a_purge_elsewhere_gets_a_key_that_opens(
    migrated_url: str,
) -> None:
    # Two processes' views of one deployment: the writer's (which once held Carol's key) and
    # the scheduler's (which purges her). SQLite gives Carol's id to the next person.
    writer, scheduler = make_engine(migrated_url), make_engine(migrated_url)
    carol, dave = person("carol"), person("dave")
    try:
        async with for_writes(writer).begin() as conn:
            carol_id = (await ensure_people(conn, [carol]))[carol]
        await purge(scheduler, None, at(0))
        async with for_writes(writer).begin() as conn:
            dave_id = (await ensure_people(conn, [dave]))[dave]
            sealed_words = keys_of(writer).seal(dave_id, "DAVE-WORDS", b"place")
        fresh = KeyStore(keys_of(writer).path)  # as a third process reads the key store
        assert fresh.open(dave_id, sealed_words, b"place") == "DAVE-WORDS"
        if writer.dialect.name == "sqlite":
            assert dave_id == carol_id  # the case this guards
        async with writer.connect() as conn:
            assert set((await user_ids(conn)).values()) == {"dave"}
    finally:
        await writer.dispose()
        await scheduler.dispose()
