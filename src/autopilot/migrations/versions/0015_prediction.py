"""prediction: the per-organization engagement model and the best-time preferences

Revision ID: 0015
Revises: 0014
Create Date: 2026-11-24 06:00:00
"""

from __future__ import annotations

import sqlalchemy as sa
from alembic import op

import autopilot.kit.db

revision = "0015"
down_revision = "0014"
branch_labels = None
depends_on = None


def upgrade() -> None:
    when = autopilot.kit.db.UTCDateTime(timezone=True)
    op.create_table(
        "analytics_engagement_models",
        sa.Column("org_id", sa.Uuid(), nullable=False),
        sa.Column("fit", sa.JSON(), nullable=False),
        sa.Column("report", sa.JSON(), nullable=False),
        sa.Column("basis_posts", sa.Integer(), nullable=False),
        sa.Column("posts_seen", sa.Integer(), nullable=False),
        sa.Column("trained_at", when, nullable=False),
        sa.Column("id", sa.Uuid(), nullable=False),
        sa.Column("created_at", when, nullable=False),
        sa.Column("updated_at", when, nullable=False),
        sa.ForeignKeyConstraint(
            ["org_id"],
            ["organizations.id"],
            name=op.f("fk_analytics_engagement_models_org_id_organizations"),
            ondelete="CASCADE",
        ),
        sa.PrimaryKeyConstraint("id", name=op.f("pk_analytics_engagement_models")),
        sa.UniqueConstraint("org_id", name="uq_analytics_engagement_models_org"),
    )
    op.create_table(
        "analytics_slot_prefs",
        sa.Column("org_id", sa.Uuid(), nullable=False),
        sa.Column("integration_id", sa.Uuid(), nullable=False),
        sa.Column("auto_apply", sa.Boolean(), nullable=False),
        sa.Column("chosen_by", sa.Uuid(), nullable=True),
        sa.Column("applied_at", when, nullable=True),
        sa.Column("applied_slots", sa.Text(), nullable=False),
        sa.Column("id", sa.Uuid(), nullable=False),
        sa.Column("created_at", when, nullable=False),
        sa.Column("updated_at", when, nullable=False),
        sa.ForeignKeyConstraint(
            ["chosen_by"], ["users.id"], name=op.f("fk_analytics_slot_prefs_chosen_by_users"), ondelete="SET NULL"
        ),
        sa.ForeignKeyConstraint(
            ["integration_id"],
            ["linkedin_integrations.id"],
            name=op.f("fk_analytics_slot_prefs_integration_id_linkedin_integrations"),
            ondelete="CASCADE",
        ),
        sa.ForeignKeyConstraint(
            ["org_id"],
            ["organizations.id"],
            name=op.f("fk_analytics_slot_prefs_org_id_organizations"),
            ondelete="CASCADE",
        ),
        sa.PrimaryKeyConstraint("id", name=op.f("pk_analytics_slot_prefs")),
        sa.UniqueConstraint("integration_id", name="uq_analytics_slot_prefs_integration"),
    )


def downgrade() -> None:
    op.drop_table("analytics_slot_prefs")
    op.drop_table("analytics_engagement_models")
