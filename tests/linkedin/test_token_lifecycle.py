"""Tokens: reminders before an expiry we cannot refresh, revocation in the middle of a queue,
one refresh for many concurrent callers on several processes, a retired API version."""

from __future__ import annotations

import asyncio
from datetime import datetime, timedelta
from pathlib import Path
from typing import Any

import httpx
import pytest
import time_machine
from fastapi import FastAPI
from sqlalchemy import update
from sqlalchemy.ext.asyncio import AsyncSession, async_sessionmaker

from autopilot.app import create_app
from autopilot.config import Settings
from autopilot.kit.db import make_engine, make_sessionmaker
from autopilot.kit.time import utcnow
from autopilot.linkedin.models import Integration
from autopilot.vault.service import count_secrets
from tests.support.accounts import Account, make_account
from tests.support.databases import redis_or_fail
from tests.support.linkedin import (
    approved,
    authorize,
    celery_env,
    connect,
    publish_all,
    running_engine,
    settings_of,
    wait_settled,
    workers,
)
from tests.support.linkedin_sandbox import SandboxControl
from tests.support.processes import Processes
from tests.support.scheduling import lasting, run_everything_due


async def alerts(client: httpx.AsyncClient, account: Account, kind: str) -> list[dict[str, Any]]:
    return [a for a in (await client.get("/api/v1/alerts", headers=account.auth)).json() if a["kind"] == kind]


async def test_without_a_refresh_token_owners_are_reminded_14_7_and_1_days_before_expiry(
    client: httpx.AsyncClient,
    alice: Account,
    sandbox: SandboxControl,
    settings: Settings,
    sessions: async_sessionmaker[AsyncSession],
) -> None:
    sandbox.set_app(refresh_enabled=False)
    alice = await lasting(client, alice)
    connected = await connect(client, alice)
    expires = datetime.fromisoformat(connected["access_expires_at"])
    assert 59.9 < (expires - utcnow()).total_seconds() / 86400 <= 60  # LinkedIn's 5,183,999 s
    seen: list[int] = []
    # Walk the calendar: at each moment, run what is due and note which reminders exist.
    start = utcnow()
    for days_later in [30, 45, 46, 47, 52, 53, 58, 59, 59.9, 60.01]:
        with time_machine.travel(start + timedelta(days=days_later), tick=False):
            await run_everything_due(sessions, settings)
            seen.append(len(await alerts(client, alice, "linkedin_expiring")))
    #  days after connecting:   30 45 46 47 52 53 58 59 59.9 60.01  (reminders due at 46, 53, 59)
    assert seen == [0, 0, 1, 1, 1, 2, 2, 3, 3, 3]
    texts = [a["message"] for a in await alerts(client, alice, "linkedin_expiring")]
    assert sorted(t.split(" day")[0].split("within ")[1] for t in texts) == ["1", "14", "7"]
    with time_machine.travel(start + timedelta(days=60.01), tick=False):
        (integration,) = (await client.get("/api/v1/integrations", headers=alice.auth)).json()
    assert integration["status"] == "needs_reconnect"
    assert len(await alerts(client, alice, "linkedin_reconnect")) == 1


async def test_with_a_refresh_token_there_are_no_reminders(
    client: httpx.AsyncClient,
    alice: Account,
    sandbox: SandboxControl,
    settings: Settings,
    sessions: async_sessionmaker[AsyncSession],
) -> None:
    alice = await lasting(client, alice)
    connect_answer = await connect(client, alice)
    assert connect_answer["refresh_expires_at"] is not None
    start = utcnow()
    for days_later in [46, 53, 59]:
        with time_machine.travel(start + timedelta(days=days_later), tick=False):
            await run_everything_due(sessions, settings)
    assert await alerts(client, alice, "linkedin_expiring") == []
    assert sandbox.stats()["token_grants"].get("refresh_token", 0) == 1  # refreshed once, a week ahead
    (integration,) = (await client.get("/api/v1/integrations", headers=alice.auth)).json()
    assert integration["status"] == "connected"


