"""Web Push end to end: the product's real pywebpush call reaches the push-service emulator over
HTTP on loopback, which checks the VAPID token (ES256, aud, exp, sub) and decrypts the aes128gcm
body (RFC 8291) the way the browser would; what it holds is exactly the notification we built."""

from __future__ import annotations

import asyncio
import json
import time
import uuid
from datetime import timedelta
from typing import Any

import httpx
import pytest
from fastapi import FastAPI
from sqlalchemy import Integer, Text, Uuid, column, insert, select, table, update
from sqlalchemy.ext.asyncio import AsyncSession, async_sessionmaker

from autopilot.config import Settings
from autopilot.kit.db import UTCDateTime
from autopilot.kit.time import utcnow
from autopilot.notifications import service
from autopilot.notifications.push import PUSH_KIND
from autopilot.worker.outcomes import JobEndedBadly
from autopilot.worker.runner import JobRunner
from tests.support.accounts import Account
from tests.support.jobs import job_runner
from tests.support.webpush import PushService, as_browser_json, push_jobs, run_pushes


@pytest.fixture
def sessions(app: FastAPI) -> async_sessionmaker[AsyncSession]:
    made: async_sessionmaker[AsyncSession] = app.state.sessions
    return made


@pytest.fixture
def runner(sessions: async_sessionmaker[AsyncSession], settings: Settings) -> JobRunner:
    return job_runner(sessions, settings)


async def add_device(
    client: httpx.AsyncClient, account: Account, push_service: PushService, **kw: Any
) -> dict[str, Any]:
    """A browser of *account* subscribes (its subscription made by the emulator); the emulator's view of it."""
    device = push_service.subscribe(**kw)
    answer = await client.post(
        "/api/v1/push/subscriptions",
        json=as_browser_json(device),
        headers={**account.auth, "User-Agent": "Mozilla/5.0 (Linux; Android 14) Chrome/156.0 Mobile Safari/537.36"},
    )
    assert answer.status_code == 201, answer.text
    device["row"] = answer.json()
    return device


async def devices(client: httpx.AsyncClient, account: Account) -> list[dict[str, Any]]:
    listed: list[dict[str, Any]] = (await client.get("/api/v1/push/subscriptions", headers=account.auth)).json()
    return listed


async def alert(sessions: async_sessionmaker[AsyncSession], account: Account, kind: str, message: str) -> uuid.UUID:
    """An alert raised the way scheduling and linkedin raise theirs."""
    async with sessions() as session, session.begin():
        raised = await service.alert_owners(session, uuid.UUID(account.org_id), kind=kind, message=message)
        assert raised is not None
        return raised.id


async def test_a_held_post_reaches_the_phone_encrypted_signed_and_exactly_as_built(
    client: httpx.AsyncClient,
    alice: Account,
    push_service: PushService,
    sessions: async_sessionmaker[AsyncSession],
    runner: JobRunner,
    settings: Settings,
) -> None:
    key = (await client.get("/api/v1/push/key")).json()["key"]
    # Restricted to our key, as Chromium's subscribe({applicationServerKey}) makes it (RFC 8292 §4).
    device = await add_device(client, alice, push_service, application_server_key=key)
    assert device["row"]["device"] == "Chrome on Android"
    alert_id = await alert(sessions, alice, "post_held", "A scheduled LinkedIn post was held: not approved by 06:30.")

    before = time.time()
    assert await run_pushes(sessions, runner) == ["succeeded"]
    (message,) = push_service.messages(device["id"])
    assert json.loads(message["payload"]) == {
        "kind": "post_held",
        "title": "A post was held",
        "body": "A scheduled LinkedIn post was held: not approved by 06:30.",
        "url": "/posts",
        "tag": f"post_held-{alert_id.hex[-12:]}",
    }
    assert (message["ttl"], message["urgency"], message["topic"]) == (12 * 3600, "high", None)
    claims = message["claims"]
    assert claims["aud"] == push_service.url and claims["sub"] == settings.push_contact
    assert before < claims["exp"] <= before + 24 * 3600
    (row,) = await devices(client, alice)
    assert row["last_success_at"] is not None and row["failures"] == 0


