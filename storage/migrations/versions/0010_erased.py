"""Erased messages: a keyed hash of each erased message's platform key, kept for good.

Revision ID: 0010_erased
Revises: 0009_keys
Create Date: 2026-12-05
"""

from __future__ import annotations

from collections.abc import Sequence

import sqlalchemy as sa
from alembic import op

revision: str = "0010_erased"
down_revision: str | Sequence[str] | None = "0009_keys"
branch_labels: str | Sequence[str] | None = None
depends_on: str | Sequence[str] | None = None


def upgrade() -> None:
    op.create_table(
        "erased_messages",
        sa.Column("mark", sa.LargeBinary(), nullable=False),
        sa.PrimaryKeyConstraint("mark", name="pk_erased_messages"),
    )


def downgrade() -> None:
    op.drop_table("erased_messages")
