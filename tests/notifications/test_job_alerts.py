"""Owners hear about trouble: late work and dead jobs raise an in-app alert and, with SMTP
configured, an e-mail delivered through a real SMTP server on loopback."""

from __future__ import annotations

import asyncio
import uuid
from collections.abc import Iterator
from datetime import timedelta
from typing import Any

import httpx
import pytest
from sqlalchemy.ext.asyncio import AsyncSession, async_sessionmaker

import tests.support.jobkinds  # noqa: F401
from autopilot.config import Settings
from autopilot.kit.time import utcnow
from autopilot.worker import ledger
from tests.support.accounts import Account
from tests.support.jobs import job_engine
from tests.support.mail import Inbox, smtp_server


@pytest.fixture
def smtp() -> Iterator[tuple[Inbox, int]]:
    with smtp_server() as server:
        yield server


async def alert_kinds(client: httpx.AsyncClient, account: Account) -> list[str]:
    return [a["kind"] for a in (await client.get("/api/v1/alerts", headers=account.auth)).json()]


async def test_late_work_alerts_the_owners_once_in_app_and_by_email(
    app: Any,
    settings: Settings,
    client: httpx.AsyncClient,
    alice: Account,
    recorder: Any,
    smtp: tuple[Inbox, int],
) -> None:
    inbox, port = smtp
    sessions: async_sessionmaker[AsyncSession] = app.state.sessions
    async with sessions() as session, session.begin():
        for _ in range(3):  # due two minutes ago, started now: p99 lateness 120 s > 60 s
            await ledger.enqueue(
                session,
                kind="test.call",
                payload={"url": recorder.url()},
                org_id=uuid.UUID(alice.org_id),
                run_at=utcnow() - timedelta(minutes=2),
            )
    engine = job_engine(settings.model_copy(update={"smtp_host": "127.0.0.1", "smtp_port": port}), sessions).start()
    try:
        async with asyncio.timeout(20):
            while (await client.get("/api/v1/jobs/health", headers=alice.auth)).json()["backlog"]:
                await asyncio.sleep(0.05)
        # The lateness check runs on the engine's first tick and then each minute: restart to run it now.
        await engine.stop()
        engine = job_engine(settings.model_copy(update={"smtp_host": "127.0.0.1", "smtp_port": port}), sessions)
        engine.start()
        async with asyncio.timeout(20):
            while not inbox.messages:
                await asyncio.sleep(0.05)
    finally:
        await engine.stop()
    assert await alert_kinds(client, alice) == ["jobs_late"]  # once, even though the check ran twice
    (mail,) = inbox.messages
    assert mail["To"] == alice.email
    assert "jobs late" in mail["Subject"]
    assert "p99 lateness" in mail.get_payload()


async def test_a_dead_job_alerts_the_owners_by_email(
    app: Any, settings: Settings, client: httpx.AsyncClient, alice: Account, smtp: tuple[Inbox, int]
) -> None:
    inbox, port = smtp
    sessions: async_sessionmaker[AsyncSession] = app.state.sessions
    async with sessions() as session, session.begin():
        await ledger.enqueue(
            session,
            kind="test.call",
            payload={"url": "http://127.0.0.1:9/effect"},
            org_id=uuid.UUID(alice.org_id),
            max_attempts=1,
        )
    engine = job_engine(settings.model_copy(update={"smtp_host": "127.0.0.1", "smtp_port": port}), sessions).start()
    try:
        async with asyncio.timeout(20):
            while not inbox.messages:
                await asyncio.sleep(0.05)
    finally:
        await engine.stop()
    assert await alert_kinds(client, alice) == ["job_dead"]
    assert "died after attempt 1" in inbox.messages[0].get_payload()