async def test_revocation_mid_queue_holds_posts_tells_the_owner_and_reconnecting_releases_them(
    client: httpx.AsyncClient,
    alice: Account,
    sandbox: SandboxControl,
    settings: Settings,
    sessions: async_sessionmaker[AsyncSession],
) -> None:
    member = (await connect(client, alice))["member_urn"].rsplit(":", 1)[1]
    first = [(await approved(client, alice, f"before revocation {n}"))["id"] for n in range(5)]
    later = [(await approved(client, alice, f"after revocation {n}"))["id"] for n in range(5)]
    async with running_engine(settings, sessions):
        await publish_all(client, alice, first)
        await wait_settled(client, alice, first)
        sandbox.revoke(member)  # the member revokes the app on LinkedIn
        await publish_all(client, alice, later)
        held = await wait_settled(client, alice, later)
        assert {i["state"] for i in held.values()} == {"held"}, held
        assert all("reconnect" in i["last_error"] for i in held.values())
        (integration,) = (await client.get("/api/v1/integrations", headers=alice.auth)).json()
        assert integration["status"] == "needs_reconnect"
        (alert,) = await alerts(client, alice, "linkedin_reconnect")  # one alert, not five
        assert "on hold" in alert["message"]
        await connect(client, alice)  # reconnect: the held posts go out
        done = await wait_settled(client, alice, later, timeout=60)
        async with asyncio.timeout(30):
            while {i["state"] for i in done.values()} != {"published"}:
                await asyncio.sleep(0.2)
                done = await wait_settled(client, alice, later)
    texts = sorted(p["displayed_text"] for p in sandbox.posts())
    assert texts == sorted([f"before revocation {n}" for n in range(5)] + [f"after revocation {n}" for n in range(5)])


async def test_cancelling_on_the_consent_page_connects_nothing(
    client: httpx.AsyncClient, alice: Account, sandbox: SandboxControl
) -> None:
    answer = await authorize(client, alice, button="Cancel")
    assert answer.status_code == 400
    assert "cancelled" in answer.json()["detail"] and "nothing was connected" in answer.json()["detail"]
    assert (await client.get("/api/v1/integrations", headers=alice.auth)).json() == []


async def test_a_state_is_used_once(client: httpx.AsyncClient, alice: Account, sandbox: SandboxControl) -> None:
    started = await client.post("/api/v1/integrations/linkedin/connect", headers=alice.auth)
    state = httpx.URL(started.json()["authorization_url"]).params["state"]
    again = await client.get(f"/api/v1/integrations/linkedin/callback?state={state}&code=forged")
    assert again.status_code == 400  # the forged code fails, and uses the state up
    replay = await client.get(f"/api/v1/integrations/linkedin/callback?state={state}&code=forged")
    assert replay.status_code == 400 and "already used" in replay.json()["detail"]


async def test_a_retired_api_version_holds_publishing_with_an_alert_naming_the_setting(
    client: httpx.AsyncClient,
    alice: Account,
    sandbox: SandboxControl,
    settings: Settings,
    sessions: async_sessionmaker[AsyncSession],
) -> None:
    await connect(client, alice)
    item = await approved(client, alice, "published once the version is fixed")
    sandbox.set_app(active_versions=["202610", "202611"])  # LinkedIn sunsets our 202609
    async with running_engine(settings, sessions):
        await publish_all(client, alice, [item["id"]])
        (held,) = (await wait_settled(client, alice, [item["id"]])).values()
        assert held["state"] == "held" and "AUTOPILOT_LINKEDIN_VERSION" in held["last_error"]
        job = (await client.get(f"/api/v1/jobs/{held['publish_job_id']}", headers=alice.auth)).json()
        assert job["status"] == "held"  # not failed for good
        assert any("AUTOPILOT_LINKEDIN_VERSION" in a["message"] for a in await alerts(client, alice, "job_held"))
        newer = settings.model_copy(update={"linkedin_version": "202611"})
    async with running_engine(newer, sessions):  # the installation sets the newer version, restarts
        retried = await client.post(f"/api/v1/jobs/{held['publish_job_id']}/retry", headers=alice.auth)
        assert retried.status_code == 200
        (done,) = (await wait_settled(client, alice, [item["id"]])).values()
        async with asyncio.timeout(30):
            while done["state"] != "published":
                await asyncio.sleep(0.2)
                (done,) = (await wait_settled(client, alice, [item["id"]])).values()
    assert [p["displayed_text"] for p in sandbox.posts()] == ["published once the version is fixed"]


