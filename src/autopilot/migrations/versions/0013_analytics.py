"""analytics: posts with their figures, samples, account days and imports

Revision ID: 0013
Revises: 0012
Create Date: 2026-11-24 05:30:00
"""

from __future__ import annotations

import sqlalchemy as sa
from alembic import op

import autopilot.kit.db

revision = "0013"
down_revision = "0012"
branch_labels = None
depends_on = None


def upgrade() -> None:
    op.create_table(
        "analytics_account_days",
        sa.Column("org_id", sa.Uuid(), nullable=False),
        sa.Column("day", sa.Date(), nullable=False),
        sa.Column("impressions", sa.BigInteger().with_variant(sa.Integer(), "sqlite"), nullable=True),
        sa.Column("engagements", sa.BigInteger().with_variant(sa.Integer(), "sqlite"), nullable=True),
        sa.Column("new_followers", sa.BigInteger().with_variant(sa.Integer(), "sqlite"), nullable=True),
        sa.Column("followers", sa.BigInteger().with_variant(sa.Integer(), "sqlite"), nullable=True),
        sa.Column("updated_at", autopilot.kit.db.UTCDateTime(timezone=True), nullable=False),
        sa.ForeignKeyConstraint(
            ["org_id"],
            ["organizations.id"],
            name=op.f("fk_analytics_account_days_org_id_organizations"),
            ondelete="CASCADE",
        ),
        sa.PrimaryKeyConstraint("org_id", "day", name=op.f("pk_analytics_account_days")),
    )
    op.create_table(
        "analytics_imports",
        sa.Column("org_id", sa.Uuid(), nullable=False),
        sa.Column("imported_by", sa.Uuid(), nullable=True),
        sa.Column("sha256", sa.String(length=64), nullable=False),
        sa.Column("kind", sa.String(length=24), nullable=False),
        sa.Column("filename", sa.String(length=255), nullable=False),
        sa.Column("layout", sa.String(length=40), nullable=False),
        sa.Column("summary", sa.Text(), nullable=False),
        sa.Column("period_start", sa.Date(), nullable=True),
        sa.Column("period_end", sa.Date(), nullable=True),
        sa.Column("created_at", autopilot.kit.db.UTCDateTime(timezone=True), nullable=False),
        sa.Column("id", sa.Uuid(), nullable=False),
        sa.ForeignKeyConstraint(
            ["imported_by"], ["users.id"], name=op.f("fk_analytics_imports_imported_by_users"), ondelete="SET NULL"
        ),
        sa.ForeignKeyConstraint(
            ["org_id"], ["organizations.id"], name=op.f("fk_analytics_imports_org_id_organizations"), ondelete="CASCADE"
        ),
        sa.PrimaryKeyConstraint("id", name=op.f("pk_analytics_imports")),
        sa.UniqueConstraint("org_id", "sha256", name="uq_analytics_imports_sha256"),
    )
    op.create_table(
        "analytics_posts",
        sa.Column("org_id", sa.Uuid(), nullable=False),
        sa.Column("integration_id", sa.Uuid(), nullable=True),
        sa.Column("content_id", sa.Uuid(), nullable=True),
        sa.Column("origin", sa.String(length=16), nullable=False),
        sa.Column("share_urn", sa.String(length=80), nullable=True),
        sa.Column("activity_id", sa.String(length=24), nullable=True),
        sa.Column("url", sa.Text(), nullable=False),
        sa.Column("published_at", autopilot.kit.db.UTCDateTime(timezone=True), nullable=True),
        sa.Column("text", sa.Text(), nullable=True),
        sa.Column("media_type", sa.String(length=16), nullable=True),
        sa.Column("impressions", sa.BigInteger().with_variant(sa.Integer(), "sqlite"), nullable=True),
        sa.Column("members_reached", sa.BigInteger().with_variant(sa.Integer(), "sqlite"), nullable=True),
        sa.Column("reactions", sa.BigInteger().with_variant(sa.Integer(), "sqlite"), nullable=True),
        sa.Column("comments", sa.BigInteger().with_variant(sa.Integer(), "sqlite"), nullable=True),
        sa.Column("reposts", sa.BigInteger().with_variant(sa.Integer(), "sqlite"), nullable=True),
        sa.Column("engagements", sa.BigInteger().with_variant(sa.Integer(), "sqlite"), nullable=True),
        sa.Column("saves", sa.BigInteger().with_variant(sa.Integer(), "sqlite"), nullable=True),
        sa.Column("sends", sa.BigInteger().with_variant(sa.Integer(), "sqlite"), nullable=True),
        sa.Column("figures_source", sa.String(length=16), nullable=True),
        sa.Column("figures_at", autopilot.kit.db.UTCDateTime(timezone=True), nullable=True),
        sa.Column("sync_state", sa.String(length=16), nullable=False),
        sa.Column("sync_detail", sa.Text(), nullable=False),
        sa.Column("synced_at", autopilot.kit.db.UTCDateTime(timezone=True), nullable=True),
        sa.Column("next_sync_at", autopilot.kit.db.UTCDateTime(timezone=True), nullable=True),
        sa.Column("sync_failures", sa.Integer(), nullable=False),
        sa.Column("id", sa.Uuid(), nullable=False),
        sa.Column("created_at", autopilot.kit.db.UTCDateTime(timezone=True), nullable=False),
        sa.Column("updated_at", autopilot.kit.db.UTCDateTime(timezone=True), nullable=False),
        sa.CheckConstraint(
            "figures_source IS NULL OR figures_source IN ('export', 'post_export', 'api')",
            name=op.f("ck_analytics_posts_figures_source"),
        ),
        sa.CheckConstraint("origin IN ('published', 'export', 'archive')", name=op.f("ck_analytics_posts_origin")),
        sa.CheckConstraint(
            "sync_state IN ('pending', 'ok', 'unsupported', 'error', 'done', 'none')",
            name=op.f("ck_analytics_posts_sync_state"),
        ),
        sa.ForeignKeyConstraint(
            ["content_id"],
            ["content_items.id"],
            name=op.f("fk_analytics_posts_content_id_content_items"),
            ondelete="SET NULL",
        ),
        sa.ForeignKeyConstraint(
            ["integration_id"],
            ["linkedin_integrations.id"],
            name=op.f("fk_analytics_posts_integration_id_linkedin_integrations"),
            ondelete="SET NULL",
        ),
        sa.ForeignKeyConstraint(
            ["org_id"], ["organizations.id"], name=op.f("fk_analytics_posts_org_id_organizations"), ondelete="CASCADE"
        ),
        sa.PrimaryKeyConstraint("id", name=op.f("pk_analytics_posts")),
        sa.UniqueConstraint("org_id", "activity_id", name="uq_analytics_posts_activity_id"),
        sa.UniqueConstraint("org_id", "content_id", name="uq_analytics_posts_content_id"),
        sa.UniqueConstraint("org_id", "share_urn", name="uq_analytics_posts_share_urn"),
    )
    with op.batch_alter_table("analytics_posts", schema=None) as batch_op:
        batch_op.create_index("ix_analytics_posts_org_published", ["org_id", "published_at"], unique=False)
        batch_op.create_index("ix_analytics_posts_sync_due", ["sync_state", "next_sync_at"], unique=False)

    op.create_table(
        "analytics_samples",
        sa.Column("org_id", sa.Uuid(), nullable=False),
        sa.Column("post_id", sa.Uuid(), nullable=False),
        sa.Column("at", autopilot.kit.db.UTCDateTime(timezone=True), nullable=False),
        sa.Column("source", sa.String(length=16), nullable=False),
        sa.Column("impressions", sa.BigInteger().with_variant(sa.Integer(), "sqlite"), nullable=True),
        sa.Column("members_reached", sa.BigInteger().with_variant(sa.Integer(), "sqlite"), nullable=True),
        sa.Column("reactions", sa.BigInteger().with_variant(sa.Integer(), "sqlite"), nullable=True),
        sa.Column("comments", sa.BigInteger().with_variant(sa.Integer(), "sqlite"), nullable=True),
        sa.Column("reposts", sa.BigInteger().with_variant(sa.Integer(), "sqlite"), nullable=True),
        sa.Column("id", sa.Uuid(), nullable=False),
        sa.ForeignKeyConstraint(
            ["org_id"], ["organizations.id"], name=op.f("fk_analytics_samples_org_id_organizations"), ondelete="CASCADE"
        ),
        sa.ForeignKeyConstraint(
            ["post_id"],
            ["analytics_posts.id"],
            name=op.f("fk_analytics_samples_post_id_analytics_posts"),
            ondelete="CASCADE",
        ),
        sa.PrimaryKeyConstraint("id", name=op.f("pk_analytics_samples")),
        sa.UniqueConstraint("post_id", "at", "source", name="uq_analytics_samples_post_at"),
    )
    with op.batch_alter_table("analytics_samples", schema=None) as batch_op:
        batch_op.create_index("ix_analytics_samples_org_at", ["org_id", "at"], unique=False)


def downgrade() -> None:
    with op.batch_alter_table("analytics_samples", schema=None) as batch_op:
        batch_op.drop_index("ix_analytics_samples_org_at")

    op.drop_table("analytics_samples")
    with op.batch_alter_table("analytics_posts", schema=None) as batch_op:
        batch_op.drop_index("ix_analytics_posts_sync_due")
        batch_op.drop_index("ix_analytics_posts_org_published")

    op.drop_table("analytics_posts")
    op.drop_table("analytics_imports")
    op.drop_table("analytics_account_days")