async def test_a_subscription_bound_to_another_key_is_refused_by_the_push_service(
    client: httpx.AsyncClient,
    alice: Account,
    push_service: PushService,
    sessions: async_sessionmaker[AsyncSession],
    runner: JobRunner,
) -> None:
    other_key = push_service.subscribe()["keys"]["p256dh"]  # any P-256 point that is not our VAPID key
    device = await add_device(client, alice, push_service, application_server_key=other_key)
    await alert(sessions, alice, "post_missed", "missed")
    assert await run_pushes(sessions, runner) == ["failed"]
    (job,) = await push_jobs(sessions, alice.org_id)
    assert "VAPID" in (job.last_error or "")
    assert push_service.messages(device["id"]) == []
    assert (await devices(client, alice))[0]["failures"] == 1


@pytest.mark.parametrize("status", [410, 404])
async def test_a_gone_subscription_is_removed(
    status: int,
    client: httpx.AsyncClient,
    alice: Account,
    push_service: PushService,
    sessions: async_sessionmaker[AsyncSession],
    runner: JobRunner,
) -> None:
    device = await add_device(client, alice, push_service)
    kept = await add_device(client, alice, push_service)
    push_service.fault(device["id"], status)
    await alert(sessions, alice, "post_failed", "failed")
    assert sorted(await run_pushes(sessions, runner)) == ["succeeded", "succeeded"]
    assert [d["id"] for d in await devices(client, alice)] == [kept["row"]["id"]]
    assert len(push_service.messages(kept["id"])) == 1


async def test_rate_limited_push_waits_for_retry_after_then_goes_out(
    client: httpx.AsyncClient,
    alice: Account,
    push_service: PushService,
    sessions: async_sessionmaker[AsyncSession],
    runner: JobRunner,
) -> None:
    device = await add_device(client, alice, push_service)
    push_service.fault(device["id"], 429, retry_after=120, times=1)
    await alert(sessions, alice, "linkedin_expiring", "Reconnect LinkedIn within 7 days.")
    started = utcnow()
    assert await run_pushes(sessions, runner) == ["retry_wait"]
    (job,) = await push_jobs(sessions, alice.org_id)
    assert started + timedelta(seconds=119) <= job.run_at <= utcnow() + timedelta(seconds=121)
    assert job.error_class == "rate_limited" and job.max_attempts == 6  # waiting costs no attempt
    assert push_service.messages(device["id"]) == []
    async with sessions() as session, session.begin():  # Retry-After has passed
        await session.execute(update(type(job)).where(type(job).id == job.id).values(run_at=utcnow()))
    assert await run_pushes(sessions, runner) == ["succeeded"]
    (message,) = push_service.messages(device["id"])
    assert json.loads(message["payload"])["kind"] == "token_expiring"


async def test_a_server_error_is_retried_with_backoff_and_a_too_large_answer_fails(
    client: httpx.AsyncClient,
    alice: Account,
    push_service: PushService,
    sessions: async_sessionmaker[AsyncSession],
    runner: JobRunner,
) -> None:
    broken = await add_device(client, alice, push_service)
    refused = await add_device(client, alice, push_service)
    push_service.fault(broken["id"], 500)
    push_service.fault(refused["id"], 413)
    await alert(sessions, alice, "post_missed", "missed")
    assert sorted(await run_pushes(sessions, runner)) == ["failed", "retry_wait"]
    by_status = {job.status: job for job in await push_jobs(sessions, alice.org_id)}
    assert by_status["retry_wait"].error_class == "transient" and by_status["retry_wait"].run_at > utcnow()
    assert "413" in (by_status["failed"].last_error or "")


# The columns of content_items every version of the table has: the test stays out of the content
# domain's way (its approval workflow calls `approvals_waiting` the same way).
DRAFTS = table(
    "content_items",
    *(column(name, type_) for name, type_ in (("id", Uuid()), ("org_id", Uuid()), ("created_at", UTCDateTime()))),
    *(column(name, type_) for name, type_ in (("updated_at", UTCDateTime()), ("text", Text()), ("state", Text()))),
    *(column(name, type_) for name, type_ in (("first_comment", Text()), ("last_error", Text()))),
    column("version", Integer()),
    column("attempts", Integer()),
)


