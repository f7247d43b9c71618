"""company pages: the LinkedIn Company Pages a connection administers, and their days

Revision ID: 0014
Revises: 0013
Create Date: 2026-11-24 05:45:00
"""

from __future__ import annotations

import sqlalchemy as sa
from alembic import op

import autopilot.kit.db

revision = "0014"
down_revision = "0013"
branch_labels = None
depends_on = None

BIG = sa.BigInteger().with_variant(sa.Integer(), "sqlite")


def upgrade() -> None:
    when = autopilot.kit.db.UTCDateTime(timezone=True)
    op.create_table(
        "analytics_company_pages",
        sa.Column("org_id", sa.Uuid(), nullable=False),
        sa.Column("integration_id", sa.Uuid(), nullable=False),
        sa.Column("organization_urn", sa.String(length=80), nullable=False),
        sa.Column("name", sa.String(length=200), nullable=False),
        sa.Column("vanity_name", sa.String(length=200), nullable=False),
        sa.Column("tracked", sa.Boolean(), nullable=False),
        sa.Column("followers", BIG, nullable=True),
        sa.Column("sync_state", sa.String(length=16), nullable=False),
        sa.Column("sync_detail", sa.Text(), nullable=False),
        sa.Column("synced_at", when, nullable=True),
        sa.Column("next_sync_at", when, nullable=True),
        sa.Column("id", sa.Uuid(), nullable=False),
        sa.Column("created_at", when, nullable=False),
        sa.Column("updated_at", when, nullable=False),
        sa.CheckConstraint(
            "sync_state IN ('pending', 'ok', 'unsupported', 'rate_limited', 'error')",
            name=op.f("ck_analytics_company_pages_sync_state"),
        ),
        sa.ForeignKeyConstraint(
            ["integration_id"],
            ["linkedin_integrations.id"],
            name=op.f("fk_analytics_company_pages_integration_id_linkedin_integrations"),
            ondelete="CASCADE",
        ),
        sa.ForeignKeyConstraint(
            ["org_id"],
            ["organizations.id"],
            name=op.f("fk_analytics_company_pages_org_id_organizations"),
            ondelete="CASCADE",
        ),
        sa.PrimaryKeyConstraint("id", name=op.f("pk_analytics_company_pages")),
        sa.UniqueConstraint("org_id", "integration_id", "organization_urn", name="uq_analytics_company_pages_urn"),
    )
    op.create_index("ix_analytics_company_pages_org", "analytics_company_pages", ["org_id", "tracked"])
    op.create_table(
        "analytics_company_page_days",
        sa.Column("page_id", sa.Uuid(), nullable=False),
        sa.Column("day", sa.Date(), nullable=False),
        sa.Column("org_id", sa.Uuid(), nullable=False),
        sa.Column("impressions", BIG, nullable=True),
        sa.Column("unique_impressions", BIG, nullable=True),
        sa.Column("clicks", BIG, nullable=True),
        sa.Column("reactions", BIG, nullable=True),
        sa.Column("comments", BIG, nullable=True),
        sa.Column("shares", BIG, nullable=True),
        sa.Column("organic_follower_gain", BIG, nullable=True),
        sa.Column("paid_follower_gain", BIG, nullable=True),
        sa.Column("followers", BIG, nullable=True),
        sa.Column("updated_at", when, nullable=False),
        sa.ForeignKeyConstraint(
            ["page_id"],
            ["analytics_company_pages.id"],
            name=op.f("fk_analytics_company_page_days_page_id_analytics_company_pages"),
            ondelete="CASCADE",
        ),
        sa.ForeignKeyConstraint(
            ["org_id"],
            ["organizations.id"],
            name=op.f("fk_analytics_company_page_days_org_id_organizations"),
            ondelete="CASCADE",
        ),
        sa.PrimaryKeyConstraint("page_id", "day", name=op.f("pk_analytics_company_page_days")),
    )
    op.create_index(
        op.f("ix_analytics_company_page_days_org_id"), "analytics_company_page_days", ["org_id"], unique=False
    )


def downgrade() -> None:
    op.drop_index(op.f("ix_analytics_company_page_days_org_id"), table_name="analytics_company_page_days")
    op.drop_table("analytics_company_page_days")
    op.drop_index("ix_analytics_company_pages_org", table_name="analytics_company_pages")
    op.drop_table("analytics_company_pages")
