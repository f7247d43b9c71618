"""Account rules: sign-up, login with throttling, bearer tokens, profile, invitations, roles."""

from __future__ import annotations

import math
import uuid
from collections.abc import Collection
from dataclasses import dataclass
from datetime import datetime, timedelta

from sqlalchemy import select, update
from sqlalchemy.exc import IntegrityError
from sqlalchemy.ext.asyncio import AsyncSession

from autopilot.accounts.models import ApiToken, Invitation, Membership, Organization, Role, TokenKind, User
from autopilot.accounts.passwords import check_password
from autopilot.accounts.repository import (
    invitations,
    login_throttles,
    memberships,
    organizations,
    tokens,
    users,
)
from autopilot.config import Settings
from autopilot.kit.crypto import hash_password, hash_password_now, new_token, token_digest, verify_password
from autopilot.kit.db import write_beside
from autopilot.kit.deps import Transactions
from autopilot.kit.errors import Conflict, Forbidden, NotFound, TooManyRequests, Unauthorized
from autopilot.kit.time import utcnow
from autopilot.notifications.email import queue_email

SESSION_PREFIX, PERSONAL_PREFIX, WEB_PREFIX, INVITE_PREFIX = "ap_s_", "ap_pat_", "ap_w_", "ap_inv_"
PREFIXES = {TokenKind.SESSION: SESSION_PREFIX, TokenKind.PERSONAL: PERSONAL_PREFIX, TokenKind.WEB: WEB_PREFIX}
API_TOKENS = (TokenKind.SESSION, TokenKind.PERSONAL)  # what the API accepts; web tokens stay in cookies
WEB_TOKENS = (TokenKind.WEB,)
INVITATION_TTL = timedelta(days=7)
MANAGERS = {Role.OWNER, Role.ADMIN}
# A password hash to verify against when the e-mail is unknown, so timing does not reveal accounts.
_DUMMY_HASH = hash_password_now("not-a-real-password-at-all")
SIGNUP_ANSWER = (
    "If this e-mail is new, the account is ready: log in. If it already has an account, we have "
    "e-mailed its owner instead."
)


class LoginFailed(Unauthorized):
    """Wrong e-mail or password (the attempt was already counted before the check)."""


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

    @property
    def is_operator(self) -> bool:
        """Operators of the installation see infrastructure details (set from the CLI)."""
        return self.user.is_operator


@dataclass(frozen=True)
class IssuedToken:
    raw: str
    row: ApiToken


async def signup(
    tx: Transactions,
    settings: Settings,
    *,
    email: str,
    password: str,
    organization_name: str,
    name: str = "",
    timezone: str | None = None,
) -> tuple[User, Organization] | None:
    """Create a user, their organization and an owner membership. When the e-mail already has an
    account, nothing is created (None) and its owner is told by e-mail, so that the answer to the
    person signing up does not reveal which e-mails have accounts."""
    password_hash = await hash_password(password)  # before any transaction: no lock held while hashing
    async with tx.write() as session:
        existing = await users.by_email(session, email)
        if existing is None:
            user = User(email=email.lower(), name=name, password_hash=password_hash, timezone=timezone or "UTC")
            org = Organization(name=organization_name)
            try:
                async with session.begin_nested():  # a concurrent sign-up with the same e-mail
                    session.add_all([user, org])
                    await session.flush()
            except IntegrityError:
                existing = await users.by_email(session, email)
            else:
                session.add(Membership(org_id=org.id, user_id=user.id, role=Role.OWNER))
                await session.flush()
                return user, org
        if existing is not None and settings.smtp_host:
            await _tell_owner_of_signup(session, existing)
    return None


async def _tell_owner_of_signup(session: AsyncSession, user: User) -> None:
    hour = utcnow().strftime("%Y%m%d%H")  # at most one such e-mail an hour
    await queue_email(
        session,
        org_id=None,
        to=user.email,
        subject="Someone tried to create an AutoPilot account with your e-mail",
        body="Someone (perhaps you) tried to sign up with this e-mail address, which already has an "
        "account. Nothing was changed. If it was you, log in instead; if not, you can ignore this.",
        dedupe_key=f"signup-attempt:{user.id}:{hour}",
    )


