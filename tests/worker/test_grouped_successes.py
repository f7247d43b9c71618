"""Successes that carry the job's own writes (`JobContext.finish_with`, how publish jobs store their
URNs) are recorded many to a transaction: SQLite's one write lock is taken once for a batch. Each
job's writes still happen exactly when its own success does: a bad item fails its job only, and a
job whose attempt lost its lease writes nothing."""

from __future__ import annotations

import asyncio

from sqlalchemy import select
from sqlalchemy.ext.asyncio import AsyncSession, async_sessionmaker

import tests.support.jobkinds  # noqa: F401
from autopilot.config import Settings
from autopilot.notifications.models import Alert
from autopilot.worker import ledger
from tests.support.jobs import an_org, get_job, job_runner


async def run_together(
    sessions: async_sessionmaker[AsyncSession], settings: Settings, messages: list[str]
) -> dict[str, tuple[int, str]]:
    """Enqueue one `test.note_together` job per message, claim them all and run them at once, as
    the in-process executor does: {message: (job id, outcome)}."""
    org = await an_org(sessions)
    async with sessions() as session, session.begin():
        ids = {
            m: await ledger.enqueue(session, kind="test.note_together", payload={"message": m}, org_id=org)
            for m in messages
        }
    async with sessions() as session, session.begin():
        claimed = await ledger.claim_due(session, owner="test", limit=len(messages), lease_s=30, start=True)
    runner = job_runner(sessions, settings)
    outcomes = dict(zip([c.id for c in claimed], await asyncio.gather(*(runner.run(c) for c in claimed)), strict=True))
    return {m: (job_id, outcomes[job_id]) for m, job_id in ids.items()}


async def notes(sessions: async_sessionmaker[AsyncSession]) -> dict[int, str]:
    async with sessions() as session:
        return {int(j or 0): m for j, m in (await session.execute(select(Alert.job_id, Alert.message))).all()}


async def test_many_successes_share_one_transaction_and_each_writes_once(
    settings: Settings, sessions: async_sessionmaker[AsyncSession]
) -> None:
    ran = await run_together(sessions, settings, [f"note {i}" for i in range(20)])

    assert {outcome for _id, outcome in ran.values()} == {"succeeded"}
    written = await notes(sessions)
    assert sorted(written) == sorted(job_id for job_id, _o in ran.values())  # each job's note, once
    batch_sizes = [int(m.rsplit(" of ", 1)[1].rstrip(")")) for m in written.values()]
    assert max(batch_sizes) > 1  # grouped: not a transaction per job
    assert len(batch_sizes) / max(batch_sizes) < 20


async def test_a_bad_item_fails_its_own_job_and_the_others_are_recorded(
    settings: Settings, sessions: async_sessionmaker[AsyncSession]
) -> None:
    ran = await run_together(sessions, settings, [*(f"note {i}" for i in range(7)), "poison"])

    poisoned, outcome = ran.pop("poison")
    assert outcome == "retry_wait"
    job = await get_job(sessions, poisoned)
    assert job.error_class == "ambiguous"  # the next attempt reconciles first, as for any lost success
    assert {outcome for _id, outcome in ran.values()} == {"succeeded"}
    written = await notes(sessions)
    assert sorted(written) == sorted(job_id for job_id, _o in ran.values())
    assert poisoned not in written


async def test_an_attempt_that_lost_its_job_writes_nothing(
    settings: Settings, sessions: async_sessionmaker[AsyncSession]
) -> None:
    ran = await run_together(sessions, settings, ["note 1", "fenced", "note 2"])

    fenced, outcome = ran.pop("fenced")
    assert outcome == "fenced"
    written = await notes(sessions)
    assert fenced not in written
    assert sorted(written) == sorted(job_id for job_id, _o in ran.values())
