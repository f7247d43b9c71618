from __future__ import annotations

import enum
import uuid
from datetime import datetime
from typing import Any

from sqlalchemy import JSON, BigInteger, ForeignKey, Index, Integer, String, Text, UniqueConstraint, Uuid, text
from sqlalchemy.orm import Mapped, mapped_column

from autopilot.kit.db import Base, TimestampMixin


class JobStatus(enum.StrEnum):
    SCHEDULED = "scheduled"
    CLAIMED = "claimed"
    SUCCEEDED = "succeeded"
    RETRY_WAIT = "retry_wait"
    HELD = "held"  # waiting for a human (e.g. reconnect an integration); no attempt burnt
    FAILED = "failed"
    DEAD = "dead"
    CANCELLED = "cancelled"


# The partial-index predicate; claim queries repeat it verbatim so both planners use the index.
DUE_PREDICATE = "status IN ('scheduled', 'retry_wait')"
# Finished work that housekeeping deletes after the retention period (failures are kept).
PURGEABLE_PREDICATE = "status IN ('succeeded', 'cancelled')"


class Job(TimestampMixin, Base):
    """One unit of work at a UTC instant; the row is the truth, brokers only carry its id."""

    __tablename__ = "jobs"
    __table_args__ = (
        UniqueConstraint("org_id", "kind", "dedupe_key", name="uq_jobs_org_kind_dedupe"),
        Index("ix_jobs_due", "run_at", postgresql_where=text(DUE_PREDICATE), sqlite_where=text(DUE_PREDICATE)),
        Index(
            "ix_jobs_lease",
            "lease_until",
            postgresql_where=text("status = 'claimed'"),
            sqlite_where=text("status = 'claimed'"),
        ),
        Index("ix_jobs_org_status", "org_id", "status", "updated_at"),
        # The jobs listing, newest first: on immutable columns, so no job update has to maintain it.
        Index("ix_jobs_org_newest", "org_id", "id"),
        # Only jobs that ran: future jobs (the bulk of a big ledger) stay out of this index.
        Index(
            "ix_jobs_started",
            "started_at",
            postgresql_where=text("started_at IS NOT NULL"),
            sqlite_where=text("started_at IS NOT NULL"),
        ),
        Index(
            "ix_jobs_finished",
            "finished_at",
            postgresql_where=text(PURGEABLE_PREDICATE),
            sqlite_where=text(PURGEABLE_PREDICATE),
        ),
    )

    id: Mapped[int] = mapped_column(BigInteger().with_variant(Integer, "sqlite"), primary_key=True, autoincrement=True)
    # The type is stated, not taken from the foreign key: the engine binds UUIDs correctly even in
    # a process that never imported the organizations model.
    org_id: Mapped[uuid.UUID | None] = mapped_column(Uuid, ForeignKey("organizations.id", ondelete="CASCADE"))
    kind: Mapped[str] = mapped_column(String(64))
    payload: Mapped[dict[str, Any]] = mapped_column(JSON, default=dict)
    due_at: Mapped[datetime]  # the original target, never rewritten (lateness is measured from it)
    run_at: Mapped[datetime]  # when it may next run (due_at, or the retry time)
    priority: Mapped[int] = mapped_column(default=0)
    status: Mapped[str] = mapped_column(String(16), default=JobStatus.SCHEDULED.value)
    attempt: Mapped[int] = mapped_column(default=0)  # incremented by each claim: the fencing token
    max_attempts: Mapped[int] = mapped_column(default=3)
    lease_until: Mapped[datetime | None]
    claimed_by: Mapped[str | None] = mapped_column(String(200))
    started_at: Mapped[datetime | None]  # set once per attempt by the runner that owns it
    finished_at: Mapped[datetime | None]
    last_error: Mapped[str | None] = mapped_column(Text)
    error_class: Mapped[str | None] = mapped_column(String(16))
    dedupe_key: Mapped[str | None] = mapped_column(String(200))


class Heartbeat(Base):
    """The last sign of life of a dispatcher or executor process."""

    __tablename__ = "job_heartbeats"

    name: Mapped[str] = mapped_column(String(200), primary_key=True)
    role: Mapped[str] = mapped_column(String(16))  # dispatcher | executor
    mode: Mapped[str] = mapped_column(String(16))  # in-process | celery
    started_at: Mapped[datetime]
    seen_at: Mapped[datetime]
    jobs_done: Mapped[int] = mapped_column(BigInteger().with_variant(Integer, "sqlite"), default=0)