async def login(
    tx: Transactions,
    *,
    email: str,
    password: str,
    client: str,
    settings: Settings,
    organization_id: uuid.UUID | None = None,
    kind: TokenKind = TokenKind.SESSION,
) -> IssuedToken:
    """Check the password and issue a token. Each attempt first spends from the account's budget
    (and the client address's larger one), atomically, so no crowd can check more passwords than
    the budget; a correct password gives the attempt back. Over budget → 429."""
    now = utcnow()
    window = timedelta(seconds=settings.login_window_s)
    account_key, address_key = f"account:{email.lower()}", f"address:{client}"
    budgets = {account_key: settings.login_max_failures, address_key: settings.login_max_failures_per_address}
    async with tx.write() as session:
        spent = await login_throttles.spend(session, budgets, now=now, window=window)
        user = None if spent.over_budget else await users.by_email(session, email)
    if spent.over_budget:
        retry_after = max(1, math.ceil(((spent.retry_after or now) - now).total_seconds()))
        raise TooManyRequests(
            f"too many failed logins; try again in {retry_after} s", headers={"Retry-After": str(retry_after)}
        )
    # No transaction is open while the hash is checked (off the event loop).
    if not await verify_password(user.password_hash if user else _DUMMY_HASH, password) or user is None:
        raise LoginFailed("wrong e-mail or password")
    async with tx.write() as session:
        await login_throttles.refund(session, reset=account_key, give_back=address_key)
        await login_throttles.prune(session, before=now - window)
        member_of = await users.memberships_of(session, user.id)
        chosen = next((m for m in member_of if organization_id in (None, m.org_id)), None)
        if chosen is None:
            raise LoginFailed("this account is not a member of that organization")
        expires_at = now + timedelta(hours=settings.session_ttl_hours)
        name = "web session" if kind is TokenKind.WEB else "login"
        return await _issue(session, chosen.org_id, user.id, kind, name, expires_at)


async def _issue(
    session: AsyncSession,
    org_id: uuid.UUID,
    user_id: uuid.UUID,
    kind: TokenKind,
    name: str,
    expires_at: datetime | None,
) -> IssuedToken:
    raw = new_token(PREFIXES[kind])
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


async def authenticate(session: AsyncSession, raw_token: str, kinds: Collection[TokenKind] = API_TOKENS) -> Caller:
    """Resolve a token of one of *kinds* to its caller, or 401 when it is unknown, of another
    kind (a web cookie's token is no API credential), revoked or expired."""
    found = await tokens.resolve(session, token_digest(raw_token))  # one query: token, role, user, org
    now = utcnow()
    if found is None or not _usable(found.token, kinds, now):
        raise Unauthorized(
            "the access token is missing, expired or revoked; log in again", headers={"WWW-Authenticate": "Bearer"}
        )
    row = found.token
    if found.role is None:
        raise Unauthorized("this token's user is no longer a member of the organization")
    if row.last_used_at is None or now - row.last_used_at > timedelta(minutes=5):
        # Coarse, so reads do not all become writes; beside a read-only request, in its own write.
        await write_beside(session, update(ApiToken).where(ApiToken.id == row.id).values(last_used_at=now))
    return Caller(user=found.user, org=found.org, role=found.role, token_id=row.id)


def _usable(token: ApiToken, kinds: Collection[TokenKind], now: datetime) -> bool:
    return token.kind in kinds and token.revoked_at is None and (token.expires_at is None or token.expires_at > now)


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
    tx: Transactions, *, token: str, password: str, name: str, timezone: str | None
) -> Organization:
    """Join the inviting organization, creating the user if the e-mail is new. The invitation is
    used exactly once, by a guarded update: of concurrent accepts, one joins and the others get 409."""
    digest = token_digest(token)
    async with tx.read() as session:
        seen = await invitations.by_digest(session, digest)
        if seen is None or seen.accepted_at is not None or seen.expires_at <= utcnow():
            raise NotFound("this invitation is unknown, used or expired")
        existing = await users.by_email(session, seen.email)
        existing_hash = existing.password_hash if existing else None
    # Hash or verify with no transaction open.
    if existing_hash is not None:
        if not await verify_password(existing_hash, password):
            raise Unauthorized("this e-mail already has an account: give its password to accept")
        new_hash = None
    else:
        check_password(password, email=seen.email, name=name)
        new_hash = await hash_password(password)
    async with tx.write() as session:
        row = await invitations.claim(session, digest, utcnow())
        if row is None:
            raise Conflict("this invitation has just been used or has expired; ask for a new one")
        user = await users.by_email(session, row.email)
        if (user is None) != (new_hash is not None):
            raise Conflict("an account with this e-mail was created meanwhile; log in and ask for a new invitation")
        if user is None:
            assert new_hash is not None
            user = User(email=row.email, name=name, password_hash=new_hash, timezone=timezone or "UTC")
            try:
                async with session.begin_nested():
                    session.add(user)
                    await session.flush()
            except IntegrityError as exc:
                raise Conflict("an account with this e-mail was created meanwhile; log in instead") from exc
        await memberships.add(session, row.org_id, user.id, row.role)
        return await organizations.get(session, row.org_id)


