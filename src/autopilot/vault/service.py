"""Store and read secrets through the key ring; rotate every stored secret to the newest key."""

from __future__ import annotations

import uuid
from collections.abc import Callable, Collection

from sqlalchemy import delete, func, select
from sqlalchemy.ext.asyncio import AsyncSession

from autopilot.kit.crypto import KeyRing
from autopilot.kit.errors import NotFound
from autopilot.vault.models import StoredSecret


async def put_secret(session: AsyncSession, ring: KeyRing, org_id: uuid.UUID, name: str, value: str) -> None:
    """Create or replace the secret *name* of the organization, encrypted with the newest key."""
    row = await session.scalar(select(StoredSecret).where(StoredSecret.org_id == org_id, StoredSecret.name == name))
    if row is None:
        session.add(StoredSecret(org_id=org_id, name=name, ciphertext=ring.encrypt(value)))
    else:
        row.ciphertext = ring.encrypt(value)
    await session.flush()


async def get_secret(session: AsyncSession, ring: KeyRing, org_id: uuid.UUID, name: str) -> str:
    """The plaintext of the organization's secret *name*; 404 when it has none of that name."""
    ciphertext = await session.scalar(
        select(StoredSecret.ciphertext).where(StoredSecret.org_id == org_id, StoredSecret.name == name)
    )
    if ciphertext is None:
        raise NotFound(f"no secret named {name!r}")
    return ring.decrypt(ciphertext)


async def count_secrets(session: AsyncSession) -> int:
    return int(await session.scalar(select(func.count()).select_from(StoredSecret)) or 0)


async def rotate_all(
    session: AsyncSession, ring: KeyRing, *, batch: int = 500, progress: Callable[[int], None] | None = None
) -> int:
    """Re-encrypt every stored secret (all organizations) with the newest key; returns how many."""
    done = 0
    last_id: uuid.UUID | None = None
    while True:
        query = select(StoredSecret).order_by(StoredSecret.id).limit(batch)
        if last_id is not None:
            query = query.where(StoredSecret.id > last_id)
        rows = list(await session.scalars(query))
        if not rows:
            return done
        for row in rows:
            row.ciphertext = ring.rotate(row.ciphertext)
        await session.flush()
        done += len(rows)
        last_id = rows[-1].id
        if progress:
            progress(len(rows))


async def delete_secrets(session: AsyncSession, org_id: uuid.UUID, names: list[str]) -> None:
    """Forget the organization's secrets of these names (absent ones are ignored)."""
    await session.execute(delete(StoredSecret).where(StoredSecret.org_id == org_id, StoredSecret.name.in_(names)))


async def find_secret(session: AsyncSession, ring: KeyRing, org_id: uuid.UUID, name: str) -> str | None:
    """The plaintext of the secret *name*, or None when there is none."""
    return (await find_secrets(session, ring, [(org_id, name)])).get((org_id, name))


async def find_secrets(
    session: AsyncSession, ring: KeyRing, keys: Collection[tuple[uuid.UUID, str]]
) -> dict[tuple[uuid.UUID, str], str]:
    """The plaintexts of many (organization, name) secrets, in one query; a missing one is absent."""
    if not keys:
        return {}
    orgs, names = {org for org, _name in keys}, {name for _org, name in keys}
    rows = await session.execute(
        select(StoredSecret.org_id, StoredSecret.name, StoredSecret.ciphertext).where(
            StoredSecret.org_id.in_(orgs), StoredSecret.name.in_(names)
        )
    )
    wanted = set(keys)
    return {(org, name): ring.decrypt(ciphertext) for org, name, ciphertext in rows if (org, name) in wanted}
