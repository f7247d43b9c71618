from __future__ import annotations

import ipaddress
import re
import uuid
from datetime import datetime
from urllib.parse import urlsplit

from cryptography.hazmat.primitives.asymmetric import ec
from pydantic import BaseModel, ConfigDict, Field, field_validator, model_validator

from autopilot.kit.inputs import Input
from autopilot.notifications.vapid import unb64url


class AlertOut(BaseModel):
    model_config = ConfigDict(from_attributes=True)
    id: uuid.UUID
    kind: str
    message: str
    job_id: int | None
    created_at: datetime


ENDPOINT_MAX = 1000  # real push services' endpoints are 150-300 characters


def check_endpoint(value: str) -> str:
    """A push endpoint is https; plain http only to this machine (the emulator, tests)."""
    parts = urlsplit(value)
    if parts.scheme not in ("https", "http") or not parts.hostname:
        raise ValueError("the endpoint must be an absolute https:// URL")
    if parts.username or parts.password:
        raise ValueError("the endpoint must not carry credentials")
    if parts.scheme == "http" and not is_loopback(parts.hostname):
        raise ValueError("the endpoint must use https (plain http is accepted on loopback only, for the emulator)")
    return value


def is_loopback(host: str) -> bool:
    if host == "localhost":
        return True
    try:
        return ipaddress.ip_address(host).is_loopback
    except ValueError:
        return False


def check_p256dh(value: str) -> str:
    try:
        point = unb64url(value)
        ec.EllipticCurvePublicKey.from_encoded_point(ec.SECP256R1(), point)
    except ValueError:
        raise ValueError("p256dh must be base64url of an uncompressed P-256 public key (65 bytes)") from None
    if len(point) != 65:
        raise ValueError("p256dh must be base64url of an uncompressed P-256 public key (65 bytes)")
    return value.rstrip("=")


def check_auth(value: str) -> str:
    try:
        secret = unb64url(value)
    except ValueError:
        secret = b""
    if len(secret) != 16:
        raise ValueError("auth must be base64url of a 16-byte secret")
    return value.rstrip("=")


class SubscriptionKeys(Input):
    p256dh: str = Field(max_length=100, description="The browser's P-256 public key, base64url (65 bytes)")
    auth: str = Field(max_length=40, description="The browser's auth secret, base64url (16 bytes)")

    _p256dh = field_validator("p256dh")(check_p256dh)
    _auth = field_validator("auth")(check_auth)


class SubscriptionIn(Input):
    """What `PushSubscription.toJSON()` gives in the browser."""

    endpoint: str = Field(max_length=ENDPOINT_MAX, description="The push service's URL for this browser")
    keys: SubscriptionKeys
    expirationTime: int | None = Field(default=None, description="Ignored: push services rarely set it")

    _endpoint = field_validator("endpoint")(check_endpoint)


class UnsubscribeIn(Input):
    endpoint: str = Field(max_length=ENDPOINT_MAX)


class SubscriptionOut(BaseModel):
    model_config = ConfigDict(from_attributes=True)
    id: uuid.UUID
    endpoint: str
    device: str
    created_at: datetime
    last_success_at: datetime | None
    failures: int


class PushKeyOut(BaseModel):
    key: str = Field(
        description="The VAPID application server key: base64url of a P-256 point, for pushManager.subscribe"
    )


_CLOCK = re.compile(r"^([01]\d|2[0-3]):[0-5]\d$")


def check_clock(value: str) -> str:
    if not _CLOCK.match(value):
        raise ValueError(f"{value!r} is not a time of day as HH:MM, for example 22:00")
    return value


class QuietHoursIO(Input):
    """A daily window in your own time zone; `end` before `start` crosses midnight (22:00 → 07:00)."""

    start: str = Field(examples=["22:00"])
    end: str = Field(examples=["07:00"])

    _start = field_validator("start")(check_clock)
    _end = field_validator("end")(check_clock)

    @model_validator(mode="after")
    def _not_empty(self) -> QuietHoursIO:
        if self.start == self.end:
            raise ValueError("quiet hours start and end at the same time; send null for none")
        return self


class ChannelsIn(Input):
    push: bool
    email: bool
    in_app: bool | None = Field(default=None, description="Absent or null for a kind that has no in-app channel")


class PreferencesIn(Input):
    """The channels per kind (a kind left out goes back to its defaults) and the quiet hours."""

    kinds: dict[str, ChannelsIn] = Field(default_factory=dict, max_length=50)
    quiet_hours: QuietHoursIO | None = None


class KindOut(BaseModel):
    kind: str
    label: str
    push: bool
    email: bool
    in_app: bool | None = Field(description="null: this kind has no in-app channel")
    urgent: bool = Field(description="Pushed during quiet hours too")


class PreferencesOut(BaseModel):
    timezone: str = Field(description="Your zone: quiet hours are in it")
    quiet_hours: QuietHoursIO | None
    kinds: list[KindOut]