async def expire_our_copy(url: str, within: timedelta = timedelta(minutes=-1)) -> None:
    """Our record of the access token's expiry says it expires *within* (a minute ago by default)."""
    engine = make_engine(url)
    async with make_sessionmaker(engine)() as session, session.begin():
        await session.execute(update(Integration).values(access_expires_at=utcnow() + within))
    await engine.dispose()


async def test_a_token_close_to_its_expiry_is_refreshed_before_the_post_not_after_a_refusal(
    client: httpx.AsyncClient,
    alice: Account,
    sandbox: SandboxControl,
    settings: Settings,
    sessions: async_sessionmaker[AsyncSession],
) -> None:
    await connect(client, alice)
    ids = [(await approved(client, alice, "two minutes before the token expires"))["id"]]
    await expire_our_copy(settings.sqlalchemy_url, within=timedelta(minutes=2))  # inside the 5-minute margin
    async with running_engine(settings, sessions):
        await publish_all(client, alice, ids)
        final = await wait_settled(client, alice, ids)
    assert {i["state"] for i in final.values()} == {"published"}
    stats = sandbox.stats()
    assert stats["token_grants"].get("refresh_token", 0) == 1, "refreshed first"
    assert not [key for key in stats["requests"] if key.endswith(" 401")], "no call was made with the old token"


async def test_one_refresh_for_concurrent_callers_in_one_process(
    client: httpx.AsyncClient,
    alice: Account,
    sandbox: SandboxControl,
    settings: Settings,
    sessions: async_sessionmaker[AsyncSession],
) -> None:
    member = (await connect(client, alice))["member_urn"].rsplit(":", 1)[1]
    ids = [(await approved(client, alice, f"concurrent {n}"))["id"] for n in range(50)]
    sandbox.expire(member)
    await expire_our_copy(settings.sqlalchemy_url)
    async with running_engine(settings, sessions):
        await publish_all(client, alice, ids)
        final = await wait_settled(client, alice, ids)
    assert {i["state"] for i in final.values()} == {"published"}
    assert sandbox.stats()["token_grants"].get("refresh_token", 0) == 1


@pytest.mark.slow
async def test_one_refresh_for_50_publishes_on_two_worker_processes(
    postgres: str, sandbox: SandboxControl, tmp_path: Path
) -> None:
    redis_or_fail()
    env = celery_env(postgres, sandbox.url, tmp_path)
    app: FastAPI = create_app(settings_of(env))
    processes = Processes(env, tmp_path)
    try:
        async with app.router.lifespan_context(app):
            transport = httpx.ASGITransport(app=app)
            async with httpx.AsyncClient(transport=transport, base_url="http://testserver") as client:
                alice = await make_account(client, "alice@example.com", "Alice Consulting")
                member = (await connect(client, alice))["member_urn"].rsplit(":", 1)[1]
                ids = [(await approved(client, alice, f"two workers {n}"))["id"] for n in range(50)]
                sandbox.expire(member)
                await expire_our_copy(postgres)
                async with workers(processes)():
                    await publish_all(client, alice, ids)
                    final = await wait_settled(client, alice, ids, timeout=120)
    finally:
        processes.stop_all()
    assert {i["state"] for i in final.values()} == {"published"}
    assert sandbox.stats()["token_grants"].get("refresh_token", 0) == 1
    assert len(sandbox.posts()) == 50


