"""Invitations remembered as keyed hashes, and who leads each session, across restarts.

Revision ID: 0011_invites
Revises: 0010_erased
Create Date: 2026-12-05
"""

from __future__ import annotations

from collections.abc import Sequence

import sqlalchemy as sa
from alembic import op

revision: str = "0011_invites"
down_revision: str | Sequence[str] | None = "0010_erased"
branch_labels: str | Sequence[str] | None = None
depends_on: str | Sequence[str] | None = None


def upgrade() -> None:
    op.create_table(
        "invitations",
        sa.Column("key", sa.String(), nullable=False),
        sa.Column("invited_at", sa.DateTime(timezone=True), nullable=False),
        sa.PrimaryKeyConstraint("key", name="pk_invitations"),
    )
    op.create_table(
        "session_leads",
        sa.Column("session_id", sa.String(), nullable=False),
        sa.Column("participant_id", sa.Integer(), nullable=False),
        sa.Column("led_at", sa.DateTime(timezone=True), nullable=False),
        sa.PrimaryKeyConstraint("session_id", name="pk_session_leads"),
        sa.ForeignKeyConstraint(
            ["session_id"], ["sessions.id"], name="fk_session_leads_session_id_sessions"
        ),
        sa.ForeignKeyConstraint(
            ["participant_id"],
            ["identities.id"],
            name="fk_session_leads_participant_id_identities",
            ondelete="CASCADE",
        ),
    )
    op.create_index("ix_session_leads_participant_id", "session_leads", ["participant_id"])


def downgrade() -> None:
    op.drop_table("session_leads")
    op.drop_table("invitations")
