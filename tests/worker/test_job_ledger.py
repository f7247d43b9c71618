"""The jobs ledger: outbox enqueue, dedupe, claims that never overlap, fencing, lease expiry."""

from __future__ import annotations

import asyncio
from datetime import timedelta
from typing import Any

import pytest
from sqlalchemy import select
from sqlalchemy.ext.asyncio import AsyncSession, async_sessionmaker

import tests.support.jobkinds  # noqa: F401
from autopilot.kit.errors import Unprocessable
from autopilot.kit.time import utcnow
from autopilot.worker import ledger
from autopilot.worker.models import Job
from tests.support.jobs import an_org, get_job, job_count, job_engine

URL = {"url": "http://127.0.0.1:9/effect"}


async def test_a_rolled_back_request_leaves_no_job_and_a_committed_one_keeps_it(
    sessions: async_sessionmaker[AsyncSession],
) -> None:
    org_id = await an_org(sessions)
    async with sessions() as session:
        await ledger.enqueue(session, kind="test.call", payload=URL, org_id=org_id)
        await session.rollback()
    assert await job_count(sessions) == 0
    async with sessions() as session, session.begin():
        await ledger.enqueue(session, kind="test.call", payload=URL, org_id=org_id)
    assert await job_count(sessions) == 1


async def test_unknown_kinds_and_bad_payloads_are_refused(sessions: async_sessionmaker[AsyncSession]) -> None:
    async with sessions() as session:
        with pytest.raises(Unprocessable, match="no job handler"):
            await ledger.enqueue(session, kind="nope", payload={}, org_id=None)
        with pytest.raises(ValueError, match="url"):
            await ledger.enqueue(session, kind="test.call", payload={}, org_id=None)


async def test_the_same_dedupe_key_enqueues_once_per_organization(sessions: async_sessionmaker[AsyncSession]) -> None:
    org_a, org_b = await an_org(sessions), await an_org(sessions)
    async with sessions() as session, session.begin():
        first = await ledger.enqueue(session, kind="test.call", payload=URL, org_id=org_a, dedupe_key="post-1")
        again = await ledger.enqueue(session, kind="test.call", payload=URL, org_id=org_a, dedupe_key="post-1")
        other = await ledger.enqueue(session, kind="test.call", payload=URL, org_id=org_b, dedupe_key="post-1")
    assert first == again != other
    assert await job_count(sessions) == 2


async def test_only_due_jobs_are_claimed_oldest_first(sessions: async_sessionmaker[AsyncSession]) -> None:
    org_id = await an_org(sessions)
    now = utcnow()
    async with sessions() as session, session.begin():
        later = await ledger.enqueue(
            session, kind="test.call", payload=URL, org_id=org_id, run_at=now + timedelta(hours=1)
        )
        newer = await ledger.enqueue(
            session, kind="test.call", payload=URL, org_id=org_id, run_at=now - timedelta(seconds=1)
        )
        older = await ledger.enqueue(
            session, kind="test.call", payload=URL, org_id=org_id, run_at=now - timedelta(seconds=5)
        )
    async with sessions() as session, session.begin():
        claimed = await ledger.claim_due(session, owner="t", limit=10, lease_s=30, start=False, now=now)
    assert [c.id for c in claimed] == [older, newer]
    assert all(c.attempt == 1 for c in claimed)
    assert (await get_job(sessions, later)).status == "scheduled"


async def test_concurrent_claimers_never_claim_the_same_job(sessions: async_sessionmaker[AsyncSession]) -> None:
    org_id = await an_org(sessions)
    async with sessions() as session, session.begin():
        for _ in range(300):
            await ledger.enqueue(session, kind="test.call", payload=URL, org_id=org_id)

    async def claimer(name: str) -> list[int]:
        got: list[int] = []
        while True:
            async with sessions() as session, session.begin():
                batch = await ledger.claim_due(session, owner=name, limit=7, lease_s=30, start=False)
            if not batch:
                return got
            got.extend(c.id for c in batch)

    results = await asyncio.gather(*(claimer(f"d{i}") for i in range(6)))
    every = [i for r in results for i in r]
    assert len(every) == len(set(every)) == 300


