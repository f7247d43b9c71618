"""Account rules: sign-up, login with throttling, bearer tokens, profile, invitations, roles."""

from __future__ import annotations

import math
import uuid
from dataclasses import dataclass
from datetime import datetime, timedelta

from sqlalchemy.exc import IntegrityError
from sqlalchemy.ext.asyncio import AsyncSession

from autopilot.accounts.models import ApiToken, Invitation, Membership, Organization, Role, TokenKind, User
from autopilot.accounts.repository import (
    invitations,
    login_failures,
    memberships,
    organizations,
    tokens,
    users,
)
from autopilot.config import Settings
from autopilot.kit.crypto import hash_password, new_token, token_digest, verify_password
from autopilot.kit.errors import Conflict, Forbidden, NotFound, TooManyRequests, Unauthorized
from autopilot.kit.time import utcnow

SESSION_PREFIX, PERSONAL_PREFIX, INVITE_PREFIX = "ap_s_", "ap_pat_", "ap_inv_"
INVITATION_TTL = timedelta(days=7)
MANAGERS = {Role.OWNER, Role.ADMIN}
# A password hash to verify against when the e-mail is unknown, so timing does not reveal accounts.
_DUMMY_HASH = hash_password("not-a-real-password-at-all")


class LoginFailed(Unauthorized):
    keep_changes = True  # the failure record must survive the 401


@dataclass(frozen=True)
class Caller:
    """Who is asking, for which organization, with which role."""

    user: User
    org: Organization
    role: Role
    token_id: uuid.UUID

    @property
    def org_id(self) -> uuid.UUID:
        return self.org.id

    @property
    def is_manager(self) -> bool:
        """Owners and admins manage members and the organization's jobs."""
        return self.role in MANAGERS


@dataclass(frozen=True)
class IssuedToken:
    raw: str
    row: ApiToken


async def signup(
    session: AsyncSession,
    *,
    email: str,
    password: str,
    organization_name: str,
    name: str = "",
    timezone: str | None = None,
) -> tuple[User, Organization]:
    """Create a user, their organization and an owner membership."""
    if await users.by_email(session, email) is not None:
        raise Conflict(f"an account with the e-mail {email} already exists; log in instead")
    user = User(email=email.lower(), name=name, password_hash=hash_password(password), timezone=timezone or "UTC")
    org = Organization(name=organization_name)
    session.add_all([user, org])
    await _flush_unique(session, f"an account with the e-mail {email} already exists; log in instead")
    session.add(Membership(org_id=org.id, user_id=user.id, role=Role.OWNER))
    await session.flush()
    return user, org


async def _flush_unique(session: AsyncSession, message: str) -> None:
    try:
        await session.flush()
    except IntegrityError as exc:  # a concurrent sign-up with the same e-mail
        raise Conflict(message) from exc


def _throttle_keys(email: str, client: str) -> list[str]:
    return [f"email:{email.lower()}", f"client:{client}"]


async def login(
    session: AsyncSession,
    *,
    email: str,
    password: str,
    client: str,
    settings: Settings,
    organization_id: uuid.UUID | None = None,
) -> IssuedToken:
    """Check the password and issue a session token; too many failures for the e-mail or client → 429."""
    now = utcnow()
    keys = _throttle_keys(email, client)
    window_s = settings.login_window_s
    since = now - timedelta(seconds=window_s)
    if await login_failures.count_since(session, keys, since) >= settings.login_max_failures:
        oldest = await login_failures.oldest_since(session, keys, since) or now
        retry_after = max(1, math.ceil((oldest + timedelta(seconds=window_s) - now).total_seconds()))
        raise TooManyRequests(
            f"too many failed logins; try again in {retry_after} s", headers={"Retry-After": str(retry_after)}
        )
    user = await users.by_email(session, email)
    if not verify_password(user.password_hash if user else _DUMMY_HASH, password) or user is None:
        await login_failures.prune(session, before=since)
        await login_failures.record(session, keys, now)
        raise LoginFailed("wrong e-mail or password")
    member_of = await users.memberships_of(session, user.id)
    chosen = next((m for m in member_of if organization_id in (None, m.org_id)), None)
    if chosen is None:
        raise LoginFailed("this account is not a member of that organization")
    expires_at = now + timedelta(hours=settings.session_ttl_hours)
    return await _issue(session, chosen.org_id, user.id, TokenKind.SESSION, "login", expires_at)


async def _issue(
    session: AsyncSession,
    org_id: uuid.UUID,
    user_id: uuid.UUID,
    kind: TokenKind,
    name: str,
    expires_at: datetime | None,
) -> IssuedToken:
    raw = new_token(SESSION_PREFIX if kind is TokenKind.SESSION else PERSONAL_PREFIX)
    row = ApiToken(
        org_id=org_id,
        user_id=user_id,
        kind=kind,
        name=name,
        digest=token_digest(raw),
        hint=raw[-4:],
        expires_at=expires_at,
    )
    session.add(row)
    await session.flush()
    return IssuedToken(raw, row)


