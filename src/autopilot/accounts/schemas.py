from __future__ import annotations

import uuid
from datetime import datetime
from typing import Annotated

from pydantic import BaseModel, ConfigDict, EmailStr, Field, StringConstraints, ValidationInfo, field_validator

from autopilot.accounts.models import Role
from autopilot.accounts.passwords import MAX_PASSWORD, MIN_PASSWORD, password_problem
from autopilot.kit.inputs import Input
from autopilot.kit.time import is_iana_zone

# A password is kept exactly as typed: never whitespace-stripped, whatever the model's config says.
Password = Annotated[str, StringConstraints(strip_whitespace=False, min_length=MIN_PASSWORD, max_length=MAX_PASSWORD)]
GivenPassword = Annotated[str, StringConstraints(strip_whitespace=False, min_length=1, max_length=MAX_PASSWORD)]


def check_zone(value: str | None) -> str | None:
    if value is not None and not is_iana_zone(value):
        raise ValueError(f"{value!r} is not an IANA time zone (for example Europe/Paris or America/New_York)")
    return value


def check_new_password(password: str, info: ValidationInfo) -> str:
    """Refuse a common or guessable new password, judged with what the form says about its owner."""
    known = info.data  # the fields declared before the password, when they were valid
    problem = password_problem(
        password,
        email=str(known.get("email") or ""),
        name=str(known.get("name") or ""),
        organization=str(known.get("organization_name") or ""),
    )
    if problem is not None:
        raise ValueError(problem)
    return password


class Strict(Input):  # unknown fields and NUL characters refused (kit.inputs)
    model_config = ConfigDict(extra="forbid", str_strip_whitespace=True)


class SignupIn(Strict):
    email: EmailStr
    organization_name: str = Field(min_length=1, max_length=200)
    name: str = Field(default="", max_length=200)
    timezone: str | None = None
    password: Password  # last, so that its check sees the e-mail, name and organization

    _zone = field_validator("timezone")(check_zone)
    _password = field_validator("password")(check_new_password)


class LoginIn(Strict):
    email: EmailStr
    password: GivenPassword
    organization_id: uuid.UUID | None = None


class SignupAccepted(BaseModel):
    detail: str = Field(description="Said whether or not the e-mail already had an account.")


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
    operator: bool = Field(default=False, description="May see infrastructure details (set with `autopilot operator`).")


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
    name: str = Field(default="", max_length=200)
    timezone: str | None = None
    # An existing account accepts with its own password (judged when it was set); a new account's
    # password is checked by the service, which knows the invited e-mail.
    password: GivenPassword

    _zone = field_validator("timezone")(check_zone)


class MemberOut(BaseModel):
    id: uuid.UUID
    user: UserOut
    role: Role


class RoleIn(Strict):
    role: Role
