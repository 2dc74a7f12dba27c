"""The Alembic migrations form one chain that upgrades, downgrades and upgrades again with data
in place, and databases made when they branched from 0001 upgrade onto it."""

from __future__ import annotations

import re
from pathlib import Path

import pytest
from alembic.script import ScriptDirectory
from sqlalchemy import func, inspect, select, text

from bot.core.captures import ConsentRecorded, LanguageChosen, ResponseCaptured, SessionSaved
from storage.db import (
    MIGRATIONS,
    DatabaseProblem,
    alembic_config,
    downgrade,
    head,
    make_engine,
    upgrade,
)
from storage.repositories import Repository
from storage.tables import responses
from tests.support.capture import STORE_KEY
from tests.support.cli import dialogue, write_config
from tests.support.records import ALICE, GROUP, SESSION, at, schema_diff

# The version rows of a database at the newest schema when every migration grew from 0001
# (0007 has none: 0012_content depended on it).
OLD_HEADS = [
    "0002",
    "0003",
    "0004",
    "0005",
    "0006",
    "0008_cursors",
    "0009_keys",
    "0010_erased",
    "0011_invites",
    "0012_content",
    "0013_ops",
]


def script() -> ScriptDirectory:
    return ScriptDirectory.from_config(alembic_config())


def test_the_migrations_form_one_chain_in_number_order() -> None:
    files = sorted((MIGRATIONS / "versions").glob("[0-9]*.py"))
    revisions = [re.search(r'^revision: str = "(.+)"', f.read_text(), re.M) for f in files]
    numbered = [found.group(1) for found in revisions if found]
    chain = [found.revision for found in reversed(list(script().walk_revisions()))]
    assert chain == numbered
    assert script().get_heads() == [numbered[-1]]
    assert head() == numbered[-1], "a bot's start reads the head without loading Alembic"
    assert all(not found.dependencies for found in script().walk_revisions())


async def with_data(url: str) -> None:
    """A session, a consent and a reply, stored as the bot stores them."""
    engine = make_engine(url)
    try:
        await Repository(engine, STORE_KEY).apply(
            [
                SessionSaved(SESSION),
                ConsentRecorded(
                    ALICE, GROUP, frozenset({"participate"}), "v1", "sha256:a", at(0), "en"
                ),
                LanguageChosen(ALICE, "bn", at(0)),
                ResponseCaptured("s1", ALICE, GROUP, "open", "m1", "my view", at(1), language="bn"),
            ]
        )
    finally:
        await engine.dispose()


async def state(url: str) -> tuple[list[str], list[str], int | None]:
    """The version rows, the tables and the count of replies (None: no replies table)."""
    engine = make_engine(url)
    try:
        async with engine.connect() as conn:
            tables = await conn.run_sync(lambda c: sorted(inspect(c).get_table_names()))
            rows = [
                r[0] for r in await conn.execute(text("SELECT version_num FROM alembic_version"))
            ]
            replies = None
            if "responses" in tables:
                replies = (await conn.execute(select(func.count()).select_from(responses))).scalar()
            return sorted(rows), tables, replies
    finally:
        await engine.dispose()


async def test_upgrade_downgrade_to_base_and_upgrade_again_with_data(database_url: str) -> None:
    head = script().get_current_head()
    await upgrade(database_url)
    await with_data(database_url)
    await downgrade(database_url, "base")
    rows, tables, replies = await state(database_url)
    assert (rows, tables, replies) == ([], ["alembic_version"], None)
    await upgrade(database_url)
    await with_data(database_url)
    rows, _, replies = await state(database_url)
    assert (rows, replies) == ([head], 1)
    engine = make_engine(database_url)
    try:
        async with engine.connect() as conn:
            assert await conn.run_sync(schema_diff) == []
    finally:
        await engine.dispose()


async def test_each_migration_downgrades_one_step_with_data_in_place(database_url: str) -> None:
    await upgrade(database_url)
    await with_data(database_url)
    for found in script().walk_revisions():  # newest first
        previous = found.down_revision
        assert isinstance(previous, str | None)
        await downgrade(database_url, previous or "base")
        rows, _, _ = await state(database_url)
        assert rows == ([previous] if previous else [])


async def test_a_database_at_the_old_branch_heads_upgrades_to_the_one_head(
    database_url: str,
) -> None:
    await upgrade(database_url)
    await with_data(database_url)
    # Back to the last migration of the branching layout, then as those migrations left it:
    # one version row per branch.
    await downgrade(database_url, OLD_HEADS[-1])
    engine = make_engine(database_url)
    try:
        async with engine.begin() as conn:
            await conn.execute(text("DELETE FROM alembic_version"))
            for head in OLD_HEADS:
                await conn.execute(text("INSERT INTO alembic_version VALUES (:v)"), {"v": head})
    finally:
        await engine.dispose()
    await upgrade(database_url)
    rows, _, replies = await state(database_url)
    assert (rows, replies) == ([script().get_current_head()], 1)


async def test_an_old_database_with_a_gap_in_its_branches_is_refused_with_what_to_do(
    tmp_path: Path,
) -> None:
    url = f"sqlite+aiosqlite:///{tmp_path}/gap.db"
    await upgrade(url)
    engine = make_engine(url)
    try:
        async with engine.begin() as conn:
            await conn.execute(text("DELETE FROM alembic_version"))
            for head in ("0002", "0004"):
                await conn.execute(text("INSERT INTO alembic_version VALUES (:v)"), {"v": head})
    finally:
        await engine.dispose()
    with pytest.raises(DatabaseProblem, match=r"lacks migrations 0003 .*'dialogue db upgrade'"):
        await upgrade(url)


async def test_db_downgrade_and_upgrade_from_the_command_line(tmp_path: Path) -> None:
    config = write_config(tmp_path / "dialogue.toml", f"sqlite+aiosqlite:///{tmp_path}/d.db")
    assert dialogue(config, "db", "upgrade").returncode == 0
    previous = script().get_revision(script().get_current_head()).down_revision
    back = dialogue(config, "db", "downgrade", str(previous))
    assert back.returncode == 0, back.stderr
    assert f"back at migration {previous}" in back.stdout
    behind = dialogue(config, "health")
    assert "migrations: 1 not applied; run: dialogue db upgrade" in behind.stdout
    assert behind.returncode == 2
    assert dialogue(config, "db", "upgrade").returncode == 0
    assert "the schema is up to date" in dialogue(config, "health").stdout
