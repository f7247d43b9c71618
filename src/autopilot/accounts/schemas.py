from __future__ import annotations

import uuid
from datetime import datetime

from pydantic import BaseModel, ConfigDict, EmailStr, Field, field_validator

from autopilot.accounts.models import Role
from autopilot.kit.time import is_iana_zone

MIN_PASSWORD = 10


def check_zone(value: str | None) -> str | None:
    if value is not None and not is_iana_zone(value):
        raise ValueError(f"{value!r} is not an IANA time zone (for example Europe/Paris or America/New_York)")
    return value


class Strict(BaseModel):
    model_config = ConfigDict(extra="forbid", str_strip_whitespace=True)


class SignupIn(Strict):
    email: EmailStr
    password: str = Field(min_length=MIN_PASSWORD, max_length=1024)
    organization_name: str = Field(min_length=1, max_length=200)
    name: str = Field(default="", max_length=200)
    timezone: str | None = None

    _zone = field_validator("timezone")(check_zone)


class LoginIn(Strict):
    email: EmailStr
    password: str = Field(min_length=1, max_length=1024)
    organization_id: uuid.UUID | None = None


class TokenOut(BaseModel):
    access_token: str
    token_type: str = "bearer"  # noqa: S105 (a scheme name, not a secret)
    expires_at: datetime | None = None


class OrganizationOut(BaseModel):
    model_config = ConfigDict(from_attributes=True)
    id: uuid.UUID
    name: str


class UserOut(BaseModel):
    model_config = ConfigDict(from_attributes=True)
    id: uuid.UUID
    email: str
    name: str
    timezone: str


class MeOut(BaseModel):
    user: UserOut
    organization: OrganizationOut
    role: Role
    timezone: str


class ProfileIn(Strict):
    name: str | None = Field(default=None, max_length=200)
    timezone: str | None = None

    _zone = field_validator("timezone")(check_zone)


class PersonalTokenIn(Strict):
    name: str = Field(min_length=1, max_length=100)


class PersonalTokenOut(BaseModel):
    model_config = ConfigDict(from_attributes=True)
    id: uuid.UUID
    name: str
    hint: str
    created_at: datetime
    last_used_at: datetime | None


class PersonalTokenCreated(PersonalTokenOut):
    token: str = Field(description="Shown once; only a digest is stored.")


class InvitationIn(Strict):
    email: EmailStr
    role: Role = Role.EDITOR


class InvitationOut(BaseModel):
    id: uuid.UUID
    email: str
    role: Role
    expires_at: datetime
    accept_token: str = Field(description="Give this to the invitee; shown once.")


class AcceptInvitationIn(Strict):
    token: str = Field(min_length=10, max_length=200)
    password: str = Field(min_length=MIN_PASSWORD, max_length=1024)
    name: str = Field(default="", max_length=200)
    timezone: str | None = None

    _zone = field_validator("timezone")(check_zone)


class MemberOut(BaseModel):
    id: uuid.UUID
    user: UserOut
    role: Role


class RoleIn(Strict):
    role: Role
