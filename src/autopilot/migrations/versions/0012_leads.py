"""leads: people with buying intent, their signals, and the deal pipeline

Revision ID: 0012
Revises: 0011
Create Date: 2026-11-24 04:00:00
"""

from __future__ import annotations

import sqlalchemy as sa
from alembic import op

import autopilot.kit.db

revision = "0012"
down_revision = "0011"
branch_labels = None
depends_on = None


def upgrade() -> None:
    when = autopilot.kit.db.UTCDateTime(timezone=True)
    op.create_table(
        "leads",
        sa.Column("id", sa.Uuid(), nullable=False),
        sa.Column("org_id", sa.Uuid(), nullable=False),
        sa.Column("name", sa.String(length=200), nullable=False),
        sa.Column("profile_url", sa.String(length=500), nullable=False),
        sa.Column("email", sa.String(length=320), nullable=False),
        sa.Column("company", sa.String(length=200), nullable=False),
        sa.Column("title", sa.String(length=200), nullable=False),
        sa.Column("email_key", sa.String(length=320), nullable=True),
        sa.Column("profile_key", sa.String(length=500), nullable=True),
        sa.Column("name_key", sa.String(length=420), nullable=True),
        sa.Column("stage", sa.String(length=16), nullable=False),
        sa.Column("value_cents", sa.BigInteger().with_variant(sa.Integer(), "sqlite"), nullable=False),
        sa.Column("currency", sa.String(length=3), nullable=False),
        sa.Column("notes", sa.Text(), nullable=False),
        sa.Column("score", sa.Integer(), nullable=False),
        sa.Column("intent", sa.Integer(), nullable=False),
        sa.Column("recency", sa.Integer(), nullable=False),
        sa.Column("fit", sa.Integer(), nullable=False),
        sa.Column("reasons", sa.JSON(), nullable=False),
        sa.Column("scored_at", when, nullable=True),
        sa.Column("last_signal_at", when, nullable=True),
        sa.Column("last_signal_text", sa.Text(), nullable=False),
        sa.Column("last_signal_source", sa.String(length=32), nullable=False),
        sa.Column("created_at", when, nullable=False),
        sa.Column("updated_at", when, nullable=False),
        sa.CheckConstraint(
            "stage IN ('new', 'contacted', 'call_booked', 'proposal', 'won', 'lost')", name=op.f("ck_leads_stage")
        ),
        sa.CheckConstraint("value_cents >= 0", name=op.f("ck_leads_value_not_negative")),
        sa.CheckConstraint("score >= 0 AND score <= 100", name=op.f("ck_leads_score_range")),
        sa.ForeignKeyConstraint(
            ["org_id"], ["organizations.id"], name=op.f("fk_leads_org_id_organizations"), ondelete="CASCADE"
        ),
        sa.PrimaryKeyConstraint("id", name=op.f("pk_leads")),
        sa.UniqueConstraint("org_id", "email_key", name="uq_leads_email_key"),
        sa.UniqueConstraint("org_id", "profile_key", name="uq_leads_profile_key"),
        sa.UniqueConstraint("org_id", "name_key", name="uq_leads_name_key"),
    )
    op.create_index("ix_leads_org_score", "leads", ["org_id", "score"])
    op.create_table(
        "lead_signals",
        sa.Column("id", sa.Uuid(), nullable=False),
        sa.Column("org_id", sa.Uuid(), nullable=False),
        sa.Column("lead_id", sa.Uuid(), nullable=False),
        sa.Column("source", sa.String(length=32), nullable=False),
        sa.Column("text", sa.Text(), nullable=False),
        sa.Column("at", when, nullable=False),
        sa.Column("natural_key", sa.String(length=64), nullable=True),
        sa.Column("intent", sa.Integer(), nullable=False),
        sa.Column("created_at", when, nullable=False),
        sa.ForeignKeyConstraint(
            ["org_id"], ["organizations.id"], name=op.f("fk_lead_signals_org_id_organizations"), ondelete="CASCADE"
        ),
        sa.ForeignKeyConstraint(
            ["lead_id"], ["leads.id"], name=op.f("fk_lead_signals_lead_id_leads"), ondelete="CASCADE"
        ),
        sa.PrimaryKeyConstraint("id", name=op.f("pk_lead_signals")),
        sa.UniqueConstraint("org_id", "source", "natural_key", name="uq_lead_signals_natural_key"),
    )
    op.create_index("ix_lead_signals_lead", "lead_signals", ["lead_id", "at"])


def downgrade() -> None:
    op.drop_index("ix_lead_signals_lead", table_name="lead_signals")
    op.drop_table("lead_signals")
    op.drop_index("ix_leads_org_score", table_name="leads")
    op.drop_table("leads")
