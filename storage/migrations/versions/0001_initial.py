"""Initial schema: identities, groups, consents, sessions, responses, votes, audit.

Revision ID: 0001
Revises:
Create Date: 2025-11-25
"""

from __future__ import annotations

from collections.abc import Sequence
from datetime import datetime

import sqlalchemy as sa
from alembic import op

revision: str = "0001"
down_revision: str | Sequence[str] | None = None
branch_labels: str | Sequence[str] | None = None
depends_on: str | Sequence[str] | None = None


def _at(name: str, nullable: bool = False) -> sa.Column[datetime]:
    return sa.Column(name, sa.DateTime(timezone=True), nullable=nullable)


def upgrade() -> None:
    op.create_table(
        "identities",
        sa.Column("id", sa.Integer(), nullable=False),
        sa.Column("platform", sa.String(), nullable=False),
        sa.Column("user_id", sa.String(), nullable=False),
        _at("created_at"),
        sa.PrimaryKeyConstraint("id", name="pk_identities"),
        sa.UniqueConstraint("platform", "user_id", name="uq_identities_platform_user_id"),
    )
    op.create_table(
        "groups",
        sa.Column("id", sa.Integer(), nullable=False),
        sa.Column("platform", sa.String(), nullable=False),
        sa.Column("chat_id", sa.String(), nullable=False),
        sa.Column("title", sa.String(), nullable=True),
        _at("created_at"),
        sa.PrimaryKeyConstraint("id", name="pk_groups"),
        sa.UniqueConstraint("platform", "chat_id", name="uq_groups_platform_chat_id"),
    )
    op.create_table(
        "facilitators",
        sa.Column("group_id", sa.Integer(), nullable=False),
        sa.Column("participant_id", sa.Integer(), nullable=False),
        _at("granted_at"),
        sa.PrimaryKeyConstraint("group_id", "participant_id", name="pk_facilitators"),
        sa.ForeignKeyConstraint(
            ["group_id"], ["groups.id"], name="fk_facilitators_group_id_groups"
        ),
        sa.ForeignKeyConstraint(
            ["participant_id"],
            ["identities.id"],
            name="fk_facilitators_participant_id_identities",
            ondelete="CASCADE",
        ),
    )
    op.create_index("ix_facilitators_participant_id", "facilitators", ["participant_id"])
    op.create_table(
        "consents",
        sa.Column("id", sa.Integer(), nullable=False),
        sa.Column("participant_id", sa.Integer(), nullable=False),
        sa.Column("group_id", sa.Integer(), nullable=False),
        sa.Column("participate", sa.Boolean(), nullable=False),
        sa.Column("quote", sa.Boolean(), nullable=False),
        sa.Column("profile", sa.Boolean(), nullable=False),
        sa.Column("followup", sa.Boolean(), nullable=False),
        sa.Column("consent_version", sa.String(), nullable=False),
        sa.Column("text_hash", sa.String(), nullable=False),
        _at("given_at"),
        sa.PrimaryKeyConstraint("id", name="pk_consents"),
        sa.UniqueConstraint(
            "participant_id", "group_id", name="uq_consents_participant_id_group_id"
        ),
        sa.ForeignKeyConstraint(
            ["participant_id"],
            ["identities.id"],
            name="fk_consents_participant_id_identities",
            ondelete="CASCADE",
        ),
        sa.ForeignKeyConstraint(["group_id"], ["groups.id"], name="fk_consents_group_id_groups"),
    )
    op.create_table(
        "sessions",
        sa.Column("id", sa.String(), nullable=False),
        sa.Column("group_id", sa.Integer(), nullable=False),
        sa.Column("cycle_id", sa.String(), nullable=True),
        sa.Column("script_id", sa.String(), nullable=True),
        sa.Column("script_version", sa.String(), nullable=True),
        sa.Column("status", sa.String(), nullable=False),
        sa.Column("step_index", sa.Integer(), nullable=False),
        _at("started_at", nullable=True),
        _at("step_started_at", nullable=True),
        _at("ended_at", nullable=True),
        _at("updated_at"),
        sa.PrimaryKeyConstraint("id", name="pk_sessions"),
        sa.ForeignKeyConstraint(["group_id"], ["groups.id"], name="fk_sessions_group_id_groups"),
    )
    op.create_index("ix_sessions_cycle_id", "sessions", ["cycle_id"])
    op.create_index("ix_sessions_status", "sessions", ["status"])
    op.create_table(
        "responses",
        sa.Column("id", sa.Integer(), nullable=False),
        sa.Column("session_id", sa.String(), nullable=False),
        sa.Column("participant_id", sa.Integer(), nullable=False),
        sa.Column("group_id", sa.Integer(), nullable=False),
        sa.Column("step_id", sa.String(), nullable=False),
        sa.Column("platform", sa.String(), nullable=False),
        sa.Column("chat_id", sa.String(), nullable=False),
        sa.Column("message_id", sa.String(), nullable=False),
        sa.Column("text", sa.Text(), nullable=False),
        sa.Column("kind", sa.String(), nullable=False),
        sa.Column("reply_to", sa.String(), nullable=True),
        _at("posted_at"),
        _at("edited_at", nullable=True),
        sa.PrimaryKeyConstraint("id", name="pk_responses"),
        sa.UniqueConstraint(
            "platform",
            "chat_id",
            "message_id",
            name="uq_responses_platform_chat_id_message_id",
        ),
        sa.ForeignKeyConstraint(
            ["session_id"], ["sessions.id"], name="fk_responses_session_id_sessions"
        ),
        sa.ForeignKeyConstraint(
            ["participant_id"],
            ["identities.id"],
            name="fk_responses_participant_id_identities",
            ondelete="CASCADE",
        ),
        sa.ForeignKeyConstraint(["group_id"], ["groups.id"], name="fk_responses_group_id_groups"),
    )
    op.create_index("ix_responses_session_id", "responses", ["session_id"])
    op.create_index("ix_responses_participant_id", "responses", ["participant_id"])
    op.create_table(
        "response_edits",
        sa.Column("id", sa.Integer(), nullable=False),
        sa.Column("response_id", sa.Integer(), nullable=False),
        sa.Column("previous_text", sa.Text(), nullable=False),
        _at("replaced_at"),
        sa.PrimaryKeyConstraint("id", name="pk_response_edits"),
        sa.ForeignKeyConstraint(
            ["response_id"],
            ["responses.id"],
            name="fk_response_edits_response_id_responses",
            ondelete="CASCADE",
        ),
    )
    op.create_index("ix_response_edits_response_id", "response_edits", ["response_id"])
    op.create_table(
        "votes",
        sa.Column("id", sa.Integer(), nullable=False),
        sa.Column("session_id", sa.String(), nullable=False),
        sa.Column("participant_id", sa.Integer(), nullable=False),
        sa.Column("group_id", sa.Integer(), nullable=False),
        sa.Column("step_id", sa.String(), nullable=False),
        sa.Column("options", sa.String(), nullable=False),
        _at("cast_at"),
        sa.PrimaryKeyConstraint("id", name="pk_votes"),
        sa.UniqueConstraint(
            "session_id",
            "participant_id",
            "step_id",
            name="uq_votes_session_id_participant_id_step_id",
        ),
        sa.ForeignKeyConstraint(
            ["session_id"], ["sessions.id"], name="fk_votes_session_id_sessions"
        ),
        sa.ForeignKeyConstraint(
            ["participant_id"],
            ["identities.id"],
            name="fk_votes_participant_id_identities",
            ondelete="CASCADE",
        ),
        sa.ForeignKeyConstraint(["group_id"], ["groups.id"], name="fk_votes_group_id_groups"),
    )
    op.create_index("ix_votes_participant_id", "votes", ["participant_id"])
    op.create_table(
        "audit",
        sa.Column("id", sa.Integer(), nullable=False),
        _at("at"),
        sa.Column("kind", sa.String(), nullable=False),
        sa.Column("detail", sa.JSON(), nullable=False),
        sa.PrimaryKeyConstraint("id", name="pk_audit"),
    )
    op.create_index("ix_audit_kind_at", "audit", ["kind", "at"])


def downgrade() -> None:
    for table in (
        "audit",
        "votes",
        "response_edits",
        "responses",
        "sessions",
        "consents",
        "facilitators",
        "groups",
        "identities",
    ):
        op.drop_table(table)
