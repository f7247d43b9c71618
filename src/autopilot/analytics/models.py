"""What analytics keeps: each known post of an organization's LinkedIn account with its latest
figures and their source, the figures over time, the account's days (impressions, engagements,
followers) and the files imported.

A figure LinkedIn did not give us is NULL, never 0: the creator export lists only its top 50 posts
by engagements and by impressions, and a post missing from one table has an unknown count, not a
zero one (research: linkedin-analytics-and-leads.md §1.2). Counts may be negative (LinkedIn reports
net figures); they are stored as given and only charts clamp them."""

from __future__ import annotations

import uuid
from datetime import date, datetime
from typing import Any

from sqlalchemy import (
    JSON,
    BigInteger,
    Boolean,
    CheckConstraint,
    Date,
    ForeignKey,
    Index,
    Integer,
    String,
    Text,
    UniqueConstraint,
)
from sqlalchemy.orm import Mapped, mapped_column

from autopilot.kit.db import Base, IdMixin, TimestampMixin

# Where a post's figures came from, most trusted last: an export is a snapshot a member downloaded,
# the API is read by us and carries the time it was read.
FIGURE_SOURCES = ("export", "post_export", "api")
# How a post became known: published by us, listed in a creator export, found in an archive's Shares.csv.
POST_ORIGINS = ("published", "export", "archive")
# The API sync of one post: waiting for its first read, read, not allowed by the granted scopes
# (LinkedIn's analytics scopes need a reviewed product), failing, or done (old enough to stop).
SYNC_STATES = ("pending", "ok", "unsupported", "error", "done", "none")
BIG = BigInteger().with_variant(Integer, "sqlite")


class AnalyticsPost(IdMixin, TimestampMixin, Base):
    """One post of an organization's LinkedIn account, ours or imported, with its latest figures.

    `activity_id` is the number in `urn:li:activity:<id>`, `share_urn` the `urn:li:share:`/`ugcPost:`
    URN the API returns when we publish; they are different numbers for the same post, joined by the
    time embedded in both (`id >> 22` is Unix milliseconds, research §1.4). Either may be unknown."""

    __tablename__ = "analytics_posts"
    __table_args__ = (
        UniqueConstraint("org_id", "share_urn", name="uq_analytics_posts_share_urn"),
        UniqueConstraint("org_id", "activity_id", name="uq_analytics_posts_activity_id"),
        UniqueConstraint("org_id", "content_id", name="uq_analytics_posts_content_id"),
        CheckConstraint("origin IN ('" + "', '".join(POST_ORIGINS) + "')", name="origin"),
        CheckConstraint("sync_state IN ('" + "', '".join(SYNC_STATES) + "')", name="sync_state"),
        CheckConstraint(
            "figures_source IS NULL OR figures_source IN ('" + "', '".join(FIGURE_SOURCES) + "')",
            name="figures_source",
        ),
        Index("ix_analytics_posts_org_published", "org_id", "published_at"),
        Index("ix_analytics_posts_sync_due", "sync_state", "next_sync_at"),
    )

    org_id: Mapped[uuid.UUID] = mapped_column(ForeignKey("organizations.id", ondelete="CASCADE"))
    integration_id: Mapped[uuid.UUID | None] = mapped_column(
        ForeignKey("linkedin_integrations.id", ondelete="SET NULL")
    )
    content_id: Mapped[uuid.UUID | None] = mapped_column(ForeignKey("content_items.id", ondelete="SET NULL"))
    origin: Mapped[str] = mapped_column(String(16))
    share_urn: Mapped[str | None] = mapped_column(String(80))
    activity_id: Mapped[str | None] = mapped_column(String(24))
    url: Mapped[str] = mapped_column(Text, default="")
    published_at: Mapped[datetime | None]  # to the minute when known from an id, else midnight UTC of the day
    text: Mapped[str | None] = mapped_column(Text)  # None: not known (the export has no text)
    media_type: Mapped[str | None] = mapped_column(String(16))  # text | image | document | video | article
    # Latest figures; NULL = unknown.
    impressions: Mapped[int | None] = mapped_column(BIG)
    members_reached: Mapped[int | None] = mapped_column(BIG)
    reactions: Mapped[int | None] = mapped_column(BIG)
    comments: Mapped[int | None] = mapped_column(BIG)
    reposts: Mapped[int | None] = mapped_column(BIG)
    engagements: Mapped[int | None] = mapped_column(BIG)  # the export's aggregate count (includes clicks)
    saves: Mapped[int | None] = mapped_column(BIG)
    sends: Mapped[int | None] = mapped_column(BIG)
    figures_source: Mapped[str | None] = mapped_column(String(16))
    figures_at: Mapped[datetime | None]  # when the figures were read (API) or exported (files)
    # API sync bookkeeping (analytics.sync).
    sync_state: Mapped[str] = mapped_column(String(16), default="none")
    sync_detail: Mapped[str] = mapped_column(Text, default="")
    synced_at: Mapped[datetime | None]
    next_sync_at: Mapped[datetime | None]
    sync_failures: Mapped[int] = mapped_column(Integer, default=0)


