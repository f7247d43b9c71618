"""Every accounts query; reads are scoped to an organization wherever the data belongs to one."""

from __future__ import annotations

import uuid
from collections.abc import Collection
from dataclasses import dataclass
from datetime import datetime, timedelta

from sqlalchemy import and_, case, delete, func, select, update
from sqlalchemy.ext.asyncio import AsyncSession

from autopilot.accounts.models import ApiToken, Invitation, LoginThrottle, Membership, Organization, Role, User
from autopilot.kit.db import upsert_insert
from autopilot.kit.repository import TenantRepository
from autopilot.kit.time import utcnow


class Users:
    async def by_email(self, session: AsyncSession, email: str) -> User | None:
        return await session.scalar(select(User).where(func.lower(User.email) == email.lower()))

    async def memberships_of(self, session: AsyncSession, user_id: uuid.UUID) -> list[Membership]:
        query = select(Membership).where(Membership.user_id == user_id).order_by(Membership.created_at)
        return list(await session.scalars(query))


class Memberships(TenantRepository[Membership]):
    model, noun = Membership, "member"

    async def of_user(self, session: AsyncSession, org_id: uuid.UUID, user_id: uuid.UUID) -> Membership | None:
        found: Membership | None = await session.scalar(self.scoped(org_id).where(Membership.user_id == user_id))
        return found

    async def add(self, session: AsyncSession, org_id: uuid.UUID, user_id: uuid.UUID, role: Role) -> None:
        """Make the user a member with *role*, unless they already are (then nothing changes)."""
        stmt = upsert_insert(session, Membership).values(
            id=uuid.uuid4(), org_id=org_id, user_id=user_id, role=role, created_at=utcnow(), updated_at=utcnow()
        )
        await session.execute(stmt.on_conflict_do_nothing(index_elements=[Membership.org_id, Membership.user_id]))

    async def listing(self, session: AsyncSession, org_id: uuid.UUID) -> list[tuple[Membership, User]]:
        query = (
            select(Membership, User)
            .join(User, User.id == Membership.user_id)
            .where(Membership.org_id == org_id)
            .order_by(Membership.created_at)
        )
        return [(m, u) for m, u in (await session.execute(query)).all()]

    async def owners(self, session: AsyncSession, org_id: uuid.UUID) -> list[User]:
        query = (
            select(User)
            .join(Membership, Membership.user_id == User.id)
            .where(Membership.org_id == org_id, Membership.role == Role.OWNER)
        )
        return list(await session.scalars(query))

    async def members(
        self,
        session: AsyncSession,
        org_id: uuid.UUID,
        roles: Collection[Role] | None = None,
        user_ids: Collection[uuid.UUID] | None = None,
    ) -> list[User]:
        """The organization's members, optionally only those with one of *roles* or among *user_ids*."""
        query = select(User).join(Membership, Membership.user_id == User.id).where(Membership.org_id == org_id)
        if roles is not None:
            query = query.where(Membership.role.in_(list(roles)))
        if user_ids is not None:
            query = query.where(User.id.in_(list(user_ids)))
        return list(await session.scalars(query.order_by(User.id)))


@dataclass(frozen=True)
class ResolvedToken:
    token: ApiToken
    role: Role | None  # None: the user is no longer a member of the token's organization
    user: User
    org: Organization


class Tokens(TenantRepository[ApiToken]):
    model, noun = ApiToken, "token"

    async def resolve(self, session: AsyncSession, digest: str) -> ResolvedToken | None:
        """A presented token with its user, organization and the user's role there, in one query
        (not tenant-scoped: this is how the tenant is found)."""
        membership = and_(Membership.org_id == ApiToken.org_id, Membership.user_id == ApiToken.user_id)
        query = (
            select(ApiToken, Membership.role, User, Organization)
            .join(User, User.id == ApiToken.user_id)
            .join(Organization, Organization.id == ApiToken.org_id)
            .outerjoin(Membership, membership)
            .where(ApiToken.digest == digest)
        )
        row = (await session.execute(query)).first()
        return None if row is None else ResolvedToken(*row)

    async def personal_of(self, session: AsyncSession, org_id: uuid.UUID, user_id: uuid.UUID) -> list[ApiToken]:
        query = (
            self.scoped(org_id)
            .where(ApiToken.user_id == user_id, ApiToken.kind == "personal", ApiToken.revoked_at.is_(None))
            .order_by(ApiToken.created_at)
        )
        return list(await session.scalars(query))


