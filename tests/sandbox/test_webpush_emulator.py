"""The push-service emulator checks what a real push service checks (RFC 8030, RFC 8292) and
decrypts what a browser decrypts (RFC 8291); messages are built here with pywebpush's own parts."""

from __future__ import annotations

import time
from collections.abc import AsyncIterator
from typing import Any

import httpx
import pytest
from cryptography.hazmat.primitives.asymmetric import ec
from py_vapid import Vapid02
from pywebpush import WebPusher

from autopilot.sandbox.webpush import create_app
from autopilot.sandbox.webpush.crypto import UserAgentKeys, b64url, decrypt, public_point, unb64url

ORIGIN = "http://push.test"
# A valid P-256 public key that did not sign the token: the signature must not verify with it.
ANOTHER_KEY = b64url(public_point(ec.generate_private_key(ec.SECP256R1()).public_key()))


@pytest.fixture
async def emulator() -> AsyncIterator[httpx.AsyncClient]:
    async with httpx.AsyncClient(transport=httpx.ASGITransport(app=create_app()), base_url=ORIGIN) as http:
        yield http


def request_for(
    device: dict[str, Any], data: str, *, signer: Vapid02 | None = None, claims: dict[str, Any] | None = None
) -> tuple[bytes, dict[str, str]]:
    """The body and headers an application server sends (what pywebpush.webpush does, step by step)."""
    encoded = WebPusher({"endpoint": device["endpoint"], "keys": device["keys"]}).encode(data.encode(), "aes128gcm")
    signer = signer or Vapid02(ec.generate_private_key(ec.SECP256R1()))
    token = signer.sign(claims or {"aud": ORIGIN, "sub": "mailto:ops@example.com", "exp": int(time.time()) + 3600})
    return encoded["body"], {"TTL": "60", "Content-Encoding": "aes128gcm", **token}


async def new_device(emulator: httpx.AsyncClient, **body: Any) -> dict[str, Any]:
    created = await emulator.post("/_emulator/subscriptions", json=body)
    assert created.status_code == 201
    device: dict[str, Any] = created.json()
    return device


def test_the_rfc_8291_example_decrypts_to_its_plaintext() -> None:
    private = ec.derive_private_key(
        int.from_bytes(unb64url("q1dXpw3UpT5VOmu_cf_v6ih07Aems3njxI-JWgLcM94"), "big"), ec.SECP256R1()
    )
    keys = UserAgentKeys(private, unb64url("BTBZMqHH6r4Tts7J_aSIgg"))
    body = unb64url(
        "DGv6ra1nlYgDCS1FRnbzlwAAEABBBP4z9KsN6nGRTbVYI_c7VJSPQTBtkgcy27mlmlMoZIIgDll6e3vCYLocInmYWAmS6TlzAC8wEqKK6PBru3jl"
        "7A_yl95bQpu6cVPTpK4Mqgkf1CXztLVBSt2Ks3oZwbuwXPXLWyouBWLVWGNWQexSgSxsj_Qulcy4a-fN"
    )
    assert decrypt(body, keys) == b"When I grow up, I want to be a watermelon"


async def test_a_good_push_is_kept_decrypted_and_a_newer_one_of_the_same_topic_replaces_it(
    emulator: httpx.AsyncClient,
) -> None:
    device = await new_device(emulator)
    url = f"/push/{device['id']}"
    for count in (1, 2):
        body, headers = request_for(device, f'{{"count": {count}}}')
        answer = await emulator.post(url, content=body, headers={**headers, "Topic": "approvals", "Urgency": "high"})
        assert answer.status_code == 201 and answer.headers["location"].startswith(f"{ORIGIN}/_emulator/messages/")
    (message,) = (await emulator.get(f"/_emulator/subscriptions/{device['id']}/messages")).json()["messages"]
    assert (message["payload"], message["topic"], message["urgency"], message["ttl"]) == (
        '{"count": 2}',
        "approvals",
        "high",
        60,
    )
    # Once delivered, a message is no longer replaced.
    assert len((await emulator.post(f"/_emulator/subscriptions/{device['id']}/deliver")).json()["messages"]) == 1
    body, headers = request_for(device, '{"count": 3}')
    await emulator.post(url, content=body, headers={**headers, "Topic": "approvals"})
    assert len((await emulator.get(f"/_emulator/subscriptions/{device['id']}/messages")).json()["messages"]) == 2