async def drafts_waiting(account: Account, sessions: async_sessionmaker[AsyncSession]) -> int:
    """One more draft asks for approval, and approvers are told, in one transaction (as content does)."""
    now = utcnow()
    async with sessions() as session, session.begin():
        await session.execute(
            insert(DRAFTS).values(
                id=uuid.uuid4(), org_id=uuid.UUID(account.org_id), text="draft", state="pending_approval",
                first_comment="", last_error="", version=1, attempts=0, created_at=now, updated_at=now,
            )
        )  # fmt: skip
        return await service.approvals_waiting(session, uuid.UUID(account.org_id))


async def invite(client: httpx.AsyncClient, owner: Account, email: str, role: str) -> Account:
    invited = await client.post("/api/v1/invitations", json={"email": email, "role": role}, headers=owner.auth)
    password = f"{role} with a long password"
    accepted = await client.post(
        "/api/v1/invitations/accept", json={"token": invited.json()["accept_token"], "password": password}
    )
    assert accepted.status_code == 201, accepted.text
    login = (await client.post("/api/v1/auth/login", json={"email": email, "password": password})).json()
    me = (await client.get("/api/v1/me", headers={"Authorization": f"Bearer {login['access_token']}"})).json()
    return Account(email, password, login["access_token"], owner.org_id, me["user"]["id"])


async def test_three_drafts_waiting_leave_one_collapsed_notification_with_the_count(
    client: httpx.AsyncClient,
    alice: Account,
    push_service: PushService,
    sessions: async_sessionmaker[AsyncSession],
    runner: JobRunner,
) -> None:
    approver = await invite(client, alice, "carol@example.com", "approver")
    editor = await invite(client, alice, "erin@example.com", "editor")
    phone = await add_device(client, approver, push_service)
    editors_phone = await add_device(client, editor, push_service)
    for expected in (1, 2, 3):  # the phone is offline: each new count replaces the one still waiting
        assert await drafts_waiting(alice, sessions) == expected
        assert set(await run_pushes(sessions, runner)) == {"succeeded"}
    (message,) = push_service.messages(phone["id"])
    assert json.loads(message["payload"]) == {
        "kind": "approvals_waiting",
        "title": "Approvals",
        "body": "3 drafts wait for your approval",
        "url": "/approvals",
        "tag": "approvals",
        "count": 3,
    }
    assert (message["topic"], message["urgency"], message["ttl"]) == ("approvals", "normal", 3600)
    assert push_service.subscription(phone["id"])["pushes_received"] == 3
    assert push_service.messages(editors_phone["id"]) == []  # editors do not approve


async def test_the_count_is_read_when_the_push_goes_out_and_queued_once_per_transaction(
    client: httpx.AsyncClient,
    alice: Account,
    push_service: PushService,
    sessions: async_sessionmaker[AsyncSession],
    runner: JobRunner,
) -> None:
    phone = await add_device(client, alice, push_service)
    await drafts_waiting(alice, sessions)
    await drafts_waiting(alice, sessions)
    org = uuid.UUID(alice.org_id)
    async with sessions() as session, session.begin():  # a bulk change: one push per device, not three
        for _ in range(3):
            assert await service.approvals_waiting(session, org) == 2
    assert len(await push_jobs(sessions, org)) == 3
    async with sessions() as session, session.begin():  # one draft is approved before the pushes go out
        one = (await session.execute(select(DRAFTS.c.id).limit(1))).scalar_one()
        await session.execute(update(DRAFTS).where(DRAFTS.c.id == one).values(state="approved"))
    assert set(await run_pushes(sessions, runner)) == {"succeeded"}
    (message,) = push_service.messages(phone["id"])
    assert json.loads(message["payload"])["count"] == 1


