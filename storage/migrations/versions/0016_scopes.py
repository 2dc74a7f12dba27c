"""Consent scopes as rows: one ``consent_scopes`` row per scope agreed, not a column each.

A new scope then needs no migration, and a consent's scopes go with it (the rows cascade from
the consent, and an erasure deletes both). The scopes below are those that existed as columns.

Revision ID: 0016_scopes
Revises: 0015_question
Create Date: 2026-12-06
"""

from __future__ import annotations

from collections.abc import Sequence

import sqlalchemy as sa
from alembic import op

revision: str = "0016_scopes"
down_revision: str | Sequence[str] | None = "0015_question"
branch_labels: str | Sequence[str] | None = None
depends_on: str | Sequence[str] | None = None

# The scope columns of consents up to this revision (history: new scopes are rows only).
COLUMNS = ("participate", "quote", "profile", "followup")


def upgrade() -> None:
    op.create_table(
        "consent_scopes",
        sa.Column("participant_id", sa.Integer(), nullable=False),
        sa.Column("group_id", sa.Integer(), nullable=False),
        sa.Column("scope", sa.String(), nullable=False),
        sa.Column("agreed_at", sa.DateTime(timezone=True), nullable=False),
        sa.ForeignKeyConstraint(
            ["participant_id", "group_id"],
            ["consents.participant_id", "consents.group_id"],
            name="fk_consent_scopes_participant_id_consents",
            ondelete="CASCADE",
        ),
        sa.PrimaryKeyConstraint("participant_id", "group_id", "scope", name="pk_consent_scopes"),
    )
    op.create_index("ix_consent_scopes_scope", "consent_scopes", ["scope"])
    bind = op.get_bind()
    for scope in COLUMNS:
        bind.execute(
            sa.text(
                "INSERT INTO consent_scopes (participant_id, group_id, scope, agreed_at) "
                f"SELECT participant_id, group_id, :scope, given_at FROM consents WHERE {scope}"
            ),
            {"scope": scope},
        )
    with op.batch_alter_table("consents") as batch:
        for scope in COLUMNS:
            batch.drop_column(scope)


def downgrade() -> None:
    with op.batch_alter_table("consents") as batch:
        for scope in COLUMNS:
            batch.add_column(sa.Column(scope, sa.Boolean(), nullable=True))
    bind = op.get_bind()
    for scope in COLUMNS:
        bind.execute(
            sa.text(
                f"UPDATE consents SET {scope} = EXISTS (SELECT 1 FROM consent_scopes s "
                "WHERE s.participant_id = consents.participant_id "
                "AND s.group_id = consents.group_id AND s.scope = :scope)"
            ),
            {"scope": scope},
        )
    with op.batch_alter_table("consents") as batch:
        for scope in COLUMNS:
            batch.alter_column(scope, existing_type=sa.Boolean(), nullable=False)
    op.drop_index("ix_consent_scopes_scope", table_name="consent_scopes")
    op.drop_table("consent_scopes")