class AnalyticsSample(IdMixin, Base):
    """A post's figures at one moment (one API read, or one imported file), for "over time" charts."""

    __tablename__ = "analytics_samples"
    __table_args__ = (
        UniqueConstraint("post_id", "at", "source", name="uq_analytics_samples_post_at"),
        Index("ix_analytics_samples_org_at", "org_id", "at"),
    )

    org_id: Mapped[uuid.UUID] = mapped_column(ForeignKey("organizations.id", ondelete="CASCADE"))
    post_id: Mapped[uuid.UUID] = mapped_column(ForeignKey("analytics_posts.id", ondelete="CASCADE"))
    at: Mapped[datetime]
    source: Mapped[str] = mapped_column(String(16))
    impressions: Mapped[int | None] = mapped_column(BIG)
    members_reached: Mapped[int | None] = mapped_column(BIG)
    reactions: Mapped[int | None] = mapped_column(BIG)
    comments: Mapped[int | None] = mapped_column(BIG)
    reposts: Mapped[int | None] = mapped_column(BIG)


class AccountDay(Base):
    """One calendar day of an organization's LinkedIn account (the creator export's ENGAGEMENT and
    FOLLOWERS sheets). On overlap between exports the higher value wins: LinkedIn revises recent
    numbers upward (research §1.1)."""

    __tablename__ = "analytics_account_days"

    org_id: Mapped[uuid.UUID] = mapped_column(ForeignKey("organizations.id", ondelete="CASCADE"), primary_key=True)
    day: Mapped[date] = mapped_column(Date, primary_key=True)
    impressions: Mapped[int | None] = mapped_column(BIG)
    engagements: Mapped[int | None] = mapped_column(BIG)
    new_followers: Mapped[int | None] = mapped_column(BIG)
    followers: Mapped[int | None] = mapped_column(BIG)  # total at the end of the day, when known
    updated_at: Mapped[datetime]


class AnalyticsImport(IdMixin, Base):
    """A file a member imported. The same bytes again are recognised and change nothing."""

    __tablename__ = "analytics_imports"
    __table_args__ = (UniqueConstraint("org_id", "sha256", name="uq_analytics_imports_sha256"),)

    org_id: Mapped[uuid.UUID] = mapped_column(ForeignKey("organizations.id", ondelete="CASCADE"))
    imported_by: Mapped[uuid.UUID | None] = mapped_column(ForeignKey("users.id", ondelete="SET NULL"))
    sha256: Mapped[str] = mapped_column(String(64))
    kind: Mapped[str] = mapped_column(String(24))  # creator_export | post_export | shares
    filename: Mapped[str] = mapped_column(String(255), default="")
    layout: Mapped[str] = mapped_column(
        String(40), default=""
    )  # e.g. "2025 (Content_…)", "2026 (AggregateAnalytics_…)"
    summary: Mapped[str] = mapped_column(Text, default="")  # what it added, in words
    period_start: Mapped[date | None] = mapped_column(Date)
    period_end: Mapped[date | None] = mapped_column(Date)
    created_at: Mapped[datetime]


# -- prediction and learned best time (migration 0015) ----------------------------------------


class EngagementModel(IdMixin, TimestampMixin, Base):
    """An organization's engagement forecast: the public prior updated with its own posts, and the
    validation report on its later posts. One row per organization, replaced at each training."""

    __tablename__ = "analytics_engagement_models"
    __table_args__ = (UniqueConstraint("org_id", name="uq_analytics_engagement_models_org"),)

    org_id: Mapped[uuid.UUID] = mapped_column(ForeignKey("organizations.id", ondelete="CASCADE"))
    fit: Mapped[dict[str, Any]] = mapped_column(JSON)  # prediction.Fit.as_json()
    report: Mapped[dict[str, Any]] = mapped_column(JSON)  # prediction.validate()
    basis_posts: Mapped[int] = mapped_column(Integer, default=0)  # the account's posts it learned from
    posts_seen: Mapped[int] = mapped_column(Integer, default=0)  # posts with figures when trained (debounce)
    trained_at: Mapped[datetime]


