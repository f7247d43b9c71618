"""Every accounts query; reads are scoped to an organization wherever the data belongs to one."""

from __future__ import annotations

import uuid
from datetime import datetime

from sqlalchemy import delete, func, select
from sqlalchemy.ext.asyncio import AsyncSession

from autopilot.accounts.models import ApiToken, Invitation, LoginFailure, Membership, Organization, Role, User
from autopilot.kit.repository import TenantRepository


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


class Tokens(TenantRepository[ApiToken]):
    model, noun = ApiToken, "token"

    async def by_digest(self, session: AsyncSession, digest: str) -> ApiToken | None:
        """Look a presented token up (not tenant-scoped: this is how the tenant is found)."""
        return await session.scalar(select(ApiToken).where(ApiToken.digest == digest))

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


class Organizations:
    async def get(self, session: AsyncSession, org_id: uuid.UUID) -> Organization:
        org = await session.get(Organization, org_id)
        assert org is not None, "a token or membership always points at an organization"
        return org


class LoginFailures:
    async def count_since(self, session: AsyncSession, keys: list[str], since: datetime) -> int:
        query = (
            select(LoginFailure.key, func.count())
            .where(LoginFailure.key.in_(keys), LoginFailure.at >= since)
            .group_by(LoginFailure.key)
        )
        return max((n for _key, n in (await session.execute(query)).all()), default=0)

    async def oldest_since(self, session: AsyncSession, keys: list[str], since: datetime) -> datetime | None:
        query = select(func.min(LoginFailure.at)).where(LoginFailure.key.in_(keys), LoginFailure.at >= since)
        return await session.scalar(query)

    async def record(self, session: AsyncSession, keys: list[str], at: datetime) -> None:
        session.add_all(LoginFailure(key=key, at=at) for key in keys)
        await session.flush()

    async def prune(self, session: AsyncSession, before: datetime) -> None:
        await session.execute(delete(LoginFailure).where(LoginFailure.at < before))


users, memberships, tokens, invitations, organizations, login_failures = (
    Users(),
    Memberships(),
    Tokens(),
    Invitations(),
    Organizations(),
    LoginFailures(),
)
