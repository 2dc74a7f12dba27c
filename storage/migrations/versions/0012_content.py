"""Content versions: the script and cards each session ran, kept by the hash of their content.

Revision ID: 0012_content
Revises: 0011_invites
Create Date: 2026-12-05
"""

from __future__ import annotations

from collections.abc import Sequence

import sqlalchemy as sa
from alembic import op

revision: str = "0012_content"
down_revision: str | Sequence[str] | None = "0011_invites"
branch_labels: str | Sequence[str] | None = None
depends_on: str | Sequence[str] | None = None


def upgrade() -> None:
    op.create_table(
        "content_versions",
        sa.Column("digest", sa.String(), nullable=False),
        sa.Column("script_id", sa.String(), nullable=False),
        sa.Column("content", sa.JSON(), nullable=False),
        sa.Column("first_used_at", sa.DateTime(timezone=True), nullable=False),
        sa.PrimaryKeyConstraint("digest", name="pk_content_versions"),
    )
    op.add_column("sessions", sa.Column("content_version", sa.String(), nullable=True))
    op.add_column("direct_progress", sa.Column("content_version", sa.String(), nullable=True))


def downgrade() -> None:
    with op.batch_alter_table("direct_progress") as batch:
        batch.drop_column("content_version")
    with op.batch_alter_table("sessions") as batch:
        batch.drop_column("content_version")
    op.drop_table("content_versions")
