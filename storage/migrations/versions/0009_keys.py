"""Keys: every text a person typed is stored sealed under a key of their own.

The columns keep their types (a sealed value is text: see storage.keystore). Texts stored
before this revision are sealed here, with keys from the deployment's key store, so an upgraded
database holds no plain text. A table not created yet (a new database) has nothing to seal.

Revision ID: 0009_keys
Revises: 0008_cursors
Create Date: 2026-12-05
"""

from __future__ import annotations

from collections.abc import Callable, Sequence
from functools import partial
from typing import Any

import sqlalchemy as sa
from alembic import op

from storage import sealed
from storage.keystore import PREFIX, keys_of

revision: str = "0009_keys"
down_revision: str | Sequence[str] | None = "0008_cursors"
branch_labels: str | Sequence[str] | None = None
depends_on: str | Sequence[str] | None = None

_Context = Callable[[Any], bytes]


def _reflection(column: str, row: Any) -> bytes:
    return sealed.reflection(column, row.pid, row.session_id)


# Per table: its row key, the other columns its associated data needs, how to find the person,
# and each sealed column with its associated data.
_PLACES: dict[str, tuple[tuple[str, ...], tuple[str, ...], str, dict[str, _Context]]] = {
    "responses": (
        ("id",),
        ("platform", "chat_id", "message_id"),
        "participant_id",
        {"text": lambda r: sealed.reply(r.pid, (r.platform, r.chat_id, r.message_id))},
    ),
    "response_edits": (
        ("id",),
        ("response_id",),
        "(SELECT participant_id FROM responses WHERE responses.id = response_id)",
        {"previous_text": lambda r: sealed.earlier(r.pid, r.response_id)},
    ),
    "pending_edits": (
        ("platform", "chat_id", "message_id", "edited_at"),
        (),
        "participant_id",
        {"text": lambda r: sealed.pending(r.pid, (r.platform, r.chat_id, r.message_id))},
    ),
    "profile_answers": (
        ("participant_id", "question_id"),
        (),
        "participant_id",
        {"answer": lambda r: sealed.answer(r.pid, r.question_id)},
    ),
    "session_reflections": (
        ("session_id",),
        (),
        "participant_id",
        {column: partial(_reflection, column) for column in sealed.REFLECTION_COLUMNS},
    ),
}


def upgrade() -> None:
    bind = op.get_bind()
    keys = keys_of(bind)
    existing = set(sa.inspect(bind).get_table_names())
    for table, (row_key, needed, person, columns) in _PLACES.items():
        if table not in existing:
            continue
        names = ", ".join(dict.fromkeys((*row_key, *needed, *columns)))
        rows = bind.exec_driver_sql(f"SELECT {names}, {person} AS pid FROM {table}").all()
        # Committed to the key store before this migration commits what they seal.
        keys.ensure({row.pid for row in rows})
        where = " AND ".join(f"{name} = :k_{name}" for name in row_key)
        for row in rows:
            # Only plain texts: one already sealed (this revision run again) stays as it is.
            values = {
                column: keys.seal(row.pid, value, place(row))
                for column, place in columns.items()
                if (value := getattr(row, column)) is not None and not value.startswith(PREFIX)
            }
            if values:
                sets = ", ".join(f"{column} = :{column}" for column in values)
                keyed = {f"k_{name}": getattr(row, name) for name in row_key}
                bind.execute(sa.text(f"UPDATE {table} SET {sets} WHERE {where}"), keyed | values)


def downgrade() -> None:
    """Sealed texts stay sealed: their keys are in the key store, not here."""