def _without(headers: dict[str, str], name: str) -> dict[str, str]:
    return {k: v for k, v in headers.items() if k.lower() != name}


@pytest.mark.parametrize(
    ("spoil", "status"),
    [
        (lambda b, h: (b, _without(h, "ttl")), 400),
        (lambda b, h: (b, {**h, "Urgency": "urgent"}), 400),
        (lambda b, h: (b, {**h, "Topic": "a" * 33}), 400),
        (lambda b, h: (b + b"x" * 4096, h), 413),
        (lambda b, h: (b, _without(h, "authorization")), 401),
        (lambda b, h: (b, {**h, "Authorization": h["Authorization"].replace("t=", "t=x")}), 403),
        (lambda b, h: (b, {**h, "Authorization": h["Authorization"].split("k=")[0] + "k=" + ANOTHER_KEY}), 403),
        (lambda b, h: (b, {**h, "Content-Encoding": "aesgcm"}), 400),
        (lambda b, h: (b[:-1] + bytes([b[-1] ^ 1]), h), 400),  # one bit flipped: the tag fails
    ],
)
async def test_a_push_that_breaks_the_protocol_is_refused(spoil: Any, status: int, emulator: httpx.AsyncClient) -> None:
    device = await new_device(emulator)
    body, headers = spoil(*request_for(device, "hello"))
    answer = await emulator.post(f"/push/{device['id']}", content=body, headers=headers)
    assert answer.status_code == status, answer.text
    assert (await emulator.get(f"/_emulator/subscriptions/{device['id']}/messages")).json()["messages"] == []


@pytest.mark.parametrize(
    "claims",
    [
        {"aud": "http://elsewhere.test", "sub": "mailto:ops@example.com", "exp": int(time.time()) + 3600},
        {"aud": ORIGIN, "sub": "mailto:ops@example.com", "exp": int(time.time()) - 10},
        {"aud": ORIGIN, "sub": "mailto:ops@example.com", "exp": int(time.time()) + 25 * 3600},
    ],
    ids=["another audience", "expired", "more than 24 h ahead"],
)
async def test_vapid_claims_are_checked(claims: dict[str, Any], emulator: httpx.AsyncClient) -> None:
    device = await new_device(emulator)
    body, headers = request_for(device, "hello", claims=claims)
    assert (await emulator.post(f"/push/{device['id']}", content=body, headers=headers)).status_code == 403


async def test_a_restricted_subscription_takes_only_its_key_and_faults_answer_as_asked(
    emulator: httpx.AsyncClient,
) -> None:
    ours = Vapid02(ec.generate_private_key(ec.SECP256R1()))
    theirs = Vapid02(ec.generate_private_key(ec.SECP256R1()))
    restricted = await new_device(emulator, application_server_key=_public(ours))
    url = f"/push/{restricted['id']}"
    body, headers = request_for(restricted, "hi", signer=theirs)
    assert (await emulator.post(url, content=body, headers=headers)).status_code == 403
    body, headers = request_for(restricted, "hi", signer=ours)
    assert (await emulator.post(url, content=body, headers=headers)).status_code == 201
    fault = {"status": 429, "retry_after": 30, "times": 1}
    assert (await emulator.put(f"/_emulator/subscriptions/{restricted['id']}/fault", json=fault)).status_code == 200
    limited = await emulator.post(url, content=body, headers=headers)
    assert (limited.status_code, limited.headers["retry-after"]) == (429, "30")
    assert (await emulator.post(url, content=body, headers=headers)).status_code == 201  # times: 1
    assert (await emulator.delete(f"/_emulator/subscriptions/{restricted['id']}")).status_code == 204
    assert (await emulator.post(url, content=body, headers=headers)).status_code == 410
    assert (await emulator.post("/push/unknown", content=body, headers=headers)).status_code == 404


def _public(signer: Vapid02) -> str:
    return b64url(public_point(signer.public_key))
