from __future__ import annotations

import uuid
from datetime import datetime

from sqlalchemy import BigInteger, Boolean, ForeignKey, Index, Integer, String, Text, UniqueConstraint
from sqlalchemy.orm import Mapped, mapped_column

from autopilot.kit.db import Base, IdMixin, TimestampMixin

DEFAULT_SLOTS = ((1, "06:30"), (3, "06:30"))  # Tuesday and Thursday at 06:30 local
DEFAULT_CAPACITY = 1  # posts per slot


class PostingSchedule(IdMixin, TimestampMixin, Base):
    """One LinkedIn connection's weekly rhythm, in its owner's IANA zone."""

    __tablename__ = "posting_schedules"

    org_id: Mapped[uuid.UUID] = mapped_column(ForeignKey("organizations.id", ondelete="CASCADE"), index=True)
    integration_id: Mapped[uuid.UUID] = mapped_column(
        ForeignKey("linkedin_integrations.id", ondelete="CASCADE"), unique=True
    )
    timezone: Mapped[str] = mapped_column(String(64))
    capacity: Mapped[int] = mapped_column(Integer, default=DEFAULT_CAPACITY)
    paused: Mapped[bool] = mapped_column(Boolean, default=False)


class WeeklySlot(IdMixin, Base):
    """A wall-clock time on a weekday (0 = Monday), expanded per date with the DST rules."""

    __tablename__ = "schedule_slots"
    __table_args__ = (UniqueConstraint("schedule_id", "weekday", "at", name="uq_schedule_slots_time"),)

    org_id: Mapped[uuid.UUID] = mapped_column(ForeignKey("organizations.id", ondelete="CASCADE"), index=True)
    schedule_id: Mapped[uuid.UUID] = mapped_column(ForeignKey("posting_schedules.id", ondelete="CASCADE"))
    weekday: Mapped[int] = mapped_column(Integer)
    at: Mapped[str] = mapped_column(String(5))  # "HH:MM"


class QueueEntry(IdMixin, TimestampMixin, Base):
    """Where one piece of content sits in its account's queue: the instant, and the wall-clock time
    and zone it was chosen in. The unique seat makes "a slot holds `capacity` posts" a constraint,
    so two concurrent requests can never put two posts in one seat."""

    __tablename__ = "schedule_queue"
    __table_args__ = (
        UniqueConstraint("integration_id", "due_at", "seat", name="uq_schedule_queue_seat"),
        Index("ix_schedule_queue_org_due", "org_id", "due_at"),
    )

    org_id: Mapped[uuid.UUID] = mapped_column(ForeignKey("organizations.id", ondelete="CASCADE"))
    integration_id: Mapped[uuid.UUID] = mapped_column(ForeignKey("linkedin_integrations.id", ondelete="CASCADE"))
    content_id: Mapped[uuid.UUID] = mapped_column(ForeignKey("content_items.id", ondelete="CASCADE"), unique=True)
    due_at: Mapped[datetime]
    seat: Mapped[int] = mapped_column(Integer, default=0)
    local_at: Mapped[str] = mapped_column(String(16))  # "2027-03-30T06:30", the wall time as chosen
    timezone: Mapped[str] = mapped_column(String(64))
    from_slot: Mapped[bool] = mapped_column(Boolean, default=True)  # follows schedule changes
    state: Mapped[str] = mapped_column(String(16), default="queued")  # queued | published | held | missed
    held_for: Mapped[str] = mapped_column(String(16), default="")  # "" | paused | approval
    note: Mapped[str] = mapped_column(Text, default="")  # what happened to it, said plainly
    job_id: Mapped[int | None] = mapped_column(BigInteger().with_variant(Integer, "sqlite"))


class CalendarFeed(Base):
    """A user's secret iCal address; only the token's SHA-256 is stored. Deleting the row revokes it."""

    __tablename__ = "calendar_feeds"

    token_hash: Mapped[str] = mapped_column(String(64), primary_key=True)
    org_id: Mapped[uuid.UUID] = mapped_column(ForeignKey("organizations.id", ondelete="CASCADE"), index=True)
    user_id: Mapped[uuid.UUID] = mapped_column(ForeignKey("users.id", ondelete="CASCADE"), unique=True)
    created_at: Mapped[datetime]
