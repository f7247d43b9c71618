"""jobs.started_at index holds only jobs that ran; index of finished work for housekeeping

Revision ID: 0002
Revises: 0001
Create Date: 2026-11-22
"""

from __future__ import annotations

import sqlalchemy as sa
from alembic import op

revision = "0002"
down_revision = "0001"
branch_labels = None
depends_on = None


def upgrade() -> None:
    with op.batch_alter_table("jobs", schema=None) as batch_op:
        batch_op.drop_index("ix_jobs_started")
        batch_op.create_index(
            "ix_jobs_started",
            ["started_at"],
            unique=False,
            postgresql_where=sa.text("started_at IS NOT NULL"),
            sqlite_where=sa.text("started_at IS NOT NULL"),
        )
        batch_op.create_index(
            "ix_jobs_finished",
            ["finished_at"],
            unique=False,
            postgresql_where=sa.text("status IN ('succeeded', 'cancelled')"),
            sqlite_where=sa.text("status IN ('succeeded', 'cancelled')"),
        )


def downgrade() -> None:
    with op.batch_alter_table("jobs", schema=None) as batch_op:
        batch_op.drop_index("ix_jobs_finished")
        batch_op.drop_index("ix_jobs_started")
        batch_op.create_index("ix_jobs_started", ["started_at"], unique=False)
