"""Registered groups: only groups staff registered run sessions.

Revision ID: 0004
Revises: 0003
Create Date: 2025-11-26
"""

from __future__ import annotations

from collections.abc import Sequence

import sqlalchemy as sa
from alembic import op

revision: str = "0004"
down_revision: str | Sequence[str] | None = "0003"
branch_labels: str | Sequence[str] | None = None
depends_on: str | Sequence[str] | None = None


def upgrade() -> None:
    op.create_table(
        "registrations",
        sa.Column("group_id", sa.Integer(), nullable=False),
        sa.Column("registered_at", sa.DateTime(timezone=True), nullable=False),
        sa.PrimaryKeyConstraint("group_id", name="pk_registrations"),
        sa.ForeignKeyConstraint(
            ["group_id"], ["groups.id"], name="fk_registrations_group_id_groups"
        ),
    )


def downgrade() -> None:
    op.drop_table("registrations")
