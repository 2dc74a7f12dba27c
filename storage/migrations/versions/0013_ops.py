"""Heard quotes: which reply each statement of a "what we heard" draft quotes.

Revision ID: 0013_ops
Revises: 0012_content
Create Date: 2026-12-05
"""

from __future__ import annotations

from collections.abc import Sequence

import sqlalchemy as sa
from alembic import op

revision: str = "0013_ops"
down_revision: str | Sequence[str] | None = "0012_content"
branch_labels: str | Sequence[str] | None = None
depends_on: str | Sequence[str] | None = None


def upgrade() -> None:
    op.create_table(
        "heard_quotes",
        sa.Column("cycle_id", sa.String(), nullable=False),
        sa.Column("number", sa.Integer(), nullable=False),
        sa.Column("response_id", sa.Integer(), nullable=False),
        sa.PrimaryKeyConstraint("cycle_id", "number", name="pk_heard_quotes"),
        sa.ForeignKeyConstraint(
            ["response_id"],
            ["responses.id"],
            name="fk_heard_quotes_response_id_responses",
            ondelete="CASCADE",
        ),
    )
    op.create_index("ix_heard_quotes_response_id", "heard_quotes", ["response_id"])


def downgrade() -> None:
    op.drop_table("heard_quotes")