async def authenticate(session: AsyncSession, raw_token: str) -> Caller:
    """Resolve a bearer token to its caller, or 401 when it is unknown, revoked or expired."""
    row = await tokens.by_digest(session, token_digest(raw_token))
    now = utcnow()
    if row is None or row.revoked_at is not None or (row.expires_at is not None and row.expires_at <= now):
        raise Unauthorized(
            "the access token is missing, expired or revoked; log in again", headers={"WWW-Authenticate": "Bearer"}
        )
    membership = await memberships.of_user(session, row.org_id, row.user_id)
    if membership is None:
        raise Unauthorized("this token's user is no longer a member of the organization")
    user = await session.get(User, row.user_id)
    assert user is not None
    if row.last_used_at is None or now - row.last_used_at > timedelta(minutes=5):
        row.last_used_at = now  # coarse, so reads do not all become writes
    return Caller(user=user, org=await organizations.get(session, row.org_id), role=membership.role, token_id=row.id)


async def logout(session: AsyncSession, caller: Caller) -> None:
    """Revoke the token the caller used."""
    row = await tokens.get(session, caller.org_id, caller.token_id)
    row.revoked_at = utcnow()
    await session.flush()


async def update_profile(session: AsyncSession, caller: Caller, *, name: str | None, timezone: str | None) -> User:
    """Change the caller's display name and/or IANA time zone."""
    user = caller.user
    if name is not None:
        user.name = name
    if timezone is not None:
        user.timezone = timezone
    await session.flush()
    return user


async def create_personal_token(session: AsyncSession, caller: Caller, name: str) -> IssuedToken:
    """A long-lived token for scripts; only its digest is stored."""
    return await _issue(session, caller.org_id, caller.user.id, TokenKind.PERSONAL, name, None)


async def list_personal_tokens(session: AsyncSession, caller: Caller) -> list[ApiToken]:
    return await tokens.personal_of(session, caller.org_id, caller.user.id)


async def revoke_personal_token(session: AsyncSession, caller: Caller, token_id: uuid.UUID) -> None:
    """Revoke one of the caller's own tokens (another user's or tenant's id → 404)."""
    row = await tokens.get(session, caller.org_id, token_id)
    if row.user_id != caller.user.id and caller.role not in MANAGERS:
        raise NotFound(f"no token with id {token_id}")
    row.revoked_at = utcnow()
    await session.flush()


def _require_manager(caller: Caller) -> None:
    if caller.role not in MANAGERS:
        raise Forbidden("only an owner or admin can manage members")


async def invite(session: AsyncSession, caller: Caller, email: str, role: Role) -> tuple[Invitation, str]:
    """Invite someone to the caller's organization; returns the invitation and its one-time token."""
    _require_manager(caller)
    if role is Role.OWNER and caller.role is not Role.OWNER:
        raise Forbidden("only an owner can invite another owner")
    raw = new_token(INVITE_PREFIX)
    row = Invitation(
        org_id=caller.org_id,
        email=email.lower(),
        role=role,
        digest=token_digest(raw),
        invited_by=caller.user.id,
        expires_at=utcnow() + INVITATION_TTL,
    )
    session.add(row)
    await session.flush()
    return row, raw


async def accept_invitation(
    session: AsyncSession, *, token: str, password: str, name: str, timezone: str | None
) -> tuple[User, Organization]:
    """Join the inviting organization, creating the user if the e-mail is new."""
    row = await invitations.by_digest(session, token_digest(token))
    if row is None or row.accepted_at is not None or row.expires_at <= utcnow():
        raise NotFound("this invitation is unknown, used or expired")
    user = await users.by_email(session, row.email)
    if user is None:
        user = User(email=row.email, name=name, password_hash=hash_password(password), timezone=timezone or "UTC")
        session.add(user)
        await _flush_unique(session, "an account with this e-mail was just created; log in instead")
    elif not verify_password(user.password_hash, password):
        raise Unauthorized("this e-mail already has an account: give its password to accept")
    if await memberships.of_user(session, row.org_id, user.id) is None:
        session.add(Membership(org_id=row.org_id, user_id=user.id, role=row.role))
    row.accepted_at = utcnow()
    await session.flush()
    return user, await organizations.get(session, row.org_id)


async def owner_contacts(session: AsyncSession, org_id: uuid.UUID) -> list[tuple[uuid.UUID, str]]:
    """(user id, e-mail) of each owner of the organization, for alerts."""
    return [(owner.id, owner.email) for owner in await memberships.owners(session, org_id)]


async def list_members(session: AsyncSession, caller: Caller) -> list[tuple[Membership, User]]:
    return await memberships.listing(session, caller.org_id)


async def change_role(session: AsyncSession, caller: Caller, membership_id: uuid.UUID, role: Role) -> Membership:
    """Owners and admins change roles; the last owner cannot be demoted."""
    member = await memberships.get(session, caller.org_id, membership_id)
    _require_manager(caller)
    if Role.OWNER in (role, member.role) and caller.role is not Role.OWNER:
        raise Forbidden("only an owner can grant or take the owner role")
    if member.role is Role.OWNER and role is not Role.OWNER:
        await _keep_an_owner(session, caller.org_id)
    member.role = role
    await session.flush()
    return member


async def remove_member(session: AsyncSession, caller: Caller, membership_id: uuid.UUID) -> None:
    member = await memberships.get(session, caller.org_id, membership_id)
    _require_manager(caller)
    if member.role is Role.OWNER:
        if caller.role is not Role.OWNER:
            raise Forbidden("only an owner can remove an owner")
        await _keep_an_owner(session, caller.org_id)
    await session.delete(member)
    await session.flush()


async def _keep_an_owner(session: AsyncSession, org_id: uuid.UUID) -> None:
    if len(await memberships.owners(session, org_id)) <= 1:
        raise Conflict("an organization needs at least one owner")