async def test_push_turned_off_for_a_kind_queues_no_push(
    client: httpx.AsyncClient,
    alice: Account,
    push_service: PushService,
    sessions: async_sessionmaker[AsyncSession],
) -> None:
    await add_device(client, alice, push_service)
    off = {"post_missed": {"push": False, "email": True, "in_app": True}}
    saved = await client.put("/api/v1/notifications/preferences", json={"kinds": off}, headers=alice.auth)
    assert saved.status_code == 200, saved.text
    missed = next(k for k in saved.json()["kinds"] if k["kind"] == "post_missed")
    assert (missed["push"], missed["email"], missed["in_app"]) == (False, True, True)
    await alert(sessions, alice, "post_missed", "missed")
    assert await push_jobs(sessions, alice.org_id) == []
    await alert(sessions, alice, "post_held", "held")  # another kind keeps its default
    assert len(await push_jobs(sessions, alice.org_id)) == 1


async def test_in_app_off_hides_that_kind_from_the_callers_alerts(
    client: httpx.AsyncClient, alice: Account, sessions: async_sessionmaker[AsyncSession]
) -> None:
    await alert(sessions, alice, "post_missed", "missed")
    await alert(sessions, alice, "job_dead", "died")
    off = {"jobs": {"push": True, "email": True, "in_app": False}}
    await client.put("/api/v1/notifications/preferences", json={"kinds": off}, headers=alice.auth)
    assert [a["kind"] for a in (await client.get("/api/v1/alerts", headers=alice.auth)).json()] == ["post_missed"]


async def test_a_failed_publish_job_is_pushed_as_a_failed_post_and_a_failed_push_is_not_pushed(
    client: httpx.AsyncClient,
    alice: Account,
    push_service: PushService,
    sessions: async_sessionmaker[AsyncSession],
    runner: JobRunner,
    settings: Settings,
) -> None:
    phone = await add_device(client, alice, push_service)
    listen = service.engine_alerts(settings)
    org = uuid.UUID(alice.org_id)
    async with sessions() as session, session.begin():
        await listen(session, JobEndedBadly(7, org, "schedule.publish", 3, "dead", "LinkedIn answered 500 three times"))
        await listen(session, JobEndedBadly(8, org, PUSH_KIND, 5, "dead", "the push service answered 500"))
    assert await run_pushes(sessions, runner) == ["succeeded"]
    (message,) = push_service.messages(phone["id"])
    assert json.loads(message["payload"])["kind"] == "post_failed"


async def test_subscribing_the_same_browser_at_once_keeps_one_row_with_the_latest_keys(
    client: httpx.AsyncClient, alice: Account, push_service: PushService
) -> None:
    device = push_service.subscribe()
    body = as_browser_json(device)
    answers = await asyncio.gather(
        *(client.post("/api/v1/push/subscriptions", json=body, headers=alice.auth) for _ in range(6))
    )
    assert sorted(a.status_code for a in answers) == [200, 200, 200, 200, 200, 201]
    assert len({a.json()["id"] for a in answers}) == 1
    renewed = {**body, "keys": push_service.subscribe()["keys"]}  # the browser made new keys
    again = await client.post("/api/v1/push/subscriptions", json=renewed, headers=alice.auth)
    assert again.status_code == 200 and again.json()["id"] == answers[0].json()["id"]
    assert len(await devices(client, alice)) == 1


async def test_a_device_is_removed_by_its_owner_only(
    client: httpx.AsyncClient, alice: Account, push_service: PushService
) -> None:
    device = await add_device(client, alice, push_service)
    approver = await invite(client, alice, "carol@example.com", "approver")
    url = f"/api/v1/push/subscriptions/{device['row']['id']}"
    assert (await client.delete(url, headers=approver.auth)).status_code == 404  # same organization, not hers
    assert (await client.delete(url, headers=alice.auth)).status_code == 204
    assert await devices(client, alice) == []


def _b64(data: bytes) -> str:
    import base64

    return base64.urlsafe_b64encode(data).rstrip(b"=").decode()