class Invitations(TenantRepository[Invitation]):
    model, noun = Invitation, "invitation"

    async def by_digest(self, session: AsyncSession, digest: str) -> Invitation | None:
        return await session.scalar(select(Invitation).where(Invitation.digest == digest))

    async def claim(self, session: AsyncSession, digest: str, now: datetime) -> Invitation | None:
        """Mark the invitation used, if it is still unused and valid: a guarded update, so of
        concurrent accepts exactly one gets the row back."""
        stmt = (
            update(Invitation)
            .where(Invitation.digest == digest, Invitation.accepted_at.is_(None), Invitation.expires_at > now)
            .values(accepted_at=now, updated_at=now)
            .returning(Invitation)
            .execution_options(synchronize_session=False)
        )
        return (await session.scalars(stmt)).one_or_none()


class Organizations:
    async def get(self, session: AsyncSession, org_id: uuid.UUID) -> Organization:
        org = await session.get(Organization, org_id)
        assert org is not None, "a token or membership always points at an organization"
        return org

    async def lock(self, session: AsyncSession, org_id: uuid.UUID) -> None:
        """Hold the organization's row until the transaction ends, so rules over its members
        (there is always an owner) are checked and changed by one transaction at a time.
        PostgreSQL: SELECT … FOR UPDATE; SQLite: the write lock its transactions take at BEGIN."""
        await session.execute(select(Organization.id).where(Organization.id == org_id).with_for_update())


@dataclass(frozen=True)
class Spent:
    """What one login attempt spent: the attempts now counted per key, and when each window ends."""

    over_budget: bool
    retry_after: datetime | None


class LoginThrottles:
    async def spend(self, session: AsyncSession, budgets: dict[str, int], *, now: datetime, window: timedelta) -> Spent:
        """Count one attempt against each key's budget, atomically (an upsert returning the new
        count), and say whether any key is now over its budget and until when."""
        since = now - window
        over: list[datetime] = []
        for key, budget in budgets.items():
            stale = LoginThrottle.window_start < since
            stmt = (
                upsert_insert(session, LoginThrottle)
                .values(key=key, window_start=now, attempts=1)
                .on_conflict_do_update(
                    index_elements=[LoginThrottle.key],
                    set_={
                        "attempts": case((stale, 1), else_=LoginThrottle.attempts + 1),
                        "window_start": case((stale, now), else_=LoginThrottle.window_start),
                    },
                )
                .returning(LoginThrottle.attempts, LoginThrottle.window_start)
            )
            attempts, window_start = (await session.execute(stmt)).one()
            if attempts > budget:
                over.append(window_start + window)
        return Spent(bool(over), max(over) if over else None)

    async def refund(self, session: AsyncSession, *, reset: str, give_back: str) -> None:
        """A correct password: the account's count starts over, the address gets its attempt back."""
        await session.execute(delete(LoginThrottle).where(LoginThrottle.key == reset))
        await session.execute(
            update(LoginThrottle)
            .where(LoginThrottle.key == give_back, LoginThrottle.attempts > 0)
            .values(attempts=LoginThrottle.attempts - 1)
        )

    async def prune(self, session: AsyncSession, before: datetime) -> None:
        await session.execute(delete(LoginThrottle).where(LoginThrottle.window_start < before))


users, memberships, tokens, invitations, organizations, login_throttles = (
    Users(),
    Memberships(),
    Tokens(),
    Invitations(),
    Organizations(),
    LoginThrottles(),
)