async def set_operator(session: AsyncSession, email: str, *, operator: bool) -> User:
    """Grant or revoke the operator flag (infrastructure details, metrics across tenants) of the
    user with *email*; given from the command line, never through the API. 404 when there is none."""
    user = await users.by_email(session, email.strip())
    if user is None:
        raise NotFound(f"no user with the e-mail {email.strip()}; create the account first (autopilot create-user)")
    user.is_operator = operator
    await session.flush()
    return user


ACTING_LATER = uuid.UUID(int=0)  # the token id of a Caller built for a job: no token was presented


async def acting_for(session: AsyncSession, org_id: uuid.UUID, user_id: uuid.UUID | None) -> Caller | None:
    """The caller for work a member asked to have done later in their name (a weekly job applying
    what they switched on), with their role as it is now; None when they are no longer a member."""
    if user_id is None:
        return None
    membership = await memberships.of_user(session, org_id, user_id)
    user = await session.get(User, user_id)
    if membership is None or user is None:
        return None
    org = await organizations.get(session, org_id)
    return Caller(user=user, org=org, role=Role(membership.role), token_id=ACTING_LATER)


async def owner_contacts(session: AsyncSession, org_id: uuid.UUID) -> list[tuple[uuid.UUID, str]]:
    """(user id, e-mail) of each owner of the organization, for alerts."""
    return [(owner.id, owner.email) for owner in await memberships.owners(session, org_id)]


@dataclass(frozen=True)
class Contact:
    """How to reach a member: for notifications (e-mail, and the zone their quiet hours are in)."""

    user_id: uuid.UUID
    email: str
    timezone: str


APPROVER_ROLES = frozenset({Role.OWNER, Role.ADMIN, Role.APPROVER})  # who may approve content
OWNER_ROLES = frozenset({Role.OWNER})  # who hears of trouble (alerts)


async def member_contacts(
    session: AsyncSession,
    org_id: uuid.UUID,
    *,
    roles: Collection[Role] | None = None,
    user_ids: Collection[uuid.UUID] | None = None,
) -> list[Contact]:
    """The organization's members (only those with one of *roles*, or among *user_ids*, when given);
    a user id of someone outside the organization is left out."""
    found = await memberships.members(session, org_id, roles=roles, user_ids=user_ids)
    return [Contact(user.id, user.email, user.timezone or "UTC") for user in found]


async def timezone_of(session: AsyncSession, user_id: uuid.UUID | None) -> str:
    """The IANA zone a user chose (UTC for an unknown user)."""
    zone = await session.scalar(select(User.timezone).where(User.id == user_id)) if user_id else None
    return zone or "UTC"


async def list_members(session: AsyncSession, caller: Caller) -> list[tuple[Membership, User]]:
    return await memberships.listing(session, caller.org_id)


async def _locked_role(session: AsyncSession, caller: Caller) -> Role:
    """Lock the organization for this transaction and read the caller's role as it is now (a
    concurrent change may have taken it since the request was authenticated)."""
    await organizations.lock(session, caller.org_id)
    mine = await memberships.of_user(session, caller.org_id, caller.user.id)
    if mine is None:
        raise Forbidden("you are no longer a member of this organization")
    await session.refresh(mine)
    return mine.role


async def change_role(session: AsyncSession, caller: Caller, membership_id: uuid.UUID, role: Role) -> Membership:
    """Owners and admins change roles; the last owner cannot be demoted, even by two at once."""
    member = await memberships.get(session, caller.org_id, membership_id)
    _require_manager(caller)
    caller_role = await _locked_role(session, caller)
    await session.refresh(member)
    if caller_role not in MANAGERS:
        raise Forbidden("only an owner or admin can manage members")
    if Role.OWNER in (role, member.role) and caller_role is not Role.OWNER:
        raise Forbidden("only an owner can grant or take the owner role")
    if member.role is Role.OWNER and role is not Role.OWNER:
        await _keep_an_owner(session, caller.org_id)
    member.role = role
    await session.flush()
    return member


async def remove_member(session: AsyncSession, caller: Caller, membership_id: uuid.UUID) -> None:
    """Owners and admins remove members; the last owner stays."""
    member = await memberships.get(session, caller.org_id, membership_id)
    _require_manager(caller)
    caller_role = await _locked_role(session, caller)
    await session.refresh(member)
    if caller_role not in MANAGERS:
        raise Forbidden("only an owner or admin can manage members")
    if member.role is Role.OWNER:
        if caller_role is not Role.OWNER:
            raise Forbidden("only an owner can remove an owner")
        await _keep_an_owner(session, caller.org_id)
    await session.delete(member)
    await session.flush()


async def _keep_an_owner(session: AsyncSession, org_id: uuid.UUID) -> None:
    if len(await memberships.owners(session, org_id)) <= 1:
        raise Conflict("an organization needs at least one owner")
