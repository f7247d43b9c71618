from __future__ import annotations

import re
import uuid
from datetime import datetime
from decimal import Decimal, InvalidOperation
from typing import Literal

from fastapi import UploadFile
from pydantic import BaseModel, ConfigDict, Field, field_validator, model_validator

from autopilot.kit.inputs import Input

Stage = Literal["new", "contacted", "call_booked", "proposal", "won", "lost"]
MAX_CENTS = 10**13  # a hundred billion in any currency: beyond any consulting deal
_CURRENCY = re.compile(r"^[A-Z]{3}$")


def check_currency(value: str | None) -> str | None:
    if value is None:
        return None
    value = value.strip().upper()
    if not _CURRENCY.match(value):
        raise ValueError(f"{value[:10]!r} is not a currency code like EUR or USD")
    return value


def cents_from_text(text: str) -> int:
    """A money amount a person typed ("12000", "12,000.50", "12 000") in cents; ValueError if unreadable."""
    cleaned = text.strip().replace(" ", "").replace("\u00a0", "").replace(",", "")
    if not cleaned:
        return 0
    try:
        amount = Decimal(cleaned)
    except InvalidOperation:
        raise ValueError(f"{text[:20]!r} is not an amount, like 12000 or 12,000.50") from None
    if not amount.is_finite() or amount < 0 or amount != amount.quantize(Decimal("0.01")):
        raise ValueError(f"{text[:20]!r} is not an amount with at most two decimals")
    cents = int(amount * 100)
    if cents > MAX_CENTS:
        raise ValueError("the amount is too large")
    return cents


class LeadIn(Input):
    """A person added by hand; an existing lead with the same e-mail, profile URL, or name and
    company is found instead of a new one made."""

    name: str = Field(default="", max_length=200)
    profile_url: str = Field(default="", max_length=500, description="The LinkedIn profile URL")
    email: str = Field(default="", max_length=320)
    company: str = Field(default="", max_length=200)
    title: str = Field(default="", max_length=200)
    notes: str = Field(default="", max_length=5000, description="What you know; scored like a message")
    value_cents: int | None = Field(default=None, ge=0, le=MAX_CENTS, description="The deal's value, in cents")
    currency: str | None = Field(default=None, description="ISO 4217 code, default EUR")

    _currency = field_validator("currency")(check_currency)

    @model_validator(mode="after")
    def _someone(self) -> LeadIn:
        if not (self.name.strip() or self.profile_url.strip() or self.email.strip()):
            raise ValueError("give at least a name, a profile URL or an e-mail")
        if self.email.strip() and "@" not in self.email:
            raise ValueError(f"{self.email[:40]!r} is not an e-mail address")
        return self


class LeadEdit(Input):
    """Only the fields given change. A stage change must follow the pipeline (409 otherwise)."""

    stage: Stage | None = None
    value_cents: int | None = Field(default=None, ge=0, le=MAX_CENTS)
    currency: str | None = None
    notes: str | None = Field(default=None, max_length=5000)

    _currency = field_validator("currency")(check_currency)


class ImportForm(Input):
    """A multipart form with one file: LinkedIn's data archive (.zip), or its messages.csv,
    Connections.csv or Invitations.csv alone."""

    file: UploadFile = Field(description="The data archive .zip, or one of its CSV files")
    your_name: str = Field(
        default="",
        max_length=200,
        description="Your name as on LinkedIn, when the file alone cannot tell your own messages apart",
    )


class SignalOut(BaseModel):
    model_config = ConfigDict(from_attributes=True)
    source: str
    text: str
    at: datetime
    intent: int


class LeadOut(BaseModel):
    model_config = ConfigDict(from_attributes=True)
    id: uuid.UUID
    name: str
    profile_url: str
    email: str
    company: str
    title: str
    stage: str
    value_cents: int
    currency: str
    notes: str
    score: int
    intent: int
    recency: int
    fit: int
    reasons: list[str]
    last_signal_at: datetime | None
    last_signal_text: str
    last_signal_source: str
    created_at: datetime


class LeadDetail(LeadOut):
    signals: list[SignalOut] = Field(description="Newest first")
    next_stages: list[str] = Field(description="The stages this lead may move to")


class Summary(BaseModel):
    open_value: dict[str, int] = Field(description="Open pipeline value in cents, per currency")
    won_value: dict[str, int] = Field(description="Won value in cents, per currency")
    counts: dict[str, int] = Field(description="Leads per stage")


class ImportOut(BaseModel):
    files: list[str] = Field(description="What was found, by header: messages, connections, invitations, profile")
    signals_added: int
    leads_created: int
    skipped: int = Field(description="Rows that were not signals: your own messages, no buying interest, duplicates")
