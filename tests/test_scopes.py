"""Adding a consent scope is one new ``Scope`` member: everything that lists scopes reads it.

Each test walks the members of ``Scope``, so a new member that some part does not cover (its
consent wording, its catalogue label, its export column, its button id, its stored row) fails.
"""

from __future__ import annotations

from collections.abc import AsyncIterator
from datetime import UTC, datetime
from pathlib import Path

import pytest
from sqlalchemy import func, select, text
from sqlalchemy.ext.asyncio import AsyncEngine

from bot.content.check import load_library
from bot.content.scopes import REQUIRED_SCOPE, SCOPES, Scope, in_order, unknown
from bot.core.actions import Button
from bot.core.captures import ConsentRecorded
from bot.core.ids import GroupRef, PersonRef
from bot.platforms.discord import ui
from bot.platforms.render import offered_scopes
from bot.texts import Catalogue
from exporters.schema import CONSENT_COUNTS, PARTICIPANTS
from storage.db import downgrade, make_engine, upgrade
from storage.repositories import Repository
from storage.tables import consent_scopes
from tests.support.capture import STORE_KEY

ROOT = Path(__file__).resolve().parents[1]
AT = datetime(2026, 1, 5, 9, 0, tzinfo=UTC)
GROUP = GroupRef("telegram", "-1001")
ALICE = PersonRef("telegram", "4242")


def test_the_scopes_keep_their_order_and_participate_comes_first_and_is_required() -> None:
    assert SCOPES == tuple(Scope) and SCOPES[0] is REQUIRED_SCOPE is Scope.PARTICIPATE
    assert in_order(reversed([s.value for s in Scope])) == SCOPES
    assert unknown(["quote", "shared", "everything"]) == ["everything", "shared"]
    assert Scope.named("shared") is None and Scope.named("quote") is Scope.QUOTE


def test_every_scope_is_described_to_people_and_labelled_in_every_catalogue() -> None:
    library = load_library(ROOT)
    catalogue = Catalogue.load()
    assert library.consents
    for consent in library.consents.values():
        for scope in Scope:
            assert consent.scopes[scope] in consent.full_text(), (consent.language, scope)
    for language in catalogue.languages:
        for scope in Scope:
            label = catalogue.get(language, f"report.scope_{scope}")
            assert label and label != f"report.scope_{scope}", (language, scope)


def test_every_scope_has_an_export_column_and_a_consent_count() -> None:
    columns = {column.name: column for column in PARTICIPANTS.columns}
    (counted,) = [column for column in CONSENT_COUNTS.columns if column.name == "scope"]
    for scope in Scope:
        assert columns[scope.value].type == "boolean", scope
        assert scope in counted.enum


def test_every_scope_gets_a_discord_toggle_whose_id_names_it_and_fits() -> None:
    offered = offered_scopes((Button("All", f"agree {' '.join(Scope)}", "/agree"),))
    assert offered == SCOPES
    form = tuple((scope, True) for scope in offered)
    topic = f"{'9' * 20}/{'9' * 20}"
    for scope in Scope:
        toggle = ui.ConsentToggle(topic, form, scope, "x")
        assert len(toggle.custom_id) <= ui.CUSTOM_ID_LIMIT
        assert toggle.custom_id.endswith(f":{scope}") and f"+{scope}" in toggle.custom_id
    assert ui.read_form(ui.form_id(form)) == form
    # A name no longer (or not yet) known is left out, not misread as another scope.
    assert ui.read_form("+participate-shared+quote") == (
        (Scope.PARTICIPATE, True),
        (Scope.QUOTE, True),
    )


@pytest.fixture
async def engine(migrated_url: str) -> AsyncIterator[AsyncEngine]:
    engine = make_engine(migrated_url)
    yield engine
    await engine.dispose()


async def stored(engine: AsyncEngine) -> set[str]:
    async with engine.connect() as conn:
        return set((await conn.execute(select(consent_scopes.c.scope))).scalars())


async def test_each_scope_is_a_row_replaced_when_consent_is_given_again_and_erased(
    engine: AsyncEngine,
) -> None:
    repo = Repository(engine, b"k" * 32)
    everything = frozenset(Scope)
    await repo.apply([ConsentRecorded(ALICE, GROUP, everything, "v1", "sha256:a", AT)])
    consent = await repo.consent(ALICE, GROUP)
    assert consent is not None and consent.scopes == everything
    assert await stored(engine) == {scope.value for scope in Scope}

    fewer = frozenset({REQUIRED_SCOPE})
    await repo.apply([ConsentRecorded(ALICE, GROUP, fewer, "v2", "sha256:b", AT)])
    consent = await repo.consent(ALICE, GROUP)
    assert consent is not None and (consent.scopes, consent.version) == (fewer, "v2")
    assert await stored(engine) == {REQUIRED_SCOPE.value}

    erased = await repo.erase_person(ALICE, "p-1", AT)
    assert erased.consents == 1
    async with engine.connect() as conn:
        left = (await conn.execute(select(func.count()).select_from(consent_scopes))).scalar()
    assert left == 0 and await repo.consent(ALICE, GROUP) is None


async def test_a_scope_the_schema_does_not_know_is_refused_before_anything_is_stored(
    repo: Repository,
) -> None:
    strange = frozenset({"participate", "shared"})
    with pytest.raises(ValueError, match="unknown consent scopes: \\['shared'\\]"):
        await repo.apply([ConsentRecorded(ALICE, GROUP, strange, "v1", "sha256:a", AT)])
    assert await repo.consent(ALICE, GROUP) is None


async def test_the_scope_rows_go_back_to_columns_and_return_across_the_migration(
    database_url: str,
) -> None:
    await upgrade(database_url)
    agreed = frozenset({Scope.PARTICIPATE, Scope.QUOTE})
    engine = make_engine(database_url)
    try:
        await Repository(engine, STORE_KEY).apply(
            [ConsentRecorded(ALICE, GROUP, agreed, "v1", "sha256:a", AT)]
        )
    finally:
        await engine.dispose()
    await downgrade(database_url, "0015_question")
    engine = make_engine(database_url)
    try:
        async with engine.connect() as conn:
            columns = "participate, quote, profile, followup"
            row = (await conn.execute(text(f"SELECT {columns} FROM consents"))).one()
        assert tuple(bool(value) for value in row) == (True, True, False, False)
    finally:
        await engine.dispose()
    await upgrade(database_url)
    engine = make_engine(database_url)
    try:
        consent = await Repository(engine, STORE_KEY).consent(ALICE, GROUP)
        assert consent is not None and consent.scopes == agreed and consent.given_at == AT
    finally:
        await engine.dispose()
