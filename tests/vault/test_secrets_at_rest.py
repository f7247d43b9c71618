"""Secrets are encrypted at rest; rotating the key ring keeps them readable with only the new key."""

from __future__ import annotations

import os
import subprocess
import sys
import uuid
from pathlib import Path

import pytest
from cryptography.fernet import Fernet
from sqlalchemy import text
from sqlalchemy.ext.asyncio import AsyncSession, async_sessionmaker

from autopilot.accounts.models import Organization
from autopilot.config import ConfigError, Settings
from autopilot.kit.crypto import KeyRing
from autopilot.vault import service as vault

PLAINTEXT = "linkedin-access-token-5f2e9c7a-very-secret"


async def store_one(sessions: async_sessionmaker[AsyncSession], ring: KeyRing) -> uuid.UUID:
    async with sessions() as session, session.begin():
        org = Organization(name="Vault Co")
        session.add(org)
        await session.flush()
        await vault.put_secret(session, ring, org.id, "linkedin", PLAINTEXT)
    return org.id


async def test_the_database_never_holds_the_plaintext(
    settings: Settings, sessions: async_sessionmaker[AsyncSession]
) -> None:
    ring = KeyRing(settings.encryption_keys)
    org_id = await store_one(sessions, ring)
    async with sessions() as session:
        assert await vault.get_secret(session, ring, org_id, "linkedin") == PLAINTEXT
        stored = await session.scalar(text("SELECT ciphertext FROM stored_secrets"))
    assert PLAINTEXT not in stored
    if settings.is_sqlite:
        db_file = Path(settings.sqlalchemy_url.split("///", 1)[1])
        files = list(db_file.parent.glob(db_file.name + "*"))  # the database and its WAL
        assert db_file in files
        for path in files:
            assert PLAINTEXT.encode() not in path.read_bytes(), path.name


async def test_rotate_keys_lets_the_old_key_be_removed(
    settings: Settings, sessions: async_sessionmaker[AsyncSession]
) -> None:
    old, new = settings.encryption_keys, Fernet.generate_key().decode()
    org_id = await store_one(sessions, KeyRing(old))
    env = {
        **os.environ,
        "AUTOPILOT_DATABASE_URL": settings.sqlalchemy_url,
        "AUTOPILOT_ENCRYPTION_KEYS": f"{new},{old}",
        "AUTOPILOT_DATA_DIR": str(settings.data_dir),
        "AUTOPILOT_SECRET_KEY": settings.secret_key,
    }
    done = subprocess.run(
        [sys.executable, "-m", "autopilot.cli", "rotate-keys"], env=env, capture_output=True, text=True, timeout=120
    )
    assert done.returncode == 0, done.stderr
    assert "re-encrypted 1 secret" in done.stdout
    async with sessions() as session:
        assert await vault.get_secret(session, KeyRing(new), org_id, "linkedin") == PLAINTEXT
        with pytest.raises(ConfigError, match="cannot be decrypted"):
            await vault.get_secret(session, KeyRing(old), org_id, "linkedin")


def test_a_key_ring_with_a_malformed_key_is_refused_clearly() -> None:
    with pytest.raises(ConfigError, match="not a Fernet key"):
        KeyRing("not-a-key")
