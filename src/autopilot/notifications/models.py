from __future__ import annotations

import uuid
from datetime import datetime

from sqlalchemy import BigInteger, Boolean, ForeignKey, Index, Integer, String, Text
from sqlalchemy.orm import Mapped, mapped_column

from autopilot.kit.db import Base, IdMixin, TimestampMixin


class Alert(Base):
    """Something an organization's owners must know (a dead job, late jobs); shown in-app."""

    __tablename__ = "alerts"
    __table_args__ = (Index("ix_alerts_org_created", "org_id", "created_at"),)

    id: Mapped[uuid.UUID] = mapped_column(primary_key=True, default=uuid.uuid4)
    org_id: Mapped[uuid.UUID] = mapped_column(ForeignKey("organizations.id", ondelete="CASCADE"))
    kind: Mapped[str] = mapped_column(String(32))
    message: Mapped[str] = mapped_column(Text)
    job_id: Mapped[int | None] = mapped_column(BigInteger().with_variant(Integer, "sqlite"))
    created_at: Mapped[datetime]


class PushSubscription(IdMixin, TimestampMixin, Base):
    """One browser's Web Push subscription (a device of a user). The endpoint is the push service's
    capability URL for that browser: unique, so subscribing again updates the row in place."""

    __tablename__ = "push_subscriptions"
    __table_args__ = (Index("ix_push_subscriptions_org_user", "org_id", "user_id"),)

    org_id: Mapped[uuid.UUID] = mapped_column(ForeignKey("organizations.id", ondelete="CASCADE"))
    user_id: Mapped[uuid.UUID] = mapped_column(ForeignKey("users.id", ondelete="CASCADE"))
    endpoint: Mapped[str] = mapped_column(String(1024), unique=True)
    p256dh: Mapped[str] = mapped_column(String(100))  # the browser's P-256 public key, base64url
    auth: Mapped[str] = mapped_column(String(40))  # its 16-byte auth secret, base64url
    device: Mapped[str] = mapped_column(String(120), default="")  # from the User-Agent, for the list
    last_success_at: Mapped[datetime | None]
    failures: Mapped[int] = mapped_column(Integer, default=0)  # in a row; a success resets it


class NotificationPreference(Base):
    """Which channels a user wants for one kind of event; a kind without a row uses the defaults."""

    __tablename__ = "notification_preferences"

    org_id: Mapped[uuid.UUID] = mapped_column(ForeignKey("organizations.id", ondelete="CASCADE"), primary_key=True)
    user_id: Mapped[uuid.UUID] = mapped_column(ForeignKey("users.id", ondelete="CASCADE"), primary_key=True)
    kind: Mapped[str] = mapped_column(String(32), primary_key=True)
    push: Mapped[bool] = mapped_column(Boolean)
    email: Mapped[bool] = mapped_column(Boolean)
    in_app: Mapped[bool] = mapped_column(Boolean)


class QuietHours(Base):
    """A daily window, in the user's own zone, when pushes wait (except urgent kinds)."""

    __tablename__ = "notification_quiet_hours"

    org_id: Mapped[uuid.UUID] = mapped_column(ForeignKey("organizations.id", ondelete="CASCADE"), primary_key=True)
    user_id: Mapped[uuid.UUID] = mapped_column(ForeignKey("users.id", ondelete="CASCADE"), primary_key=True)
    start: Mapped[str] = mapped_column(String(5))  # "HH:MM", local wall time
    end: Mapped[str] = mapped_column(String(5))  # may be earlier than start: the window crosses midnight


class VapidKey(Base):
    """The installation's VAPID key pair when none is configured: one row, generated once, the
    private key encrypted with the key ring. Not an organization's secret, so not in the vault."""

    __tablename__ = "vapid_keys"

    id: Mapped[int] = mapped_column(Integer, primary_key=True)  # always 1: one key pair per installation
    private_key: Mapped[str] = mapped_column(Text)  # Fernet ciphertext of the base64url raw key
    public_key: Mapped[str] = mapped_column(String(100))  # base64url X9.62 point, the browser's applicationServerKey
    created_at: Mapped[datetime]
