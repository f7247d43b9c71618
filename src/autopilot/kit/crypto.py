"""Secrets at rest: a rotatable key ring over Fernet (newest key first) and password hashing."""

from __future__ import annotations

import asyncio
import contextlib
import hashlib
import os
import secrets
import threading
from concurrent.futures import ThreadPoolExecutor

from argon2 import PasswordHasher
from argon2.exceptions import InvalidHashError, VerificationError
from cryptography.fernet import Fernet, InvalidToken, MultiFernet

from autopilot.config import ConfigError


class KeyRing:
    """Encrypts with the first key, decrypts with any; `rotate` re-encrypts with the first."""

    def __init__(self, keys: str | list[str]) -> None:
        raw = [k.strip() for k in (keys.split(",") if isinstance(keys, str) else keys) if k.strip()]
        if not raw:
            raise ConfigError("the encryption key ring is empty (AUTOPILOT_ENCRYPTION_KEYS)")
        try:
            self._fernet = MultiFernet([Fernet(k.encode()) for k in raw])
        except ValueError as exc:
            raise ConfigError(
                "AUTOPILOT_ENCRYPTION_KEYS holds a value that is not a Fernet key (32 url-safe base64 bytes)"
            ) from exc

    def encrypt(self, plaintext: str) -> str:
        return self._fernet.encrypt(plaintext.encode()).decode()

    def decrypt(self, token: str) -> str:
        try:
            return self._fernet.decrypt(token.encode()).decode()
        except InvalidToken as exc:
            raise ConfigError("a stored secret cannot be decrypted with any key in the ring") from exc

    def rotate(self, token: str) -> str:
        try:
            return self._fernet.rotate(token.encode()).decode()
        except InvalidToken as exc:
            raise ConfigError("a stored secret cannot be decrypted with any key in the ring") from exc


def new_fernet_key() -> str:
    return Fernet.generate_key().decode()


_hasher = PasswordHasher()
HASHING_NICENESS = 19


def _lower_priority() -> None:
    """Hashing threads (and the lane threads Argon2 starts from them, which inherit it) run at a
    lower CPU priority than the event loop: a crowd logging in must not slow every other request."""
    with contextlib.suppress(OSError, AttributeError):
        os.setpriority(os.PRIO_PROCESS, threading.get_native_id(), HASHING_NICENESS)


# Argon2 costs ~150 ms of CPU (over its lanes' threads) and releases the GIL: it runs on this
# small pool, never on the event loop, and callers hold no transaction while it runs.
_hashing = ThreadPoolExecutor(
    max_workers=os.cpu_count() or 2, thread_name_prefix="password-hashing", initializer=_lower_priority
)


def hash_password_now(password: str) -> str:
    """Blocking: for import time and scripts only; request code awaits `hash_password`."""
    return _hasher.hash(password)


def _verify(password_hash: str, password: str) -> bool:
    try:
        return _hasher.verify(password_hash, password)
    except (VerificationError, InvalidHashError):
        return False


async def hash_password(password: str) -> str:
    """The Argon2id hash of *password*, computed off the event loop."""
    return await asyncio.get_running_loop().run_in_executor(_hashing, _hasher.hash, password)


async def verify_password(password_hash: str, password: str) -> bool:
    """Whether *password* matches *password_hash*, checked off the event loop."""
    return await asyncio.get_running_loop().run_in_executor(_hashing, _verify, password_hash, password)


def new_token(prefix: str) -> str:
    """A random bearer token; the prefix tells a reader what kind it is (e.g. `ap_pat_`)."""
    return f"{prefix}{secrets.token_urlsafe(32)}"


def token_digest(token: str) -> str:
    """Tokens are stored as a SHA-256 digest: high-entropy, so no slow hash is needed."""
    return hashlib.sha256(token.encode()).hexdigest()
