from __future__ import annotations

import re
import uuid
from datetime import datetime
from typing import Literal

from pydantic import BaseModel, ConfigDict, Field, field_validator, model_validator
from typing_extensions import TypedDict  # pydantic needs this one before Python 3.12

from autopilot.accounts.schemas import check_zone
from autopilot.kit.inputs import Input

WEEKDAYS = ("mon", "tue", "wed", "thu", "fri", "sat", "sun")
_CLOCK = re.compile(r"^([01]\d|2[0-3]):[0-5]\d$")


class SlotIn(Input):
    day: Literal["mon", "tue", "wed", "thu", "fri", "sat", "sun"]
    time: str = Field(description="Wall-clock time in the schedule's zone, HH:MM (24 h)", examples=["06:30"])

    @field_validator("time")
    @classmethod
    def _clock(cls, value: str) -> str:
        if not _CLOCK.match(value):
            raise ValueError(f"{value!r} is not a time of day as HH:MM, for example 06:30")
        return value


class ScheduleIn(Input):
    """The whole weekly rhythm; posts already queued in its slots move to the new times."""

    timezone: str = Field(description="IANA zone, for example Europe/Paris", examples=["Europe/Paris"])
    slots: list[SlotIn] = Field(max_length=100)
    capacity: int = Field(default=1, ge=1, le=10, description="Posts one slot holds")

    _zone = field_validator("timezone")(check_zone)


class SlotOut(BaseModel):
    day: str
    time: str


class Move(BaseModel):
    content_id: uuid.UUID
    before: str = Field(description="Local time it had, in its zone")
    after: str


class ScheduleOut(BaseModel):
    integration_id: uuid.UUID
    timezone: str
    capacity: int
    paused: bool
    slots: list[SlotOut]
    rule: str = Field(description="What happens to a slot time a daylight-saving change skips or repeats")
    moved: list[Move] = Field(default_factory=list, description="Queued posts this change moved")


class Occurrence(BaseModel):
    local: str = Field(description="Local date and time, ISO 8601 with its offset")
    utc: datetime
    adjusted: bool = Field(description="True when a daylight-saving change moved this occurrence")
    taken_by: list[uuid.UUID]


class QueueIn(Input):
    """Either the next free slot, or an explicit local date-time in a zone."""

    slot: Literal["next"] | None = None
    at: str | None = Field(default=None, description="Local date-time, YYYY-MM-DDTHH:MM", examples=["2027-03-30T06:30"])
    timezone: str | None = Field(default=None, description="IANA zone of `at`; default: the schedule's")

    _zone = field_validator("timezone")(check_zone)

    @model_validator(mode="after")
    def _one(self) -> QueueIn:
        if (self.slot is None) == (self.at is None):
            raise ValueError('give either {"slot": "next"} or {"at": "YYYY-MM-DDTHH:MM"}')
        if self.at is not None:
            try:
                parsed = datetime.fromisoformat(self.at)
            except ValueError:
                raise ValueError(f"{self.at!r} is not a local date-time as YYYY-MM-DDTHH:MM") from None
            if parsed.tzinfo is not None:
                raise ValueError("give the local time without an offset, and the zone in `timezone`")
        return self


class SwapIn(Input):
    """Two queued posts of one account that trade places."""

    first: uuid.UUID
    second: uuid.UUID


class EntryOut(BaseModel):
    model_config = ConfigDict(from_attributes=True)
    content_id: uuid.UUID
    integration_id: uuid.UUID
    due_at: datetime
    local_at: str
    timezone: str
    from_slot: bool
    state: str
    note: str
    content_state: str = ""
    text: str = ""


class EntryRow(TypedDict):
    """EntryOut as a plain row, for listings serialised straight from the database's rows."""

    content_id: uuid.UUID
    integration_id: uuid.UUID
    due_at: datetime
    local_at: str
    timezone: str
    from_slot: bool
    state: str
    note: str
    content_state: str
    text: str


class FeedOut(BaseModel):
    url: str = Field(description="Secret address of the read-only iCal feed; anyone holding it can read it")
