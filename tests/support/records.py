"""A group, a person and a running session, fixed, for the storage and migration tests."""

from __future__ import annotations

from datetime import UTC, datetime, timedelta
from typing import Any

from alembic.autogenerate import compare_metadata
from alembic.migration import MigrationContext
from sqlalchemy import Connection

from bot.core.ids import GroupRef, PersonRef
from bot.core.state import SessionState, Status
from storage.tables import metadata

T0 = datetime(2025, 3, 1, 18, 0, tzinfo=UTC)
GROUP = GroupRef("telegram", "-1001")
ALICE = PersonRef("telegram", "4242")
SESSION = SessionState(
    group=GROUP,
    status=Status.RUNNING,
    session_id="s1",
    cycle_id="c1",
    script_id="housing",
    script_version="3",
    step_index=0,
    started_at=T0,
    step_started_at=T0,
)


def at(minutes: int) -> datetime:
    return T0 + timedelta(minutes=minutes)


def schema_diff(conn: Connection) -> list[Any]:
    """What differs between the database on ``conn`` and the tables the models declare."""
    return compare_metadata(MigrationContext.configure(conn), metadata)
