"""What a browser and a push service do with a Web Push message, with the `cryptography` package:
check the sender's VAPID token (RFC 8292) and decrypt an `aes128gcm` body (RFC 8291 over RFC 8188)."""

from __future__ import annotations

import base64
import hashlib
import hmac
import json
import os
from dataclasses import dataclass
from typing import Any

from cryptography.exceptions import InvalidSignature, InvalidTag
from cryptography.hazmat.primitives import hashes, serialization
from cryptography.hazmat.primitives.asymmetric import ec
from cryptography.hazmat.primitives.asymmetric.utils import encode_dss_signature
from cryptography.hazmat.primitives.ciphers.aead import AESGCM

P256_POINT = 65  # an uncompressed X9.62 point: 0x04 || X || Y
AUTH_SECRET = 16
SALT = 16
TAG = 16  # AES-GCM tag at the end of each record


class Undecryptable(ValueError):
    """The body is not an aes128gcm message for this subscription's keys."""


class BadToken(ValueError):
    """The VAPID token is malformed, or its signature does not verify with the key it names."""


def b64url(data: bytes) -> str:
    return base64.urlsafe_b64encode(data).rstrip(b"=").decode()


def unb64url(text: str) -> bytes:
    return base64.urlsafe_b64decode(text + "=" * (-len(text) % 4))


def public_point(key: ec.EllipticCurvePublicKey) -> bytes:
    return key.public_bytes(serialization.Encoding.X962, serialization.PublicFormat.UncompressedPoint)


@dataclass(frozen=True)
class UserAgentKeys:
    """What a browser makes for one subscription: a P-256 key pair (p256dh) and an auth secret."""

    private_key: ec.EllipticCurvePrivateKey
    auth: bytes

    @classmethod
    def generate(cls) -> UserAgentKeys:
        return cls(ec.generate_private_key(ec.SECP256R1()), os.urandom(AUTH_SECRET))

    @property
    def p256dh(self) -> bytes:
        return public_point(self.private_key.public_key())


def _hmac(key: bytes, data: bytes) -> bytes:
    return hmac.new(key, data, hashlib.sha256).digest()


def decrypt(body: bytes, keys: UserAgentKeys) -> bytes:
    """The plaintext of an RFC 8291 message: header (salt, record size, the sender's ephemeral key),
    then records of `rs` bytes, each padded and ended by a delimiter (0x02 on the last)."""
    if len(body) < SALT + 5:
        raise Undecryptable("the body is shorter than the aes128gcm header")
    salt, rs, idlen = body[:SALT], int.from_bytes(body[SALT : SALT + 4], "big"), body[SALT + 4]
    sender = body[SALT + 5 : SALT + 5 + idlen]
    records = body[SALT + 5 + idlen :]
    if idlen != P256_POINT or len(sender) != P256_POINT:
        raise Undecryptable("the key id is not the sender's 65-byte P-256 public key")
    if rs <= TAG + 1 or not records:
        raise Undecryptable("bad record size or no record")
    try:
        sender_key = ec.EllipticCurvePublicKey.from_encoded_point(ec.SECP256R1(), sender)
    except ValueError as exc:
        raise Undecryptable("the key id is not a point on P-256") from exc
    shared = keys.private_key.exchange(ec.ECDH(), sender_key)
    # RFC 8291 §3.4: the auth secret and both public keys go into the input keying material.
    prk_key = _hmac(keys.auth, shared)
    ikm = _hmac(prk_key, b"WebPush: info\x00" + keys.p256dh + sender + b"\x01")
    # RFC 8188 §2.2-2.3: HKDF with the salt; one block of output is enough for both.
    prk = _hmac(salt, ikm)
    cek = _hmac(prk, b"Content-Encoding: aes128gcm\x00\x01")[:16]
    nonce = _hmac(prk, b"Content-Encoding: nonce\x00\x01")[:12]
    plaintext = bytearray()
    chunks = [records[i : i + rs] for i in range(0, len(records), rs)]
    for seq, chunk in enumerate(chunks):
        iv = (int.from_bytes(nonce, "big") ^ seq).to_bytes(12, "big")
        try:
            padded = AESGCM(cek).decrypt(iv, chunk, None)
        except InvalidTag as exc:
            raise Undecryptable("the record does not decrypt with this subscription's keys") from exc
        data = padded.rstrip(b"\x00")
        last = seq == len(chunks) - 1
        if not data or data[-1] != (2 if last else 1):
            raise Undecryptable("bad padding delimiter")
        plaintext += data[:-1]
    return bytes(plaintext)


def verify_vapid(token: str, key: str) -> dict[str, Any]:
    """The claims of a VAPID JWT whose ES256 signature verifies with *key* (base64url point)."""
    try:
        head, payload, signature = token.split(".")
        header = json.loads(unb64url(head))
        claims = json.loads(unb64url(payload))
        raw = unb64url(signature)
        public = ec.EllipticCurvePublicKey.from_encoded_point(ec.SECP256R1(), unb64url(key))
    except ValueError as exc:
        raise BadToken(f"malformed VAPID token or key: {exc}") from exc
    if not isinstance(header, dict) or header.get("alg") != "ES256":
        raise BadToken("the token's alg is not ES256")
    if not isinstance(claims, dict) or len(raw) != 64:
        raise BadToken("the token's claims are not an object, or its signature is not 64 bytes (r||s)")
    der = encode_dss_signature(int.from_bytes(raw[:32], "big"), int.from_bytes(raw[32:], "big"))
    try:
        public.verify(der, f"{head}.{payload}".encode(), ec.ECDSA(hashes.SHA256()))
    except InvalidSignature as exc:
        raise BadToken("the signature does not verify with the key k") from exc
    return claims
