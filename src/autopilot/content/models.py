from __future__ import annotations

import enum
import uuid
from datetime import datetime

from sqlalchemy import BigInteger, ForeignKey, Index, Integer, LargeBinary, String, Text, UniqueConstraint
from sqlalchemy.orm import Mapped, mapped_column

from autopilot.kit.db import Base, IdMixin, TimestampMixin


class ContentState(enum.StrEnum):
    """The publish state machine of DESIGN.md. `scheduled` means a job waits to publish it (now or
    at its slot); scheduled content that is edited keeps its slot but loses its approval."""

    DRAFT = "draft"
    PENDING_APPROVAL = "pending_approval"
    APPROVED = "approved"
    SCHEDULED = "scheduled"
    PUBLISHING = "publishing"  # an attempt was recorded before the call to LinkedIn
    PUBLISHED = "published"
    HELD = "held"  # waiting for a person: reconnect, a retired API version, a duplicate to review
    FAILED = "failed"  # will not be retried on its own; the reason says why
    MISSED = "missed"  # its slot passed outside the catch-up window (an outage): not published


EDITABLE = {ContentState.DRAFT, ContentState.PENDING_APPROVAL, ContentState.APPROVED}
# Publishing (or queueing) again after a failure, a hold or a missed slot replaces the earlier job.
PUBLISHABLE = {ContentState.APPROVED, ContentState.FAILED, ContentState.HELD, ContentState.MISSED}
# What a person may still change: the text of anything not yet on its way to LinkedIn.
REVISABLE = {*EDITABLE, ContentState.SCHEDULED, ContentState.HELD, ContentState.FAILED, ContentState.MISSED}


class Content(IdMixin, TimestampMixin, Base):
    __tablename__ = "content_items"
    __table_args__ = (Index("ix_content_org_created", "org_id", "created_at"),)

    org_id: Mapped[uuid.UUID] = mapped_column(ForeignKey("organizations.id", ondelete="CASCADE"), index=True)
    author_id: Mapped[uuid.UUID | None] = mapped_column(ForeignKey("users.id", ondelete="SET NULL"))
    integration_id: Mapped[uuid.UUID | None] = mapped_column(
        ForeignKey("linkedin_integrations.id", ondelete="SET NULL")
    )
    text: Mapped[str] = mapped_column(Text)
    first_comment: Mapped[str] = mapped_column(Text, default="")
    media_id: Mapped[uuid.UUID | None] = mapped_column(ForeignKey("content_media.id", ondelete="SET NULL"))
    state: Mapped[str] = mapped_column(String(20), default=ContentState.DRAFT.value)
    version: Mapped[int] = mapped_column(Integer, default=1)  # bumped by every edit (If-Match later)
    approved_by: Mapped[uuid.UUID | None] = mapped_column(ForeignKey("users.id", ondelete="SET NULL"))
    approved_at: Mapped[datetime | None]
    # Publication: the job that publishes it, LinkedIn's URN once known, and what went wrong.
    publish_job_id: Mapped[int | None] = mapped_column(BigInteger().with_variant(Integer, "sqlite"))
    attempts: Mapped[int] = mapped_column(Integer, default=0)  # calls to LinkedIn, recorded before each
    post_urn: Mapped[str | None] = mapped_column(String(80))
    comment_urn: Mapped[str | None] = mapped_column(Text)
    published_at: Mapped[datetime | None]
    last_error: Mapped[str] = mapped_column(Text, default="")


class Media(IdMixin, TimestampMixin, Base):
    """An image or a PDF document attached to content, checked when it is uploaded."""

    __tablename__ = "content_media"

    org_id: Mapped[uuid.UUID] = mapped_column(ForeignKey("organizations.id", ondelete="CASCADE"), index=True)
    kind: Mapped[str] = mapped_column(String(16))  # image | document
    filename: Mapped[str] = mapped_column(String(255))
    content_type: Mapped[str] = mapped_column(String(100))
    size: Mapped[int] = mapped_column(Integer)
    width: Mapped[int | None] = mapped_column(Integer)
    height: Mapped[int | None] = mapped_column(Integer)
    data: Mapped[bytes] = mapped_column(LargeBinary)
    asset_urn: Mapped[str | None] = mapped_column(Text)  # LinkedIn's image/document URN once uploaded
    asset_integration_id: Mapped[uuid.UUID | None]


