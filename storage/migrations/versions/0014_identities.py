"""Identities sealed: a person's platform user id is stored only under their own key.

Each row gets ``user_key``, a blind index of the user id (a keyed hash, see storage._keys) to
look the person up by, and ``sealed_user_id``, the id sealed under the person's key from the
deployment's key store; the plain ``user_id`` column goes. Destroying a person's key then leaves
no readable identifier of them in any copy of the database made afterwards or before.

Revision ID: 0014_identities
Revises: 0013_ops
Create Date: 2026-12-06
"""

from __future__ import annotations

from collections.abc import Sequence

import sqlalchemy as sa
from alembic import op

from storage._keys import identity_row, open_person
from storage.keystore import KeyGone, keys_of

revision: str = "0014_identities"
down_revision: str | Sequence[str] | None = "0013_ops"
branch_labels: str | Sequence[str] | None = None
depends_on: str | Sequence[str] | None = None


def upgrade() -> None:
    bind = op.get_bind()
    keys = keys_of(bind)
    with op.batch_alter_table("identities") as batch:
        batch.add_column(sa.Column("user_key", sa.String(), nullable=True))
        batch.add_column(sa.Column("sealed_user_id", sa.String(), nullable=True))
    rows = bind.exec_driver_sql("SELECT id, platform, user_id FROM identities").all()
    # Committed to the key store before this migration commits what they seal.
    keys.ensure(row.id for row in rows)
    for row in rows:
        _, _, key, sealed = identity_row(keys, row.id, row.platform, row.user_id)
        bind.execute(
            sa.text(
                "UPDATE identities SET user_key = :key, sealed_user_id = :sealed WHERE id = :id"
            ),
            {"id": row.id, "key": key, "sealed": sealed},
        )
    with op.batch_alter_table("identities") as batch:
        batch.drop_constraint("uq_identities_platform_user_id", type_="unique")
        batch.drop_column("user_id")
        batch.alter_column("user_key", existing_type=sa.String(), nullable=False)
        batch.create_unique_constraint("uq_identities_platform_user_key", ["platform", "user_key"])


def downgrade() -> None:
    """User ids back in plain, opened with each person's key.

    A person whose key is gone (erased, purged) cannot be read back: their row keeps a
    placeholder naming the row (``erased:ID``), which matches no platform user.
    """
    bind = op.get_bind()
    keys = keys_of(bind)
    with op.batch_alter_table("identities") as batch:
        batch.add_column(sa.Column("user_id", sa.String(), nullable=True))
    rows = bind.exec_driver_sql("SELECT id, platform, sealed_user_id FROM identities").all()
    for row in rows:
        try:
            user_id = open_person(keys, row.id, row.platform, row.sealed_user_id).user_id
        except KeyGone:
            user_id = f"erased:{row.id}"
        bind.execute(
            sa.text("UPDATE identities SET user_id = :user_id WHERE id = :id"),
            {"id": row.id, "user_id": user_id},
        )
    with op.batch_alter_table("identities") as batch:
        batch.drop_constraint("uq_identities_platform_user_key", type_="unique")
        batch.drop_column("sealed_user_id")
        batch.drop_column("user_key")
        batch.alter_column("user_id", existing_type=sa.String(), nullable=False)
        batch.create_unique_constraint("uq_identities_platform_user_id", ["platform", "user_id"])
