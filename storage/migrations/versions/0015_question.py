"""The profile question waiting for a resident's typed answer, kept across restarts.

Revision ID: 0015_question
Revises: 0014_identities
Create Date: 2026-12-06
"""

from __future__ import annotations

from collections.abc import Sequence

import sqlalchemy as sa
from alembic import op

revision: str = "0015_question"
down_revision: str | Sequence[str] | None = "0014_identities"
branch_labels: str | Sequence[str] | None = None
depends_on: str | Sequence[str] | None = None


def upgrade() -> None:
    with op.batch_alter_table("direct_progress") as batch:
        batch.add_column(sa.Column("profile_question", sa.String(), nullable=True))


def downgrade() -> None:
    with op.batch_alter_table("direct_progress") as batch:
        batch.drop_column("profile_question")
