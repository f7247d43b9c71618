"""Running the engine's parts in a test, wired exactly as the app wires them (from the manifest)."""

from __future__ import annotations

import asyncio
import uuid
from typing import Any

from sqlalchemy import func, select
from sqlalchemy.ext.asyncio import AsyncSession, async_sessionmaker

from autopilot import domains
from autopilot.accounts.models import Organization
from autopilot.config import Settings
from autopilot.worker import ledger
from autopilot.worker.models import Job
from autopilot.worker.registry import JobServices
from autopilot.worker.runner import JobRunner
from autopilot.worker.runtime import JobEngine


def job_runner(sessions: async_sessionmaker[AsyncSession], settings: Settings, owner: str = "test-runner") -> JobRunner:
    """A runner as an executor has one: manifest handlers, the notifications listener, services."""
    return JobRunner(
        sessions,
        owner=owner,
        services=JobServices.for_settings(settings),
        outcomes=domains.engine_wiring(settings).outcomes,
    )


def job_engine(settings: Settings, sessions: async_sessionmaker[AsyncSession]) -> JobEngine:
    """The in-process engine as `autopilot serve` builds it (not started)."""
    return JobEngine(settings, sessions, domains.engine_wiring(settings))


async def run_due(sessions: async_sessionmaker[AsyncSession], runner: JobRunner, *, at: Any = None) -> str:
    """Claim what is due at *at* (default now) and run it, as the in-process executor does."""
    async with sessions() as session, session.begin():
        (claimed,) = await ledger.claim_due(session, owner="test", limit=1, lease_s=30, start=True, now=at)
    return await runner.run(claimed)


async def an_org(sessions: async_sessionmaker[AsyncSession]) -> uuid.UUID:
    async with sessions() as session, session.begin():
        org = Organization(name="Jobs Co")
        session.add(org)
        await session.flush()
        return org.id


async def get_job(sessions: async_sessionmaker[AsyncSession], job_id: int) -> Job:
    async with sessions() as session:
        job = await session.get(Job, job_id)
        assert job is not None
        return job


async def job_count(sessions: async_sessionmaker[AsyncSession]) -> int:
    async with sessions() as session:
        return int(await session.scalar(select(func.count()).select_from(Job)) or 0)


async def wait_for_status(
    sessions: async_sessionmaker[AsyncSession], job_id: int, status: str, timeout: float = 15
) -> None:
    async with asyncio.timeout(timeout):
        while (await get_job(sessions, job_id)).status != status:
            await asyncio.sleep(0.05)
