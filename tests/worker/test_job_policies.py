"""Each error class gets its own policy: backoff, Retry-After, hold, fail fast, reconcile first."""

from __future__ import annotations

import uuid
from datetime import timedelta
from typing import Any

from sqlalchemy import select
from sqlalchemy.ext.asyncio import AsyncSession, async_sessionmaker

import tests.support.jobkinds  # noqa: F401
from autopilot.config import Settings
from autopilot.kit.time import utcnow
from autopilot.notifications.models import Alert
from autopilot.worker import ledger
from autopilot.worker.models import Job
from autopilot.worker.runner import JobRunner, idempotency_key
from tests.support.jobs import an_org, get_job, job_runner, run_due

CLOSED_PORT = "http://127.0.0.1:9/effect"  # nothing listens: the request never leaves


async def setup(
    sessions: async_sessionmaker[AsyncSession], settings: Settings, payload: dict[str, Any], **options: Any
) -> tuple[uuid.UUID, int, JobRunner]:
    org_id = await an_org(sessions)
    async with sessions() as session, session.begin():
        job_id = await ledger.enqueue(session, kind="test.call", payload=payload, org_id=org_id, **options)
    return org_id, job_id, job_runner(sessions, settings, owner="test-runner")


async def alerts(sessions: async_sessionmaker[AsyncSession], org_id: uuid.UUID) -> list[str]:
    async with sessions() as session:
        return list(await session.scalars(select(Alert.kind).where(Alert.org_id == org_id)))


async def test_transient_failures_back_off_exponentially_then_die_and_alert_owners(
    sessions: async_sessionmaker[AsyncSession],
    settings: Settings,
) -> None:
    org_id, job_id, runner = await setup(sessions, settings, {"url": CLOSED_PORT}, max_attempts=3)
    waits = []
    at = utcnow()
    for _ in range(2):
        before = utcnow()
        assert await run_due(sessions, runner, at=at) == "retry_wait"
        job = await get_job(sessions, job_id)
        assert job.error_class == "transient"
        waits.append((job.run_at - before).total_seconds())
        at = job.run_at
    assert 0.9 <= waits[0] <= 2.1  # attempt 1: within [1, 2] s
    assert 1.9 <= waits[1] <= 4.1  # attempt 2: within [2, 4] s
    assert await run_due(sessions, runner, at=at) == "dead"
    job = await get_job(sessions, job_id)
    assert (job.status, job.attempt) == ("dead", 3)
    assert "could not connect" in (job.last_error or "")
    assert await alerts(sessions, org_id) == ["job_dead"]


async def test_rate_limited_waits_for_retry_after_without_using_an_attempt(
    sessions: async_sessionmaker[AsyncSession], settings: Settings, recorder: Any
) -> None:
    _org, job_id, runner = await setup(
        sessions, settings, {"url": recorder.url(fail=1, status=429, retry_after=120)}, max_attempts=1
    )
    before = utcnow()
    assert await run_due(sessions, runner) == "retry_wait"
    job = await get_job(sessions, job_id)
    assert job.error_class == "rate_limited"
    assert 119 <= (job.run_at - before).total_seconds() <= 121
    assert job.max_attempts == 2  # the 429 did not use up the only attempt
    async with sessions() as session, session.begin():
        assert await ledger.claim_due(session, owner="t", limit=1, lease_s=30, start=True) == []  # not before
    assert await run_due(sessions, runner, at=job.run_at) == "succeeded"
    records = recorder.records()
    assert len(records["requests"]) == 2  # refused once, then accepted
    assert list(records["effects"].values()) == [1]


async def test_auth_failure_holds_the_job_without_burning_attempts_until_retried(
    sessions: async_sessionmaker[AsyncSession], settings: Settings, recorder: Any
) -> None:
    org_id, job_id, runner = await setup(sessions, settings, {"url": recorder.url(fail=1, status=401)}, max_attempts=1)
    assert await run_due(sessions, runner) == "held"
    job = await get_job(sessions, job_id)
    assert (job.status, job.error_class, job.attempt, job.max_attempts) == ("held", "auth", 1, 2)
    assert "reconnect" in (job.last_error or "")
    assert await alerts(sessions, org_id) == ["job_held"]
    async with sessions() as session, session.begin():  # a held job is never claimed
        assert (
            await ledger.claim_due(
                session, owner="t", limit=5, lease_s=30, start=True, now=utcnow() + timedelta(days=1)
            )
            == []
        )


