"""studio writer profiles

Revision ID: 0010
Revises: 0009
Create Date: 2026-11-24 04:00:00
"""

from __future__ import annotations

import sqlalchemy as sa
from alembic import op

import autopilot.kit.db

revision = "0010"
down_revision = "0009"
branch_labels = None
depends_on = None


def upgrade() -> None:
    op.create_table(
        "writer_profiles",
        sa.Column("org_id", sa.Uuid(), nullable=False),
        sa.Column("user_id", sa.Uuid(), nullable=False),
        sa.Column("topics", sa.JSON(), nullable=False),
        sa.Column("about", sa.Text(), nullable=False),
        sa.Column("audience", sa.String(length=200), nullable=False),
        sa.Column("voice_examples", sa.JSON(), nullable=False),
        sa.Column("id", sa.Uuid(), nullable=False),
        sa.Column("created_at", autopilot.kit.db.UTCDateTime(timezone=True), nullable=False),
        sa.Column("updated_at", autopilot.kit.db.UTCDateTime(timezone=True), nullable=False),
        sa.ForeignKeyConstraint(
            ["org_id"], ["organizations.id"], name=op.f("fk_writer_profiles_org_id_organizations"), ondelete="CASCADE"
        ),
        sa.ForeignKeyConstraint(
            ["user_id"], ["users.id"], name=op.f("fk_writer_profiles_user_id_users"), ondelete="CASCADE"
        ),
        sa.PrimaryKeyConstraint("id", name=op.f("pk_writer_profiles")),
        sa.UniqueConstraint("user_id", name=op.f("uq_writer_profiles_user_id")),
    )
    with op.batch_alter_table("writer_profiles", schema=None) as batch_op:
        batch_op.create_index(batch_op.f("ix_writer_profiles_org_id"), ["org_id"], unique=False)


def downgrade() -> None:
    with op.batch_alter_table("writer_profiles", schema=None) as batch_op:
        batch_op.drop_index(batch_op.f("ix_writer_profiles_org_id"))
    op.drop_table("writer_profiles")