@pytest.mark.parametrize(
    ("change", "field"),
    [
        (
            {"keys": {"p256dh": _b64(b"\x04" + b"\x00" * 64), "auth": _b64(b"a" * 16)}},
            "keys.p256dh",
        ),  # not on the curve
        ({"keys": {"p256dh": _b64(b"\x04" + b"\x01" * 30), "auth": _b64(b"a" * 16)}}, "keys.p256dh"),  # too short
        ({"keys": {"p256dh": "not base64!", "auth": _b64(b"a" * 16)}}, "keys.p256dh"),
        ({"auth": _b64(b"a" * 15)}, "keys.auth"),
        ({"endpoint": "http://push.example.com/send/abc"}, "endpoint"),  # http off loopback
        ({"endpoint": "ftp://127.0.0.1/x"}, "endpoint"),
        ({"endpoint": "https://push.example.com/" + "a" * 1000}, "endpoint"),
        ({"endpoint": "https://user:pw@push.example.com/x"}, "endpoint"),
    ],
)
async def test_a_bad_key_or_endpoint_is_refused_whole(
    change: dict[str, Any], field: str, client: httpx.AsyncClient, alice: Account, push_service: PushService
) -> None:
    body = as_browser_json(push_service.subscribe())
    if "auth" in change:
        body["keys"] = {**body["keys"], "auth": change["auth"]}
    else:
        body.update(change)
    answer = await client.post("/api/v1/push/subscriptions", json=body, headers=alice.auth)
    assert answer.status_code == 422, answer.text
    assert answer.headers["content-type"] == "application/problem+json"
    assert field in [e["field"] for e in answer.json()["errors"]]
    assert await devices(client, alice) == []


async def test_the_vapid_key_is_made_once_and_shared(
    app: FastAPI, settings: Settings, client: httpx.AsyncClient
) -> None:
    from autopilot.app import create_app

    first = (await client.get("/api/v1/push/key")).json()["key"]
    other = create_app(settings)  # another process on the same database
    async with other.router.lifespan_context(other):
        transport = httpx.ASGITransport(app=other)
        async with httpx.AsyncClient(transport=transport, base_url="http://other") as elsewhere:
            assert (await elsewhere.get("/api/v1/push/key")).json()["key"] == first
    assert len(first) == 87  # base64url of a 65-byte point


async def test_a_configured_vapid_key_is_the_one_served(settings: Settings) -> None:
    from cryptography.hazmat.primitives import serialization
    from cryptography.hazmat.primitives.asymmetric import ec

    from autopilot.app import create_app

    private = ec.generate_private_key(ec.SECP256R1())
    pem = private.private_bytes(
        serialization.Encoding.PEM, serialization.PrivateFormat.PKCS8, serialization.NoEncryption()
    ).decode()
    public = private.public_key().public_bytes(
        serialization.Encoding.X962, serialization.PublicFormat.UncompressedPoint
    )
    configured = create_app(settings.model_copy(update={"vapid_private_key": pem}))
    transport = httpx.ASGITransport(app=configured)
    async with configured.router.lifespan_context(configured), httpx.AsyncClient(transport=transport) as http:
        assert (await http.get("http://x/api/v1/push/key")).json()["key"] == _b64(public)


async def test_rotating_the_key_ring_keeps_the_same_vapid_key(settings: Settings, client: httpx.AsyncClient) -> None:
    import os
    import subprocess
    import sys

    from cryptography.fernet import Fernet

    from autopilot.app import create_app

    first = (await client.get("/api/v1/push/key")).json()["key"]
    new = Fernet.generate_key().decode()
    env = {
        **os.environ,
        "AUTOPILOT_DATABASE_URL": settings.sqlalchemy_url,
        "AUTOPILOT_ENCRYPTION_KEYS": f"{new},{settings.encryption_keys}",
        "AUTOPILOT_DATA_DIR": str(settings.data_dir),
        "AUTOPILOT_SECRET_KEY": settings.secret_key,
    }
    command = [sys.executable, "-m", "autopilot.cli", "rotate-keys"]
    done = await asyncio.to_thread(subprocess.run, command, env=env, capture_output=True, text=True, timeout=120)
    assert done.returncode == 0, done.stderr
    rotated = create_app(settings.model_copy(update={"encryption_keys": new}))  # the old key removed
    transport = httpx.ASGITransport(app=rotated)
    async with rotated.router.lifespan_context(rotated), httpx.AsyncClient(transport=transport) as http:
        assert (await http.get("http://x/api/v1/push/key")).json()["key"] == first