async def test_the_health_check_says_whether_the_connection_works(
    client: httpx.AsyncClient, alice: Account, sandbox: SandboxControl
) -> None:
    connected = await connect(client, alice)
    checked = await client.post(f"/api/v1/integrations/{connected['id']}/check", headers=alice.auth)
    assert checked.status_code == 200 and checked.json()["check_ok"] is True
    sandbox.revoke(connected["member_urn"].rsplit(":", 1)[1])
    checked = await client.post(f"/api/v1/integrations/{connected['id']}/check", headers=alice.auth)
    assert checked.json()["check_ok"] is False and "revoked" in checked.json()["check_detail"]
    assert checked.json()["status"] == "needs_reconnect"


async def test_reconnecting_without_a_refresh_token_keeps_the_one_held(
    client: httpx.AsyncClient,
    alice: Account,
    sandbox: SandboxControl,
    settings: Settings,
    sessions: async_sessionmaker[AsyncSession],
) -> None:
    first = await connect(client, alice)
    assert first["refresh_expires_at"] is not None
    sandbox.set_app(refresh_enabled=False)  # this time LinkedIn's answer carries no refresh token
    again = await connect(client, alice)
    assert again["id"] == first["id"] and again["refresh_expires_at"] == first["refresh_expires_at"]
    sandbox.set_app(refresh_enabled=True)  # the refresh grant itself still works for the old token
    sandbox.expire(first["member_urn"].rsplit(":", 1)[1])
    await expire_our_copy(settings.sqlalchemy_url)
    item = await approved(client, alice, "after a refresh with the kept token")
    async with running_engine(settings, sessions):
        await publish_all(client, alice, [item["id"]])
        (done,) = (await wait_settled(client, alice, [item["id"]])).values()
    assert done["state"] == "published", done
    assert sandbox.stats()["token_grants"]["refresh_token"] == 1


async def test_disconnecting_deletes_the_tokens(
    client: httpx.AsyncClient, alice: Account, sandbox: SandboxControl, sessions: async_sessionmaker[AsyncSession]
) -> None:
    connected = await connect(client, alice)
    async with sessions() as session:
        before = await count_secrets(session)
    assert before == 2  # access and refresh, encrypted in the vault
    gone = await client.delete(f"/api/v1/integrations/{connected['id']}", headers=alice.auth)
    assert gone.status_code == 200 and gone.json()["status"] == "disconnected"
    async with sessions() as session:
        assert await count_secrets(session) == 0
    item = await approved(client, alice, "nowhere to go")
    refused = await client.post(f"/api/v1/content/{item['id']}/publish", headers=alice.auth)
    assert refused.status_code == 409 and "connect" in refused.json()["detail"]


async def test_our_daily_post_budget_holds_the_rest_until_midnight_utc(
    client: httpx.AsyncClient,
    alice: Account,
    sandbox: SandboxControl,
    settings: Settings,
    sessions: async_sessionmaker[AsyncSession],
) -> None:
    await connect(client, alice)
    ids = [(await approved(client, alice, f"budget {n}"))["id"] for n in range(3)]
    tight = settings.model_copy(update={"linkedin_member_daily_posts": 2})
    async with running_engine(tight, sessions):
        await publish_all(client, alice, ids)
        async with asyncio.timeout(30):
            while len(sandbox.posts()) < 2:
                await asyncio.sleep(0.1)
            while True:
                jobs = (await client.get("/api/v1/jobs?kind=content.publish", headers=alice.auth)).json()["items"]
                waiting = [j for j in jobs if j["status"] == "retry_wait"]
                if waiting:
                    break
                await asyncio.sleep(0.1)
    (job,) = waiting
    assert job["error_class"] == "rate_limited" and "resets at midnight UTC" in job["last_error"]
    midnight = (utcnow() + timedelta(days=1)).replace(hour=0, minute=0, second=0, microsecond=0)
    assert abs((datetime.fromisoformat(job["run_at"]) - midnight).total_seconds()) < 1
    assert len(sandbox.posts()) == 2  # the third call never reached LinkedIn