class ContentVersion(IdMixin, Base):
    """The text as it stood at each version: the edit history a reviewer compares against."""

    __tablename__ = "content_versions"
    __table_args__ = (UniqueConstraint("content_id", "version", name="uq_content_versions_version"),)

    org_id: Mapped[uuid.UUID] = mapped_column(ForeignKey("organizations.id", ondelete="CASCADE"), index=True)
    content_id: Mapped[uuid.UUID] = mapped_column(ForeignKey("content_items.id", ondelete="CASCADE"))
    version: Mapped[int] = mapped_column(Integer)
    text: Mapped[str] = mapped_column(Text)
    first_comment: Mapped[str] = mapped_column(Text, default="")
    edited_by: Mapped[uuid.UUID | None] = mapped_column(ForeignKey("users.id", ondelete="SET NULL"))
    created_at: Mapped[datetime]


class ContentComment(IdMixin, Base):
    """A remark on a draft (a rejection's reason is one)."""

    __tablename__ = "content_comments"
    __table_args__ = (Index("ix_content_comments_content", "content_id", "created_at"),)

    org_id: Mapped[uuid.UUID] = mapped_column(ForeignKey("organizations.id", ondelete="CASCADE"), index=True)
    content_id: Mapped[uuid.UUID] = mapped_column(ForeignKey("content_items.id", ondelete="CASCADE"))
    author_id: Mapped[uuid.UUID | None] = mapped_column(ForeignKey("users.id", ondelete="SET NULL"))
    body: Mapped[str] = mapped_column(Text)
    created_at: Mapped[datetime]


class ContentEvent(IdMixin, Base):
    """The audit log: who did what to a post, when, and the state it left it in."""

    __tablename__ = "content_events"
    __table_args__ = (Index("ix_content_events_content", "content_id", "created_at"),)

    org_id: Mapped[uuid.UUID] = mapped_column(ForeignKey("organizations.id", ondelete="CASCADE"), index=True)
    content_id: Mapped[uuid.UUID] = mapped_column(ForeignKey("content_items.id", ondelete="CASCADE"))
    actor_id: Mapped[uuid.UUID | None] = mapped_column(ForeignKey("users.id", ondelete="SET NULL"))  # None: AutoPilot
    action: Mapped[str] = mapped_column(String(32))
    from_state: Mapped[str] = mapped_column(String(20))
    to_state: Mapped[str] = mapped_column(String(20))
    version: Mapped[int] = mapped_column(Integer)
    note: Mapped[str] = mapped_column(Text, default="")
    created_at: Mapped[datetime]


class ContentDecision(IdMixin, Base):
    """A reviewer's decision taken under an Idempotency-Key: a replay of the key (a phone sending
    its offline queue twice) answers this outcome again instead of deciding a second time."""

    __tablename__ = "content_decisions"
    __table_args__ = (UniqueConstraint("user_id", "idempotency_key", name="uq_content_decisions_key"),)

    org_id: Mapped[uuid.UUID] = mapped_column(ForeignKey("organizations.id", ondelete="CASCADE"), index=True)
    user_id: Mapped[uuid.UUID] = mapped_column(ForeignKey("users.id", ondelete="CASCADE"))
    idempotency_key: Mapped[str] = mapped_column(String(100))
    content_id: Mapped[uuid.UUID] = mapped_column(ForeignKey("content_items.id", ondelete="CASCADE"))
    decision: Mapped[str] = mapped_column(String(16))
    state: Mapped[str] = mapped_column(String(20))
    version: Mapped[int] = mapped_column(Integer)
    created_at: Mapped[datetime]
