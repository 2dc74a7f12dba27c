"""Capture: messages already handled, edits that arrive before their message, cut replies.

Revision ID: 0005
Revises: 0004
Create Date: 2025-11-26
"""

from __future__ import annotations

from collections.abc import Sequence
from datetime import datetime

import sqlalchemy as sa
from alembic import op

revision: str = "0005"
down_revision: str | Sequence[str] | None = "0004"
branch_labels: str | Sequence[str] | None = None
depends_on: str | Sequence[str] | None = None


def _at(name: str) -> sa.Column[datetime]:
    return sa.Column(name, sa.DateTime(timezone=True), nullable=False)


def _message_key() -> list[sa.Column[str]]:
    return [
        sa.Column("platform", sa.String(), nullable=False),
        sa.Column("chat_id", sa.String(), nullable=False),
        sa.Column("message_id", sa.String(), nullable=False),
    ]


def upgrade() -> None:
    op.add_column("responses", sa.Column("original_length", sa.Integer(), nullable=True))
    op.create_table(
        "handled_messages",
        *_message_key(),
        _at("handled_at"),
        sa.PrimaryKeyConstraint("platform", "chat_id", "message_id", name="pk_handled_messages"),
    )
    op.create_index("ix_handled_messages_handled_at", "handled_messages", ["handled_at"])
    op.create_table(
        "pending_edits",
        *_message_key(),
        sa.Column("participant_id", sa.Integer(), nullable=False),
        sa.Column("text", sa.Text(), nullable=False),
        sa.Column("original_length", sa.Integer(), nullable=True),
        _at("edited_at"),
        sa.PrimaryKeyConstraint(
            "platform", "chat_id", "message_id", "edited_at", name="pk_pending_edits"
        ),
        sa.ForeignKeyConstraint(
            ["participant_id"],
            ["identities.id"],
            name="fk_pending_edits_participant_id_identities",
            ondelete="CASCADE",
        ),
    )
    op.create_index("ix_pending_edits_participant_id", "pending_edits", ["participant_id"])
    op.create_index("ix_pending_edits_edited_at", "pending_edits", ["edited_at"])


def downgrade() -> None:
    op.drop_table("pending_edits")
    op.drop_table("handled_messages")
    with op.batch_alter_table("responses") as batch:
        batch.drop_column("original_length")
