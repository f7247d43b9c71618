"""content review: edit history, comments, audit log, idempotent decisions

Revision ID: 0011
Revises: 0010
Create Date: 2026-11-24 02:50:00
"""

from __future__ import annotations

import uuid

import sqlalchemy as sa
from alembic import op
from sqlalchemy.schema import SchemaItem

import autopilot.kit.db

revision = "0011"
down_revision = "0010"
branch_labels = None
depends_on = None


def _owned(table: str) -> list[SchemaItem]:
    """The columns every review table shares: id, org and the post it is about."""
    return [
        sa.Column("id", sa.Uuid(), nullable=False),
        sa.Column("org_id", sa.Uuid(), nullable=False),
        sa.Column("content_id", sa.Uuid(), nullable=False),
        sa.ForeignKeyConstraint(
            ["org_id"], ["organizations.id"], name=op.f(f"fk_{table}_org_id_organizations"), ondelete="CASCADE"
        ),
        sa.ForeignKeyConstraint(
            ["content_id"], ["content_items.id"], name=op.f(f"fk_{table}_content_id_content_items"), ondelete="CASCADE"
        ),
        sa.PrimaryKeyConstraint("id", name=op.f(f"pk_{table}")),
    ]


def _user(column: str, table: str, ondelete: str = "SET NULL") -> sa.ForeignKeyConstraint:
    return sa.ForeignKeyConstraint([column], ["users.id"], name=op.f(f"fk_{table}_{column}_users"), ondelete=ondelete)


def upgrade() -> None:
    when = autopilot.kit.db.UTCDateTime(timezone=True)
    op.create_table(
        "content_versions",
        *_owned("content_versions"),
        sa.Column("version", sa.Integer(), nullable=False),
        sa.Column("text", sa.Text(), nullable=False),
        sa.Column("first_comment", sa.Text(), nullable=False),
        sa.Column("edited_by", sa.Uuid(), nullable=True),
        sa.Column("created_at", when, nullable=False),
        _user("edited_by", "content_versions"),
        sa.UniqueConstraint("content_id", "version", name="uq_content_versions_version"),
    )
    op.create_table(
        "content_comments",
        *_owned("content_comments"),
        sa.Column("author_id", sa.Uuid(), nullable=True),
        sa.Column("body", sa.Text(), nullable=False),
        sa.Column("created_at", when, nullable=False),
        _user("author_id", "content_comments"),
    )
    op.create_index("ix_content_comments_content", "content_comments", ["content_id", "created_at"])
    op.create_table(
        "content_events",
        *_owned("content_events"),
        sa.Column("actor_id", sa.Uuid(), nullable=True),
        sa.Column("action", sa.String(length=32), nullable=False),
        sa.Column("from_state", sa.String(length=20), nullable=False),
        sa.Column("to_state", sa.String(length=20), nullable=False),
        sa.Column("version", sa.Integer(), nullable=False),
        sa.Column("note", sa.Text(), nullable=False),
        sa.Column("created_at", when, nullable=False),
        _user("actor_id", "content_events"),
    )
    op.create_index("ix_content_events_content", "content_events", ["content_id", "created_at"])
    op.create_table(
        "content_decisions",
        *_owned("content_decisions"),
        sa.Column("user_id", sa.Uuid(), nullable=False),
        sa.Column("idempotency_key", sa.String(length=100), nullable=False),
        sa.Column("decision", sa.String(length=16), nullable=False),
        sa.Column("state", sa.String(length=20), nullable=False),
        sa.Column("version", sa.Integer(), nullable=False),
        sa.Column("created_at", when, nullable=False),
        _user("user_id", "content_decisions", ondelete="CASCADE"),
        sa.UniqueConstraint("user_id", "idempotency_key", name="uq_content_decisions_key"),
    )
    for table in ("content_versions", "content_comments", "content_events", "content_decisions"):
        op.create_index(op.f(f"ix_{table}_org_id"), table, ["org_id"])
    # Posts written before the history existed: their current text is their first known version.
    items = sa.table(
        "content_items",
        sa.column("id", sa.Uuid()), sa.column("org_id", sa.Uuid()), sa.column("author_id", sa.Uuid()),
        sa.column("version", sa.Integer()), sa.column("text", sa.Text()), sa.column("first_comment", sa.Text()),
        sa.column("created_at", when),
    )  # fmt: skip
    versions = sa.table(
        "content_versions",
        sa.column("id", sa.Uuid()), sa.column("org_id", sa.Uuid()), sa.column("content_id", sa.Uuid()),
        sa.column("version", sa.Integer()), sa.column("text", sa.Text()), sa.column("first_comment", sa.Text()),
        sa.column("edited_by", sa.Uuid()), sa.column("created_at", when),
    )  # fmt: skip
    rows = op.get_bind().execute(sa.select(items)).all()
    if rows:
        op.bulk_insert(
            versions,
            [
                {
                    "id": uuid.uuid4(),
                    "org_id": r.org_id,
                    "content_id": r.id,
                    "version": r.version,
                    "text": r.text,
                    "first_comment": r.first_comment,
                    "edited_by": r.author_id,
                    "created_at": r.created_at,
                }
                for r in rows
            ],
        )


def downgrade() -> None:
    for table in ("content_decisions", "content_events", "content_comments", "content_versions"):
        op.drop_table(table)
