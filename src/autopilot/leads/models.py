from __future__ import annotations

import uuid
from datetime import datetime
from typing import Any

from sqlalchemy import JSON, BigInteger, CheckConstraint, ForeignKey, Index, Integer, String, Text, UniqueConstraint
from sqlalchemy.orm import Mapped, mapped_column

from autopilot.kit.db import Base, IdMixin, TimestampMixin

STAGES = ("new", "contacted", "call_booked", "proposal", "won", "lost")
OPEN_STAGES = ("new", "contacted", "call_booked", "proposal")
SOURCES = ("archive_message", "archive_connection", "archive_invitation", "manual")


class Lead(IdMixin, TimestampMixin, Base):
    """A person of one organization who may buy, with the pipeline stage of the deal.

    The normalised keys make "one person, one lead" a constraint: two leads of an organization never
    share an e-mail, a profile URL, or a full name at a company (NULL where unknown: NULLs never collide)."""

    __tablename__ = "leads"
    __table_args__ = (
        UniqueConstraint("org_id", "email_key", name="uq_leads_email_key"),
        UniqueConstraint("org_id", "profile_key", name="uq_leads_profile_key"),
        UniqueConstraint("org_id", "name_key", name="uq_leads_name_key"),
        CheckConstraint("stage IN ('" + "', '".join(STAGES) + "')", name="stage"),
        CheckConstraint("value_cents >= 0", name="value_not_negative"),
        CheckConstraint("score >= 0 AND score <= 100", name="score_range"),
        Index("ix_leads_org_score", "org_id", "score"),
    )

    org_id: Mapped[uuid.UUID] = mapped_column(ForeignKey("organizations.id", ondelete="CASCADE"))
    name: Mapped[str] = mapped_column(String(200), default="")
    profile_url: Mapped[str] = mapped_column(String(500), default="")
    email: Mapped[str] = mapped_column(String(320), default="")
    company: Mapped[str] = mapped_column(String(200), default="")
    title: Mapped[str] = mapped_column(String(200), default="")
    email_key: Mapped[str | None] = mapped_column(String(320))
    profile_key: Mapped[str | None] = mapped_column(String(500))
    name_key: Mapped[str | None] = mapped_column(String(420))
    stage: Mapped[str] = mapped_column(String(16), default="new")
    value_cents: Mapped[int] = mapped_column(BigInteger().with_variant(Integer, "sqlite"), default=0)
    currency: Mapped[str] = mapped_column(String(3), default="EUR")
    notes: Mapped[str] = mapped_column(Text, default="")
    score: Mapped[int] = mapped_column(Integer, default=0)
    intent: Mapped[int] = mapped_column(Integer, default=0)
    recency: Mapped[int] = mapped_column(Integer, default=0)
    fit: Mapped[int] = mapped_column(Integer, default=0)
    reasons: Mapped[list[Any]] = mapped_column(JSON, default=list)  # sentences explaining the score
    scored_at: Mapped[datetime | None]
    last_signal_at: Mapped[datetime | None]
    last_signal_text: Mapped[str] = mapped_column(Text, default="")
    last_signal_source: Mapped[str] = mapped_column(String(32), default="")


class LeadSignal(IdMixin, Base):
    """One sign of interest from a person: a message, a connection, an invitation, a note by hand.

    `natural_key` identifies what it came from (a message of an archive: its conversation, date and
    sender), so importing the same archive again adds nothing; NULL for signals without one."""

    __tablename__ = "lead_signals"
    __table_args__ = (
        UniqueConstraint("org_id", "source", "natural_key", name="uq_lead_signals_natural_key"),
        Index("ix_lead_signals_lead", "lead_id", "at"),
    )

    org_id: Mapped[uuid.UUID] = mapped_column(ForeignKey("organizations.id", ondelete="CASCADE"))
    lead_id: Mapped[uuid.UUID] = mapped_column(ForeignKey("leads.id", ondelete="CASCADE"))
    source: Mapped[str] = mapped_column(String(32))
    text: Mapped[str] = mapped_column(Text, default="")
    at: Mapped[datetime]
    natural_key: Mapped[str | None] = mapped_column(String(64))
    intent: Mapped[int] = mapped_column(Integer, default=0)
    created_at: Mapped[datetime]
