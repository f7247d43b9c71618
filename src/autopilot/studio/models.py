from __future__ import annotations

import uuid
from typing import Any

from sqlalchemy import JSON, ForeignKey, String, Text
from sqlalchemy.orm import Mapped, mapped_column

from autopilot.kit.db import Base, IdMixin, TimestampMixin


class WriterProfile(IdMixin, TimestampMixin, Base):
    """What a writer tells the Studio about themselves: one per user. Sizes are bounded by the API
    (studio.schemas), so a profile always fits in a prompt."""

    __tablename__ = "writer_profiles"

    org_id: Mapped[uuid.UUID] = mapped_column(ForeignKey("organizations.id", ondelete="CASCADE"), index=True)
    user_id: Mapped[uuid.UUID] = mapped_column(ForeignKey("users.id", ondelete="CASCADE"), unique=True)
    topics: Mapped[list[Any]] = mapped_column(JSON, default=list)
    about: Mapped[str] = mapped_column(Text, default="")
    audience: Mapped[str] = mapped_column(String(200), default="")
    voice_examples: Mapped[list[Any]] = mapped_column(JSON, default=list)
