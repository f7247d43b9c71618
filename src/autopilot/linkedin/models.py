from __future__ import annotations

import enum
import uuid
from datetime import date, datetime

from sqlalchemy import Date, ForeignKey, Index, Integer, String, Text, UniqueConstraint
from sqlalchemy.orm import Mapped, mapped_column

from autopilot.kit.db import Base, IdMixin, TimestampMixin


class IntegrationStatus(enum.StrEnum):
    CONNECTED = "connected"
    NEEDS_RECONNECT = "needs_reconnect"  # token expired or revoked: posts wait, the owner was told
    DISCONNECTED = "disconnected"  # the user disconnected it: tokens deleted


class Integration(IdMixin, TimestampMixin, Base):
    """One LinkedIn member connected to an organization. Its tokens live in the vault
    (`linkedin:<id>:access`, `linkedin:<id>:refresh`), never in this row."""

    __tablename__ = "linkedin_integrations"
    __table_args__ = (UniqueConstraint("org_id", "member_id"),)

    org_id: Mapped[uuid.UUID] = mapped_column(ForeignKey("organizations.id", ondelete="CASCADE"), index=True)
    connected_by: Mapped[uuid.UUID | None] = mapped_column(ForeignKey("users.id", ondelete="SET NULL"))
    member_id: Mapped[str] = mapped_column(String(64))  # the OpenID `sub`: urn:li:person:<member_id>
    name: Mapped[str] = mapped_column(String(200), default="")
    email: Mapped[str] = mapped_column(String(320), default="")
    picture: Mapped[str] = mapped_column(Text, default="")
    scopes: Mapped[str] = mapped_column(Text, default="")  # space-separated, as granted
    status: Mapped[str] = mapped_column(String(16), default=IntegrationStatus.CONNECTED.value)
    status_reason: Mapped[str] = mapped_column(Text, default="")
    access_expires_at: Mapped[datetime]
    refresh_expires_at: Mapped[datetime | None]
    # Health: the last check against the API (userinfo), shown on the Integrations page.
    checked_at: Mapped[datetime | None]
    check_ok: Mapped[bool | None]
    check_detail: Mapped[str] = mapped_column(Text, default="")

    @property
    def author_urn(self) -> str:
        return f"urn:li:person:{self.member_id}"

    @property
    def scope_set(self) -> frozenset[str]:
        return frozenset(self.scopes.split())


class OAuthState(Base):
    """An authorization in flight: `state` is single use, bound to one user, short-lived.
    Only its SHA-256 is stored."""

    __tablename__ = "linkedin_oauth_states"

    state_hash: Mapped[str] = mapped_column(String(64), primary_key=True)
    org_id: Mapped[uuid.UUID] = mapped_column(ForeignKey("organizations.id", ondelete="CASCADE"), index=True)
    user_id: Mapped[uuid.UUID] = mapped_column(ForeignKey("users.id", ondelete="CASCADE"))
    return_to: Mapped[str] = mapped_column(String(200), default="")  # a page of ours, or "" for the API
    created_at: Mapped[datetime]
    expires_at: Mapped[datetime]
    used_at: Mapped[datetime | None]


class DailyUsage(Base):
    """Calls made to LinkedIn per UTC day and per bucket (`app:<endpoint>`, `member:<id>:<endpoint>`),
    counted atomically before each call so that concurrent workers share one budget."""

    __tablename__ = "linkedin_daily_usage"
    __table_args__ = (Index("ix_linkedin_usage_day", "day"),)

    day: Mapped[date] = mapped_column(Date, primary_key=True)
    bucket: Mapped[str] = mapped_column(String(120), primary_key=True)
    calls: Mapped[int] = mapped_column(Integer, default=0)


class Reminder(IdMixin, Base):
    """A token-expiry reminder sent (one per integration, expiry and lead time)."""

    __tablename__ = "linkedin_reminders"
    __table_args__ = (UniqueConstraint("integration_id", "expires_at", "days_before"),)

    integration_id: Mapped[uuid.UUID] = mapped_column(ForeignKey("linkedin_integrations.id", ondelete="CASCADE"))
    expires_at: Mapped[datetime]
    days_before: Mapped[int]
    sent_at: Mapped[datetime]
