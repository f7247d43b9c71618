"""The jobs API and page an owner uses to watch the engine: list, filter, retry, cancel, health."""

from __future__ import annotations

import asyncio
import uuid
from datetime import timedelta
from typing import Any

import httpx

import tests.support.jobkinds  # noqa: F401
from autopilot.config import Settings
from autopilot.kit.time import utcnow
from autopilot.worker import ledger
from tests.support.accounts import Account
from tests.support.jobs import job_engine, job_runner, run_due

CLOSED_PORT = "http://127.0.0.1:9/effect"


async def enqueue_for(app: Any, account: Account, url: str, **options: Any) -> int:
    async with app.state.sessions() as session, session.begin():
        return await ledger.enqueue(
            session, kind="test.call", payload={"url": url}, org_id=uuid.UUID(account.org_id), **options
        )


async def test_owners_list_filter_retry_and_cancel_their_jobs(
    app: Any, settings: Settings, client: httpx.AsyncClient, alice: Account, bob: Account, recorder: Any
) -> None:
    failing = await enqueue_for(app, alice, recorder.url(fail=1, status=422))
    future = await enqueue_for(app, alice, recorder.url(), run_at=utcnow() + timedelta(days=2))
    await enqueue_for(app, bob, recorder.url())

    runner = job_runner(app.state.sessions, settings, owner="t")
    assert await run_due(app.state.sessions, runner) == "failed"

    listed = (await client.get("/api/v1/jobs", headers=alice.auth)).json()
    assert listed["total"] == 2  # Bob's job is not Alice's business
    failed = (await client.get("/api/v1/jobs", params={"status": "failed"}, headers=alice.auth)).json()
    assert [j["id"] for j in failed["items"]] == [failing]
    assert "HTTP 422" in failed["items"][0]["last_error"]
    bad_filter = await client.get("/api/v1/jobs", params={"status": "sideways"}, headers=alice.auth)
    assert bad_filter.status_code == 422

    retried = await client.post(f"/api/v1/jobs/{failing}/retry", headers=alice.auth)
    assert retried.status_code == 200 and retried.json()["status"] == "scheduled"
    assert await run_due(app.state.sessions, runner) == "succeeded"  # the server only failed once
    again = await client.post(f"/api/v1/jobs/{failing}/retry", headers=alice.auth)
    assert again.status_code == 409

    cancelled = await client.post(f"/api/v1/jobs/{future}/cancel", headers=alice.auth)
    assert cancelled.json()["status"] == "cancelled"
    alerts = (await client.get("/api/v1/alerts", headers=alice.auth)).json()
    assert [a["kind"] for a in alerts] == ["job_failed"]


async def test_health_reports_backlog_lateness_and_heartbeats(
    app: Any, settings: Settings, client: httpx.AsyncClient, alice: Account, recorder: Any
) -> None:
    await enqueue_for(app, alice, recorder.url(), run_at=utcnow() - timedelta(seconds=30))
    health = (await client.get("/api/v1/jobs/health", headers=alice.auth)).json()
    assert health["backlog"] == 1
    assert health["oldest_overdue_s"] >= 30
    assert health["heartbeats"] == []
    assert (await client.get("/readyz")).status_code == 503  # no executor alive

    engine = job_engine(settings, app.state.sessions).start()
    try:
        async with asyncio.timeout(15):
            while True:  # the backlog drained, and the executor's first beat written (its own task's write)
                health = (await client.get("/api/v1/jobs/health", headers=alice.auth)).json()
                if not health["backlog"] and health["executors_alive"]:
                    break
                await asyncio.sleep(0.05)
        health = (await client.get("/api/v1/jobs/health", headers=alice.auth)).json()
        assert health["lateness_last_hour"]["count"] == 1
        assert health["lateness_last_hour"]["p99_s"] >= 30
        assert health["executors_alive"] == 1 and health["dispatchers_alive"] == 1
        assert health["heartbeats"] == []  # process names are for operators: tests/jobs/test_health_privacy.py
        assert (await client.get("/readyz")).status_code == 200
    finally:
        await engine.stop()


async def test_a_dead_job_is_listed_on_the_failures_page_with_retry_and_cancel(
    app: Any, settings: Settings, client: httpx.AsyncClient, alice: Account
) -> None:

    await enqueue_for(app, alice, CLOSED_PORT, max_attempts=1)

    assert await run_due(app.state.sessions, job_runner(app.state.sessions, settings, owner="t")) == "dead"
    page = await client.get("/jobs")
    assert page.status_code == 303  # logged out: go and log in
    # Log in through the web form, then look at the page.
    form = await client.get("/login")
    token = form.text.split('name="csrf_token" value="')[1].split('"')[0]
    await client.post("/login", data={"email": alice.email, "password": alice.password, "csrf_token": token})
    page = await client.get("/jobs")
    assert page.status_code == 200
    assert "could not connect" in page.text
    assert "Retry" in page.text
