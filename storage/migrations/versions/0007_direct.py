"""Direct: residents' self-paced progress, and facilitators' session reflections.

Revision ID: 0007
Revises: 0006
Create Date: 2025-11-27
"""

from __future__ import annotations

from collections.abc import Sequence
from datetime import datetime

import sqlalchemy as sa
from alembic import op

revision: str = "0007"
down_revision: str | Sequence[str] | None = "0006"
branch_labels: str | Sequence[str] | None = None
depends_on: str | Sequence[str] | None = None


def _at(name: str, nullable: bool = False) -> sa.Column[datetime]:
    return sa.Column(name, sa.DateTime(timezone=True), nullable=nullable)


def upgrade() -> None:
    op.create_table(
        "direct_progress",
        sa.Column("id", sa.Integer(), nullable=False),
        sa.Column("participant_id", sa.Integer(), nullable=False),
        sa.Column("cycle_id", sa.String(), nullable=False),
        sa.Column("script_id", sa.String(), nullable=False),
        sa.Column("script_version", sa.String(), nullable=False),
        sa.Column("step_index", sa.Integer(), nullable=False),
        sa.Column("status", sa.String(), nullable=False),
        sa.Column("answered", sa.Boolean(), nullable=False),
        sa.Column("remind", sa.Boolean(), nullable=True),
        _at("updated_at"),
        _at("stopped_at", nullable=True),
        _at("reminded_at", nullable=True),
        sa.PrimaryKeyConstraint("id", name="pk_direct_progress"),
        sa.UniqueConstraint(
            "participant_id", "cycle_id", name="uq_direct_progress_participant_id_cycle_id"
        ),
        sa.ForeignKeyConstraint(
            ["participant_id"],
            ["identities.id"],
            name="fk_direct_progress_participant_id_identities",
            ondelete="CASCADE",
        ),
    )
    op.create_index("ix_direct_progress_status", "direct_progress", ["status"])
    op.create_table(
        "session_reflections",
        sa.Column("session_id", sa.String(), nullable=False),
        sa.Column("participant_id", sa.Integer(), nullable=False),
        sa.Column("went_well", sa.Text(), nullable=True),
        sa.Column("was_hard", sa.Text(), nullable=True),
        sa.Column("to_change", sa.Text(), nullable=True),
        _at("asked_at"),
        _at("updated_at"),
        sa.PrimaryKeyConstraint("session_id", name="pk_session_reflections"),
        sa.ForeignKeyConstraint(
            ["session_id"], ["sessions.id"], name="fk_session_reflections_session_id_sessions"
        ),
        sa.ForeignKeyConstraint(
            ["participant_id"],
            ["identities.id"],
            name="fk_session_reflections_participant_id_identities",
            ondelete="CASCADE",
        ),
    )
    op.create_index(
        "ix_session_reflections_participant_id", "session_reflections", ["participant_id"]
    )


def downgrade() -> None:
    op.drop_table("session_reflections")
    op.drop_table("direct_progress")