class BestTimePreference(IdMixin, TimestampMixin, Base):
    """Whether the learned best time is applied to a LinkedIn connection's weekly slots by itself
    (weekly), or only suggested; and what was applied last."""

    __tablename__ = "analytics_slot_prefs"
    __table_args__ = (UniqueConstraint("integration_id", name="uq_analytics_slot_prefs_integration"),)

    org_id: Mapped[uuid.UUID] = mapped_column(ForeignKey("organizations.id", ondelete="CASCADE"))
    integration_id: Mapped[uuid.UUID] = mapped_column(ForeignKey("linkedin_integrations.id", ondelete="CASCADE"))
    auto_apply: Mapped[bool] = mapped_column(Boolean, default=False)
    chosen_by: Mapped[uuid.UUID | None] = mapped_column(ForeignKey("users.id", ondelete="SET NULL"))
    applied_at: Mapped[datetime | None]
    applied_slots: Mapped[str] = mapped_column(Text, default="")  # "Tue 08:30, Thu 06:30", in words


# -- Company Pages (Community Management API, research G §2) ----------------------------------

# A tracked page's daily sync: not yet run, done, not allowed by the granted scopes (Community
# Management is a reviewed product), waiting out LinkedIn's throttle, or failing.
PAGE_SYNC_STATES = ("pending", "ok", "unsupported", "rate_limited", "error")


class CompanyPage(IdMixin, TimestampMixin, Base):
    """A LinkedIn Company Page that a connected member administers, known through that connection.
    Only tracked pages are synced; the figures are LinkedIn's organic statistics (sponsored activity
    is not counted by the API) and stay as given, negative net counts included."""

    __tablename__ = "analytics_company_pages"
    __table_args__ = (
        UniqueConstraint("org_id", "integration_id", "organization_urn", name="uq_analytics_company_pages_urn"),
        CheckConstraint("sync_state IN ('" + "', '".join(PAGE_SYNC_STATES) + "')", name="sync_state"),
        Index("ix_analytics_company_pages_org", "org_id", "tracked"),
    )

    org_id: Mapped[uuid.UUID] = mapped_column(ForeignKey("organizations.id", ondelete="CASCADE"))
    integration_id: Mapped[uuid.UUID] = mapped_column(ForeignKey("linkedin_integrations.id", ondelete="CASCADE"))
    organization_urn: Mapped[str] = mapped_column(String(80))  # urn:li:organization:<id>
    name: Mapped[str] = mapped_column(String(200), default="")
    vanity_name: Mapped[str] = mapped_column(String(200), default="")
    tracked: Mapped[bool] = mapped_column(default=False)
    followers: Mapped[int | None] = mapped_column(BIG)  # networkSizes' total at the last sync
    sync_state: Mapped[str] = mapped_column(String(16), default="pending")
    sync_detail: Mapped[str] = mapped_column(Text, default="")
    synced_at: Mapped[datetime | None]  # the last successful sync
    next_sync_at: Mapped[datetime | None]


class CompanyPageDay(Base):
    """One UTC day of a tracked page as LinkedIn last reported it (a later sync overwrites: LinkedIn
    revises recent days). Unique impressions are only given on lifetime aggregates, so they stay
    NULL for days unless LinkedIn sends them (research §2.2)."""

    __tablename__ = "analytics_company_page_days"

    page_id: Mapped[uuid.UUID] = mapped_column(
        ForeignKey("analytics_company_pages.id", ondelete="CASCADE"), primary_key=True
    )
    day: Mapped[date] = mapped_column(Date, primary_key=True)
    org_id: Mapped[uuid.UUID] = mapped_column(ForeignKey("organizations.id", ondelete="CASCADE"), index=True)
    impressions: Mapped[int | None] = mapped_column(BIG)
    unique_impressions: Mapped[int | None] = mapped_column(BIG)
    clicks: Mapped[int | None] = mapped_column(BIG)
    reactions: Mapped[int | None] = mapped_column(BIG)
    comments: Mapped[int | None] = mapped_column(BIG)
    shares: Mapped[int | None] = mapped_column(BIG)
    organic_follower_gain: Mapped[int | None] = mapped_column(BIG)
    paid_follower_gain: Mapped[int | None] = mapped_column(BIG)
    followers: Mapped[int | None] = mapped_column(BIG)  # the total, on the day it was read
    updated_at: Mapped[datetime]
