"""A job a broker delivered while PostgreSQL refused new connections (every slot taken) still
starts within seconds, not two minutes later when its lease expires and the reaper takes it back."""

from __future__ import annotations

import asyncio
import uuid
from collections.abc import AsyncIterator

import asyncpg
import pytest
from sqlalchemy.engine import make_url
from sqlalchemy.ext.asyncio import AsyncSession, async_sessionmaker

import tests.support.jobkinds  # noqa: F401
from autopilot.config import Settings
from autopilot.kit.db import make_engine, make_sessionmaker
from autopilot.worker import ledger
from tests.support.jobs import an_org, get_job, job_runner

pytestmark = pytest.mark.parametrize("database_url", ["postgresql"], indirect=True)


@pytest.fixture
async def one_connection_role(database_url: str) -> AsyncIterator[str]:
    """A login role PostgreSQL lets open a single connection; the URL that logs in with it."""
    role = f"autopilot_one_{uuid.uuid4().hex[:8]}"
    admin = make_engine(database_url)
    async with admin.begin() as conn:
        await conn.exec_driver_sql(f"CREATE ROLE {role} LOGIN CONNECTION LIMIT 1")
        await conn.exec_driver_sql(f"GRANT ALL ON ALL TABLES IN SCHEMA public TO {role}")
        await conn.exec_driver_sql(f"GRANT ALL ON ALL SEQUENCES IN SCHEMA public TO {role}")
    try:
        yield make_url(database_url).set(username=role).render_as_string(hide_password=False)
    finally:
        async with admin.begin() as conn:
            await conn.exec_driver_sql(f"DROP OWNED BY {role}")
            await conn.exec_driver_sql(f"DROP ROLE {role}")
        await admin.dispose()


async def test_a_delivered_job_starts_once_the_database_takes_connections_again(
    settings: Settings, sessions: async_sessionmaker[AsyncSession], one_connection_role: str
) -> None:
    org_id = await an_org(sessions)
    async with sessions() as session, session.begin():
        job_id = await ledger.enqueue(session, kind="test.note", payload={"message": "hi"}, org_id=org_id)
    async with sessions() as session, session.begin():
        await ledger.claim_due(session, owner="dispatcher", limit=1, lease_s=120, start=False)
    limited = make_engine(one_connection_role, connections=1)
    hog = await asyncpg.connect(one_connection_role.replace("postgresql+asyncpg", "postgresql"))
    try:
        runner = job_runner(make_sessionmaker(limited), replace_lease(settings))
        delivered = asyncio.create_task(runner.run_delivered(job_id))
        await asyncio.sleep(0.6)  # the outage: every start tried meanwhile is refused ("too many connections")
        assert not delivered.done()
        await hog.close()
        assert await asyncio.wait_for(delivered, timeout=30) == "succeeded"
    finally:
        await limited.dispose()
    job = await get_job(sessions, job_id)
    assert (job.status, job.attempt) == ("succeeded", 1)


def replace_lease(settings: Settings) -> Settings:
    return settings.model_copy(update={"lease_s": 120})
