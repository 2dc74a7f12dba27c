"""Cycles and scheduling: cycles, scheduled sessions, job runs, the job store, the lease.

Revision ID: 0002
Revises: 0001
Create Date: 2025-11-26
"""

from __future__ import annotations

from collections.abc import Sequence
from datetime import datetime

import sqlalchemy as sa
from alembic import op

revision: str = "0002"
down_revision: str | Sequence[str] | None = "0001"
branch_labels: str | Sequence[str] | None = None
depends_on: str | Sequence[str] | None = None


def _at(name: str, nullable: bool = False) -> sa.Column[datetime]:
    return sa.Column(name, sa.DateTime(timezone=True), nullable=nullable)


def upgrade() -> None:
    op.create_table(
        "cycles",
        sa.Column("id", sa.String(), nullable=False),
        sa.Column("title", sa.String(), nullable=False),
        sa.Column("theme", sa.Text(), nullable=False),
        sa.Column("scripts", sa.JSON(), nullable=False),
        sa.Column("state", sa.String(), nullable=False),
        _at("opens_at"),
        _at("closes_at"),
        _at("created_at"),
        _at("opened_at", nullable=True),
        _at("closed_at", nullable=True),
        sa.PrimaryKeyConstraint("id", name="pk_cycles"),
    )
    op.create_index("ix_cycles_state", "cycles", ["state"])
    op.create_table(
        "scheduled_sessions",
        sa.Column("id", sa.Integer(), nullable=False),
        sa.Column("group_id", sa.Integer(), nullable=False),
        sa.Column("script_id", sa.String(), nullable=False),
        _at("due_at"),
        sa.Column("facilitator_id", sa.Integer(), nullable=True),
        sa.Column("state", sa.String(), nullable=False),
        _at("created_at"),
        sa.PrimaryKeyConstraint("id", name="pk_scheduled_sessions"),
        sa.ForeignKeyConstraint(
            ["group_id"], ["groups.id"], name="fk_scheduled_sessions_group_id_groups"
        ),
        sa.ForeignKeyConstraint(
            ["facilitator_id"],
            ["identities.id"],
            name="fk_scheduled_sessions_facilitator_id_identities",
            ondelete="SET NULL",
        ),
    )
    op.create_index("ix_scheduled_sessions_due_at", "scheduled_sessions", ["due_at"])
    op.create_index(
        "ix_scheduled_sessions_facilitator_id", "scheduled_sessions", ["facilitator_id"]
    )
    op.create_table(
        "schedule_runs",
        sa.Column("job_id", sa.String(), nullable=False),
        sa.Column("outcome", sa.String(), nullable=False),
        _at("due_at", nullable=True),
        _at("at"),
        sa.PrimaryKeyConstraint("job_id", name="pk_schedule_runs"),
    )
    op.create_table(
        "scheduler_jobs",
        sa.Column("id", sa.String(length=191), nullable=False),
        sa.Column("next_run_time", sa.Float(precision=25), nullable=True),
        sa.Column("job_state", sa.LargeBinary(), nullable=False),
        sa.PrimaryKeyConstraint("id", name="pk_scheduler_jobs"),
    )
    op.create_index("ix_scheduler_jobs_next_run_time", "scheduler_jobs", ["next_run_time"])
    op.create_table(
        "scheduler_lease",
        sa.Column("name", sa.String(), nullable=False),
        sa.Column("holder", sa.String(), nullable=False),
        sa.Column("host", sa.String(), nullable=False),
        sa.Column("pid", sa.Integer(), nullable=False),
        _at("expires_at"),
        sa.PrimaryKeyConstraint("name", name="pk_scheduler_lease"),
    )


def downgrade() -> None:
    for table in (
        "scheduler_lease",
        "scheduler_jobs",
        "schedule_runs",
        "scheduled_sessions",
        "cycles",
    ):
        op.drop_table(table)
