"""A finish that could not be recorded is ambiguous: the effect took place but the ledger does not
know it, so the next attempt must run the kind's reconcile step instead of calling again
(decision 0003). The fault is injected in the real database: a trigger refuses to mark jobs
succeeded, then is dropped."""

from __future__ import annotations

from collections.abc import AsyncIterator
from contextlib import asynccontextmanager
from typing import Any

import pytest
from sqlalchemy import select, text
from sqlalchemy.ext.asyncio import AsyncSession, async_sessionmaker

import tests.support.jobkinds  # noqa: F401
from autopilot.config import Settings
from autopilot.notifications.models import Alert
from autopilot.worker import ledger
from autopilot.worker.runner import idempotency_key
from tests.support.jobs import an_org, get_job, job_runner, run_due

REFUSE_SUCCESS = {
    "sqlite": [
        "CREATE TRIGGER refuse_success BEFORE UPDATE OF status ON jobs WHEN NEW.status = 'succeeded' "
        "BEGIN SELECT RAISE(ABORT, 'injected fault: success not recorded'); END",
    ],
    "postgresql": [
        "CREATE FUNCTION refuse_success() RETURNS trigger LANGUAGE plpgsql AS $$ "
        "BEGIN RAISE EXCEPTION 'injected fault: success not recorded'; END $$",
        "CREATE TRIGGER refuse_success BEFORE UPDATE OF status ON jobs FOR EACH ROW "
        "WHEN (NEW.status = 'succeeded') EXECUTE FUNCTION refuse_success()",
    ],
}
ALLOW_SUCCESS = {
    "sqlite": ["DROP TRIGGER refuse_success"],
    "postgresql": ["DROP TRIGGER refuse_success ON jobs", "DROP FUNCTION refuse_success()"],
}


async def _execute(sessions: async_sessionmaker[AsyncSession], statements: dict[str, list[str]]) -> None:
    async with sessions() as session, session.begin():
        for statement in statements[session.get_bind().dialect.name]:
            await session.execute(text(statement))


@asynccontextmanager
async def success_cannot_be_recorded(sessions: async_sessionmaker[AsyncSession]) -> AsyncIterator[None]:
    """While inside, the database refuses every write that marks a job succeeded."""
    await _execute(sessions, REFUSE_SUCCESS)
    try:
        yield
    finally:
        await _execute(sessions, ALLOW_SUCCESS)


async def notes(sessions: async_sessionmaker[AsyncSession]) -> list[str]:
    async with sessions() as session:
        return list(await session.scalars(select(Alert.message).where(Alert.kind == "note")))


@pytest.mark.parametrize(
    "kind",
    [
        "test.call",  # the handler writes nothing: the runner records the success in a batch
        "test.call_and_note",  # the handler writes: its writes and the success share one transaction
    ],
)
async def test_a_finish_that_could_not_be_recorded_is_reconciled_before_anything_runs_again(
    kind: str, sessions: async_sessionmaker[AsyncSession], settings: Settings, recorder: Any
) -> None:
    org_id = await an_org(sessions)
    payload = {"url": recorder.url(), "reconcile_url": f"{recorder.base}/seen"}
    async with sessions() as session, session.begin():
        job_id = await ledger.enqueue(session, kind=kind, payload=payload, org_id=org_id)
    key = idempotency_key(job_id, kind)
    runner = job_runner(sessions, settings)

    async with success_cannot_be_recorded(sessions):
        assert await run_due(sessions, runner) == "retry_wait"
    job = await get_job(sessions, job_id)
    assert (job.status, job.error_class, job.attempt) == ("retry_wait", "ambiguous", 1)
    assert "recording its success failed" in (job.last_error or "")
    assert "checks whether it took effect" in (job.last_error or "")
    assert recorder.records()["effects"] == {key: 1}  # the effect took place all the same
    assert await notes(sessions) == []  # the handler's own writes went down with the success

    assert await run_due(sessions, runner, at=job.run_at) == "succeeded"
    records = recorder.records()
    assert records["lookups"] == [key]  # the second attempt asked the outside world first,
    assert [attempt for _key, attempt, _t in records["requests"]] == [1]  # found the effect, did not call again
    assert records["effects"] == {key: 1}  # so it was applied exactly once
    job = await get_job(sessions, job_id)
    assert (job.status, job.attempt, job.last_error, job.error_class) == ("succeeded", 2, None, None)