async def test_permanent_failure_fails_at_once_with_the_reason(
    sessions: async_sessionmaker[AsyncSession], settings: Settings, recorder: Any
) -> None:
    org_id, job_id, runner = await setup(sessions, settings, {"url": recorder.url(fail=9, status=422)}, max_attempts=5)
    assert await run_due(sessions, runner) == "failed"
    job = await get_job(sessions, job_id)
    assert (job.status, job.attempt, job.error_class) == ("failed", 1, "permanent")
    assert "HTTP 422" in (job.last_error or "")
    assert await alerts(sessions, org_id) == ["job_failed"]


async def test_ambiguous_outcome_is_reconciled_before_any_retry(
    sessions: async_sessionmaker[AsyncSession], settings: Settings, recorder: Any
) -> None:
    payload = {"url": recorder.url(lose=1), "reconcile_url": f"{recorder.base}/seen"}
    _org, job_id, runner = await setup(sessions, settings, payload)
    assert await run_due(sessions, runner) == "retry_wait"  # effect applied, answer lost (502)
    job = await get_job(sessions, job_id)
    assert job.error_class == "ambiguous"
    assert await run_due(sessions, runner, at=job.run_at) == "succeeded"
    records = recorder.records()
    assert len(records["lookups"]) == 1  # the second attempt asked first
    assert len(records["requests"]) == 1  # the reconcile step saw the effect: no second call
    assert list(records["effects"].values()) == [1]


async def test_without_a_reconcile_lookup_the_retry_reuses_the_idempotency_key(
    sessions: async_sessionmaker[AsyncSession], settings: Settings, recorder: Any
) -> None:
    # A handler without a reconcile step calls again; only the remote side honouring the job's
    # idempotency key prevents the duplicate (decision 0003). This remote honours it
    # (idempotent=1, opted in here alone): what this test proves is that both requests carry the
    # same key; the single effect is the remote's doing.
    _org, job_id, runner = await setup(sessions, settings, {"url": recorder.url(lose=1, idempotent=1)})
    assert await run_due(sessions, runner) == "retry_wait"
    job = await get_job(sessions, job_id)
    assert await run_due(sessions, runner, at=job.run_at) == "succeeded"
    records = recorder.records()
    assert records["lookups"] == []  # there is no reconcile step to run
    assert [attempt for _key, attempt, _t in records["requests"]] == [1, 2]
    (key,) = {key for key, _attempt, _t in records["requests"]}  # the same key both times
    assert key == idempotency_key(job_id, "test.call")
    assert records["effects"] == {key: 1}  # so the remote applied it once


async def test_a_successful_run_commits_and_clears_the_error(
    sessions: async_sessionmaker[AsyncSession], settings: Settings, recorder: Any
) -> None:
    _org, job_id, runner = await setup(sessions, settings, {"url": recorder.url()})
    assert await run_due(sessions, runner) == "succeeded"
    async with sessions() as session:
        job = await session.scalar(select(Job).where(Job.id == job_id))
    assert job is not None and job.finished_at is not None and job.last_error is None
    records = recorder.records()
    assert len(records["requests"]) == 1 and list(records["effects"].values()) == [1]


async def notes(sessions: async_sessionmaker[AsyncSession]) -> list[str]:
    async with sessions() as session:
        return list(await session.scalars(select(Alert.message).where(Alert.kind == "note")))


async def test_a_handlers_writes_commit_with_its_success(
    sessions: async_sessionmaker[AsyncSession], settings: Settings
) -> None:
    org_id = await an_org(sessions)
    async with sessions() as session, session.begin():
        job_id = await ledger.enqueue(session, kind="test.note", payload={"message": "kept"}, org_id=org_id)
    runner = job_runner(sessions, settings, owner="t")
    assert await run_due(sessions, runner) == "succeeded"
    assert await notes(sessions) == ["kept"]
    assert (await get_job(sessions, job_id)).status == "succeeded"


async def test_a_handlers_writes_are_dropped_when_its_lease_was_lost(
    sessions: async_sessionmaker[AsyncSession],
    settings: Settings,
) -> None:
    org_id = await an_org(sessions)
    async with sessions() as session, session.begin():
        job_id = await ledger.enqueue(session, kind="test.note", payload={"message": "late"}, org_id=org_id)
    async with sessions() as session, session.begin():
        (slow,) = await ledger.claim_due(session, owner="slow", limit=1, lease_s=1, start=True)
    async with sessions() as session, session.begin():  # the lease expires and the job is reclaimed
        await ledger.reap_expired(session, now=utcnow() + timedelta(seconds=5))
        await ledger.claim_due(
            session, owner="fast", limit=1, lease_s=30, start=True, now=utcnow() + timedelta(seconds=5)
        )
    runner = job_runner(sessions, settings, owner="slow")
    assert await runner.run(slow) == "fenced"
    assert await notes(sessions) == []
    assert (await get_job(sessions, job_id)).attempt == 2
