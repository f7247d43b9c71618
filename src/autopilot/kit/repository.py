"""Tenant-scoped repository base: every read filters on the caller's organization."""

from __future__ import annotations

import uuid
from collections.abc import Collection
from typing import Any, Generic, TypeVar

from sqlalchemy import Select, select
from sqlalchemy.ext.asyncio import AsyncSession

from autopilot.kit.errors import NotFound

M = TypeVar("M")


class TenantRepository(Generic[M]):
    """Queries for one model with an `org_id` column; another tenant's id reads as missing."""

    model: type[M]
    noun: str = "resource"

    def scoped(self, org_id: uuid.UUID) -> Select[M]:
        model: Any = self.model
        return select(self.model).where(model.org_id == org_id)

    async def find(self, session: AsyncSession, org_id: uuid.UUID, item_id: Any) -> M | None:
        model: Any = self.model
        found: M | None = await session.scalar(self.scoped(org_id).where(model.id == item_id))
        return found

    async def find_many(
        self, session: AsyncSession, keys: Collection[tuple[uuid.UUID, Any]]
    ) -> dict[tuple[uuid.UUID, Any], M]:
        """`find` for many (organization, id) pairs in one query (jobs of many tenants reading
        together): the rows found, by pair. A row is found only under its own organization."""
        if not keys:
            return {}
        model: Any = self.model
        orgs, ids = {org for org, _id in keys}, {item_id for _org, item_id in keys}
        rows = await session.scalars(select(self.model).where(model.org_id.in_(orgs), model.id.in_(ids)))
        found: dict[tuple[uuid.UUID, Any], M] = {(row.org_id, row.id): row for row in rows}  # type: ignore[attr-defined]
        return {key: found[key] for key in keys if key in found}

    async def get(self, session: AsyncSession, org_id: uuid.UUID, item_id: Any) -> M:
        """The row *item_id* of the organization, or NotFound (same answer for another tenant's id)."""
        found = await self.find(session, org_id, item_id)
        if found is None:
            raise NotFound(f"no {self.noun} with id {item_id}")
        return found