async def test_a_late_finish_from_a_lost_lease_changes_nothing(sessions: async_sessionmaker[AsyncSession]) -> None:
    org_id = await an_org(sessions)
    async with sessions() as session, session.begin():
        job_id = await ledger.enqueue(session, kind="test.call", payload=URL, org_id=org_id)
    async with sessions() as session, session.begin():
        (first,) = await ledger.claim_due(session, owner="slow", limit=1, lease_s=1, start=True)
    later = utcnow() + timedelta(seconds=5)
    async with sessions() as session, session.begin():
        reaped = await ledger.reap_expired(session, now=later)
    assert [(r.id, r.status) for r in reaped] == [(job_id, "retry_wait")]
    async with sessions() as session, session.begin():
        (second,) = await ledger.claim_due(session, owner="fast", limit=1, lease_s=30, start=True, now=later)
    assert (second.attempt, second.error_class) == (2, "lease_expired")
    async with sessions() as session, session.begin():
        assert await ledger.succeed(session, job_id, first.attempt) is False  # fenced out
        assert await ledger.succeed(session, job_id, second.attempt) is True
    job = await get_job(sessions, job_id)
    assert (job.status, job.attempt) == ("succeeded", 2)


async def test_a_claim_that_never_started_is_returned_without_using_an_attempt(
    sessions: async_sessionmaker[AsyncSession],
) -> None:
    org_id = await an_org(sessions)
    async with sessions() as session, session.begin():
        job_id = await ledger.enqueue(session, kind="test.call", payload=URL, org_id=org_id, max_attempts=3)
    async with sessions() as session, session.begin():
        await ledger.claim_due(session, owner="lost-message", limit=1, lease_s=1, start=False)
    async with sessions() as session, session.begin():
        await ledger.reap_expired(session, now=utcnow() + timedelta(seconds=5))
    job = await get_job(sessions, job_id)
    assert (job.status, job.attempt, job.max_attempts, job.error_class) == ("scheduled", 1, 4, None)


async def test_a_duplicate_delivery_starts_the_attempt_only_once(sessions: async_sessionmaker[AsyncSession]) -> None:
    org_id = await an_org(sessions)
    async with sessions() as session, session.begin():
        job_id = await ledger.enqueue(session, kind="test.call", payload=URL, org_id=org_id)
    async with sessions() as session, session.begin():
        await ledger.claim_due(session, owner="d", limit=1, lease_s=30, start=False)

    async def deliver() -> bool:
        async with sessions() as session, session.begin():
            return bool(await ledger.start_many(session, [job_id], owner="w", lease_s=30))

    assert sorted(await asyncio.gather(deliver(), deliver())) == [False, True]


async def test_housekeeping_deletes_old_successes_but_keeps_failures_and_recent_work(
    settings: Any, sessions: async_sessionmaker[AsyncSession]
) -> None:
    from sqlalchemy import update

    org_id = await an_org(sessions)
    async with sessions() as session, session.begin():
        ids = [await ledger.enqueue(session, kind="test.call", payload=URL, org_id=org_id) for _ in range(4)]
    long_ago = utcnow() - timedelta(days=31)
    async with sessions() as session, session.begin():
        for job_id, status, finished in zip(
            ids, ["succeeded", "cancelled", "dead", "succeeded"], [long_ago, long_ago, long_ago, utcnow()], strict=True
        ):
            await session.execute(update(Job).where(Job.id == job_id).values(status=status, finished_at=finished))
    engine = job_engine(settings, sessions)  # not started: housekeeping is called directly
    try:
        assert await engine.dispatcher.housekeeping() == 2
    finally:
        await engine.stop()
    async with sessions() as session:
        left = sorted((await session.execute(select(Job.id, Job.status))).all())
    assert left == [(ids[2], "dead"), (ids[3], "succeeded")]
