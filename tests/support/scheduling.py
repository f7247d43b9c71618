"""Scheduling journeys through the real API, and the clock moved as the dispatcher would see it."""

from __future__ import annotations

from dataclasses import replace
from datetime import datetime
from typing import Any

import httpx
import time_machine
from sqlalchemy.ext.asyncio import AsyncSession, async_sessionmaker

from autopilot.config import Settings
from autopilot.worker import ledger
from tests.support.accounts import Account
from tests.support.jobs import job_runner
from tests.support.linkedin import connect
from tests.support.linkedin_sandbox import SandboxControl


async def lasting(client: httpx.AsyncClient, account: Account, *, timezone: str | None = None) -> Account:
    """The account with a personal token (valid until revoked) for tests that move the clock by
    weeks, and, when given, its time zone set."""
    if timezone is not None:
        changed = await client.patch("/api/v1/me", json={"timezone": timezone}, headers=account.auth)
        assert changed.status_code == 200, changed.text
    made = await client.post("/api/v1/tokens", json={"name": "calendar walk"}, headers=account.auth)
    assert made.status_code == 201, made.text
    return replace(account, token=made.json()["token"])


async def connect_at(
    client: httpx.AsyncClient, account: Account, sandbox: SandboxControl, moment: datetime, *, timezone: str
) -> Account:
    """At *moment* (our clock and the sandbox's): the author's zone set, LinkedIn connected. The
    sandbox's clock moves too (just behind ours), so the tokens and id_token it issues are valid then."""
    account = await lasting(client, account, timezone=timezone)
    sandbox.set_clock_for_sign_in(moment)
    with time_machine.travel(moment, tick=False):
        await connect(client, account)
    return account


async def run_everything_due(sessions: async_sessionmaker[AsyncSession], settings: Settings) -> int:
    """Claim and run every job due now (the clock may be moved), as an executor would."""
    runner = job_runner(sessions, settings)
    ran = 0
    while True:
        async with sessions() as session, session.begin():
            claimed = await ledger.claim_due(session, owner="test", limit=50, lease_s=30, start=True)
        if not claimed:
            return ran
        for job in claimed:
            await runner.run(job)
            ran += 1


async def run_at(moment: datetime, sessions: async_sessionmaker[AsyncSession], settings: Settings) -> int:
    """Stand at *moment* (the clock stopped) and run what is due then."""
    with time_machine.travel(moment, tick=False):
        return await run_everything_due(sessions, settings)


async def schedule(client: httpx.AsyncClient, account: Account, content_id: str, **body: Any) -> httpx.Response:
    return await client.post(
        f"/api/v1/content/{content_id}/schedule", json=body or {"slot": "next"}, headers=account.auth
    )


async def content(client: httpx.AsyncClient, account: Account, content_id: str) -> dict[str, Any]:
    answer = await client.get(f"/api/v1/content/{content_id}", headers=account.auth)
    assert answer.status_code == 200, answer.text
    body: dict[str, Any] = answer.json()
    return body


async def set_schedule(
    client: httpx.AsyncClient, account: Account, zone: str, slots: list[tuple[str, str]], *, capacity: int = 1
) -> dict[str, Any]:
    """Give the account's (first) LinkedIn connection these weekly slots in *zone*."""
    (integration,) = (await client.get("/api/v1/integrations", headers=account.auth)).json()
    answer = await client.put(
        f"/api/v1/integrations/{integration['id']}/schedule",
        json={"timezone": zone, "slots": [{"day": d, "time": t} for d, t in slots], "capacity": capacity},
        headers=account.auth,
    )
    assert answer.status_code == 200, answer.text
    body: dict[str, Any] = answer.json()
    return body
