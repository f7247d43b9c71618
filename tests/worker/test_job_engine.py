"""The in-process engine as `autopilot serve` runs it."""

from __future__ import annotations

import asyncio
from typing import Any

from sqlalchemy.ext.asyncio import AsyncSession, async_sessionmaker

import tests.support.jobkinds  # noqa: F401
from autopilot.config import Settings
from autopilot.worker import ledger
from tests.support.jobs import job_engine, wait_for_status

CLOSED_PORT = "http://127.0.0.1:9/effect"


async def test_a_job_enqueued_due_now_starts_without_waiting_for_the_next_poll(
    settings: Settings, sessions: async_sessionmaker[AsyncSession], recorder: Any
) -> None:
    # Polling every 10 minutes: only the commit's wake-up can start the job within the test's limit.
    engine = job_engine(settings.model_copy(update={"dispatch_interval_s": 600}), sessions).start()
    try:
        await asyncio.sleep(0.2)  # let the first (empty) tick pass
        async with sessions() as session, session.begin():
            job_id = await ledger.enqueue(session, kind="test.call", payload={"url": recorder.url()}, org_id=None)
        await wait_for_status(sessions, job_id, "succeeded", timeout=10)
    finally:
        await engine.stop()
    records = recorder.records()
    assert list(records["effects"].values()) == [1]  # the effect applied once
    assert len(records["requests"]) == 1  # by one request


async def test_the_engine_runs_a_batch_with_each_effect_once(
    settings: Settings, sessions: async_sessionmaker[AsyncSession], recorder: Any
) -> None:
    engine = job_engine(settings, sessions).start()
    try:
        async with sessions() as session, session.begin():
            ids = [
                await ledger.enqueue(session, kind="test.call", payload={"url": recorder.url(delay=0.01)}, org_id=None)
                for _ in range(200)
            ]
        for job_id in ids:
            await wait_for_status(sessions, job_id, "succeeded")
    finally:
        await engine.stop()
    records = recorder.records()
    effects = records["effects"]  # the recorder applies every request it gets: a duplicate counts 2
    assert len(effects) == 200, "every job's effect took place"
    assert set(effects.values()) == {1}, "no effect applied twice"
    assert len(records["requests"]) == 200, "one request per job"
