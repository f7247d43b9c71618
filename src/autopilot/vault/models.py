from __future__ import annotations

import uuid

from sqlalchemy import ForeignKey, String, Text, UniqueConstraint
from sqlalchemy.orm import Mapped, mapped_column

from autopilot.kit.db import Base, IdMixin, TimestampMixin


class StoredSecret(IdMixin, TimestampMixin, Base):
    """An OAuth token or channel credential; only the Fernet ciphertext is stored."""

    __tablename__ = "stored_secrets"
    __table_args__ = (UniqueConstraint("org_id", "name"),)

    org_id: Mapped[uuid.UUID] = mapped_column(ForeignKey("organizations.id", ondelete="CASCADE"), index=True)
    name: Mapped[str] = mapped_column(String(200))
    ciphertext: Mapped[str] = mapped_column(Text)
