"""Exports: step visits, card exposures, and the record of each export and its pseudonyms.

Revision ID: 0003
Revises: 0002
Create Date: 2025-11-26
"""

from __future__ import annotations

from collections.abc import Sequence
from datetime import datetime

import sqlalchemy as sa
from alembic import op

revision: str = "0003"
down_revision: str | Sequence[str] | None = "0002"
branch_labels: str | Sequence[str] | None = None
depends_on: str | Sequence[str] | None = None


def _at(name: str, nullable: bool = False) -> sa.Column[datetime]:
    return sa.Column(name, sa.DateTime(timezone=True), nullable=nullable)


def upgrade() -> None:
    op.create_table(
        "step_visits",
        sa.Column("id", sa.Integer(), nullable=False),
        sa.Column("session_id", sa.String(), nullable=False),
        sa.Column("step_index", sa.Integer(), nullable=False),
        _at("started_at"),
        sa.PrimaryKeyConstraint("id", name="pk_step_visits"),
        sa.UniqueConstraint(
            "session_id",
            "started_at",
            "step_index",
            name="uq_step_visits_session_id_started_at_step_index",
        ),
        sa.ForeignKeyConstraint(
            ["session_id"], ["sessions.id"], name="fk_step_visits_session_id_sessions"
        ),
    )
    op.create_index("ix_step_visits_session_id", "step_visits", ["session_id"])
    op.create_table(
        "card_exposures",
        sa.Column("id", sa.Integer(), nullable=False),
        sa.Column("session_id", sa.String(), nullable=False),
        sa.Column("group_id", sa.Integer(), nullable=False),
        sa.Column("step_id", sa.String(), nullable=False),
        sa.Column("card_id", sa.String(), nullable=False),
        sa.Column("card_version", sa.String(), nullable=False),
        _at("shown_at"),
        sa.PrimaryKeyConstraint("id", name="pk_card_exposures"),
        sa.ForeignKeyConstraint(
            ["session_id"], ["sessions.id"], name="fk_card_exposures_session_id_sessions"
        ),
        sa.ForeignKeyConstraint(
            ["group_id"], ["groups.id"], name="fk_card_exposures_group_id_groups"
        ),
    )
    op.create_index("ix_card_exposures_session_id", "card_exposures", ["session_id"])
    op.create_table(
        "exports",
        sa.Column("id", sa.Integer(), nullable=False),
        _at("started_at"),
        _at("completed_at", nullable=True),
        sa.Column("cycle_id", sa.String(), nullable=True),
        sa.Column("profile", sa.String(), nullable=False),
        sa.Column("made_by", sa.String(), nullable=False),
        sa.PrimaryKeyConstraint("id", name="pk_exports"),
    )
    op.create_table(
        "export_pseudonyms",
        sa.Column("export_id", sa.Integer(), nullable=False),
        sa.Column("pseudonym", sa.String(), nullable=False),
        sa.PrimaryKeyConstraint("export_id", "pseudonym", name="pk_export_pseudonyms"),
        sa.ForeignKeyConstraint(
            ["export_id"],
            ["exports.id"],
            name="fk_export_pseudonyms_export_id_exports",
            ondelete="CASCADE",
        ),
    )
    op.create_index("ix_export_pseudonyms_pseudonym", "export_pseudonyms", ["pseudonym"])


def downgrade() -> None:
    for table in ("export_pseudonyms", "exports", "card_exposures", "step_visits"):
        op.drop_table(table)
