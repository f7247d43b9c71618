"""The application server's VAPID key pair (RFC 8292): from AUTOPILOT_VAPID_PRIVATE_KEY, or generated
once and kept encrypted in the database so every process (web, workers) signs with the same key.
The private key never leaves this module in clear except to sign, and is never logged."""

from __future__ import annotations

import base64
from dataclasses import dataclass, field

from cryptography.hazmat.primitives import serialization
from cryptography.hazmat.primitives.asymmetric import ec
from py_vapid import Vapid02
from sqlalchemy import select
from sqlalchemy.ext.asyncio import AsyncSession, async_sessionmaker

from autopilot.config import ConfigError, Settings
from autopilot.kit.crypto import KeyRing
from autopilot.kit.db import upsert_insert
from autopilot.kit.time import utcnow
from autopilot.notifications.models import VapidKey

ROW_ID = 1


def b64url(data: bytes) -> str:
    return base64.urlsafe_b64encode(data).rstrip(b"=").decode()


def unb64url(text: str) -> bytes:
    """Decode base64url with or without padding; ValueError when it is not base64url."""
    cleaned = text.strip()
    if not cleaned or any(c not in _ALPHABET for c in cleaned.rstrip("=")):
        raise ValueError("not base64url")
    return base64.urlsafe_b64decode(cleaned.rstrip("=") + "=" * (-len(cleaned.rstrip("=")) % 4))


_ALPHABET = frozenset("ABCDEFGHIJKLMNOPQRSTUVWXYZabcdefghijklmnopqrstuvwxyz0123456789-_")


@dataclass(frozen=True)
class ServerKey:
    """The key pair, ready to sign (`signer`) and to hand to browsers (`public_key`)."""

    private: ec.EllipticCurvePrivateKey = field(repr=False)

    @property
    def public_key(self) -> str:
        """The applicationServerKey: base64url of the uncompressed P-256 point (65 bytes)."""
        point = self.private.public_key().public_bytes(
            serialization.Encoding.X962, serialization.PublicFormat.UncompressedPoint
        )
        return b64url(point)

    @property
    def raw_private(self) -> str:
        return b64url(self.private.private_numbers().private_value.to_bytes(32, "big"))

    @property
    def signer(self) -> Vapid02:
        return Vapid02(self.private)

    @classmethod
    def parse(cls, value: str) -> ServerKey:
        """A key from PEM, or from base64url of the raw 32-byte private number."""
        text = value.strip()
        try:
            if text.startswith("-----BEGIN"):
                key = serialization.load_pem_private_key(text.encode(), password=None)
            else:
                raw = unb64url(text)
                if len(raw) != 32:
                    raise ValueError("a raw P-256 private key is 32 bytes")
                key = ec.derive_private_key(int.from_bytes(raw, "big"), ec.SECP256R1())
        except ValueError as exc:
            raise ConfigError(
                "AUTOPILOT_VAPID_PRIVATE_KEY is not a P-256 private key (PEM, or base64url of the raw 32 bytes)"
            ) from exc
        if not isinstance(key, ec.EllipticCurvePrivateKey) or not isinstance(key.curve, ec.SECP256R1):
            raise ConfigError("AUTOPILOT_VAPID_PRIVATE_KEY must be a P-256 (prime256v1) key, as VAPID requires")
        return cls(key)

    @classmethod
    def generate(cls) -> ServerKey:
        return cls(ec.generate_private_key(ec.SECP256R1()))


async def server_key(sessions: async_sessionmaker[AsyncSession], settings: Settings, ring: KeyRing) -> ServerKey:
    """The installation's key pair. Without a configured key, the stored one; the first caller
    stores a new one in its own short transaction (insert-or-skip: concurrent first callers, in
    any process, all end up with the row that won). Call it while holding no write transaction:
    on SQLite that one would hold the write lock this needs."""
    if settings.vapid_private_key:
        return ServerKey.parse(settings.vapid_private_key)
    async with sessions() as session:
        stored = await session.scalar(select(VapidKey.private_key).where(VapidKey.id == ROW_ID))
    if stored is None:
        fresh = ServerKey.generate()
        async with sessions() as session, session.begin():
            insert = upsert_insert(session, VapidKey).values(
                id=ROW_ID,
                private_key=ring.encrypt(fresh.raw_private),
                public_key=fresh.public_key,
                created_at=utcnow(),
            )
            await session.execute(insert.on_conflict_do_nothing(index_elements=["id"]))
            stored = await session.scalar(select(VapidKey.private_key).where(VapidKey.id == ROW_ID))
        assert stored is not None
    return ServerKey.parse(ring.decrypt(stored))


async def rotate(session: AsyncSession, ring: KeyRing) -> int:
    """Re-encrypt the stored private key with the newest key of the ring (`autopilot rotate-keys`)."""
    row = await session.scalar(select(VapidKey).where(VapidKey.id == ROW_ID))
    if row is None:
        return 0
    row.private_key = ring.rotate(row.private_key)
    await session.flush()
    return 1
