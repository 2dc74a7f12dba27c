"""Profiles: people's answers to the optional profile questions.

Revision ID: 0006
Revises: 0005
Create Date: 2025-11-26
"""

from __future__ import annotations

from collections.abc import Sequence

import sqlalchemy as sa
from alembic import op

revision: str = "0006"
down_revision: str | Sequence[str] | None = "0005"
branch_labels: str | Sequence[str] | None = None
depends_on: str | Sequence[str] | None = None


def upgrade() -> None:
    op.create_table(
        "profile_answers",
        sa.Column("participant_id", sa.Integer(), nullable=False),
        sa.Column("question_id", sa.String(), nullable=False),
        sa.Column("answer", sa.String(), nullable=True),
        sa.Column("answered_at", sa.DateTime(timezone=True), nullable=False),
        sa.PrimaryKeyConstraint("participant_id", "question_id", name="pk_profile_answers"),
        sa.ForeignKeyConstraint(
            ["participant_id"],
            ["identities.id"],
            name="fk_profile_answers_participant_id_identities",
            ondelete="CASCADE",
        ),
    )


def downgrade() -> None:
    op.drop_table("profile_answers")
