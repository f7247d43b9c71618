"""Secrets at rest: a rotatable key ring over Fernet (newest key first) and password hashing."""

from __future__ import annotations

import hashlib
import secrets

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


def hash_password(password: str) -> str:
    return _hasher.hash(password)


def verify_password(password_hash: str, password: str) -> bool:
    try:
        return _hasher.verify(password_hash, password)
    except (VerificationError, InvalidHashError):
        return False


def new_token(prefix: str) -> str:
    """A random bearer token; the prefix tells a reader what kind it is (e.g. `ap_pat_`)."""
    return f"{prefix}{secrets.token_urlsafe(32)}"


def token_digest(token: str) -> str:
    """Tokens are stored as a SHA-256 digest: high-entropy, so no slow hash is needed."""
    return hashlib.sha256(token.encode()).hexdigest()
