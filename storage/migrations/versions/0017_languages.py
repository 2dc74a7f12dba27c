"""Languages: each person's chosen language, a session's, and those of replies and consents.

``person_languages`` holds a language a person chose (only once they consented somewhere; it
goes with them when they are erased). A session's ``language`` is the one its group posts are
in; a reply's is the language the bot spoke to its author in; a consent's is the language of
the text the person read (``text_hash`` is that text's hash). NULL: from before languages.

Revision ID: 0017_languages
Revises: 0016_scopes
Create Date: 2026-12-06
"""

from __future__ import annotations

from collections.abc import Sequence

import sqlalchemy as sa
from alembic import op

revision: str = "0017_languages"
down_revision: str | Sequence[str] | None = "0016_scopes"
branch_labels: str | Sequence[str] | None = None
depends_on: str | Sequence[str] | None = None

TABLES = ("sessions", "responses", "consents")


def upgrade() -> None:
    op.create_table(
        "person_languages",
        sa.Column("participant_id", sa.Integer(), nullable=False),
        sa.Column("language", sa.String(), nullable=False),
        sa.Column("chosen_at", sa.DateTime(timezone=True), nullable=False),
        sa.ForeignKeyConstraint(
            ["participant_id"],
            ["identities.id"],
            name="fk_person_languages_participant_id_identities",
            ondelete="CASCADE",
        ),
        sa.PrimaryKeyConstraint("participant_id", name="pk_person_languages"),
    )
    for table in TABLES:
        with op.batch_alter_table(table) as batch:
            batch.add_column(sa.Column("language", sa.String(), nullable=True))


def downgrade() -> None:
    for table in TABLES:
        with op.batch_alter_table(table) as batch:
            batch.drop_column("language")
    op.drop_table("person_languages")
