"""A web process started with the job engine off (AUTOPILOT_RUN_JOB_ENGINE=false) still enqueues
e-mails: it registers the manifest's job kinds like every process that may enqueue. A separate
`autopilot dispatcher` and `autopilot worker`, sharing only the database and the broker, send them."""

from __future__ import annotations

import asyncio
import os
import subprocess
import sys
import uuid
from collections.abc import Iterator
from pathlib import Path

import httpx
import pytest
from sqlalchemy import select

from autopilot.kit.db import make_engine, make_sessionmaker
from autopilot.worker.models import Job
from autopilot.worker.runner import idempotency_key
from tests.support.accounts import make_account
from tests.support.databases import REDIS_URL, redis_or_fail
from tests.support.mail import Inbox, smtp_server
from tests.support.processes import REPO, Processes
from tests.support.recorder import free_port, wait_http

EMAIL_KIND = "notifications.email"


@pytest.fixture
def smtp() -> Iterator[tuple[Inbox, int]]:
    with smtp_server() as server:
        yield server


async def email_jobs(url: str) -> list[tuple[int, str, int, str]]:
    """(id, status, attempt, recipient) of every e-mail job, read straight from the database."""
    engine = make_engine(url)
    try:
        async with make_sessionmaker(engine)() as session:
            jobs = await session.scalars(select(Job).where(Job.kind == EMAIL_KIND).order_by(Job.id))
            return [(j.id, j.status, j.attempt, j.payload["to"]) for j in jobs]
    finally:
        await engine.dispose()


def logs_of(directory: Path) -> str:
    return "\n".join(f"--- {p.name}\n{p.read_text(errors='replace')[-3000:]}" for p in sorted(directory.glob("*.log")))


@pytest.mark.slow
async def test_a_web_process_with_the_engine_off_enqueues_a_mail_that_a_separate_worker_sends(
    postgres: str, tmp_path: Path, smtp: tuple[Inbox, int]
) -> None:
    redis_or_fail()
    inbox, smtp_port = smtp
    web_port = free_port()
    processes = Processes(
        {
            "AUTOPILOT_ENV": "test",
            "AUTOPILOT_DATABASE_URL": postgres,
            "AUTOPILOT_DATA_DIR": str(tmp_path / "data"),
            "AUTOPILOT_PORT": str(web_port),
            "AUTOPILOT_RUN_JOB_ENGINE": "false",
            "AUTOPILOT_CELERY_BROKER_URL": REDIS_URL,
            "AUTOPILOT_CELERY_QUEUE": f"autopilot-test-{uuid.uuid4().hex[:8]}",  # no other test's workers
            "AUTOPILOT_DISPATCH_INTERVAL_S": "0.2",
            "AUTOPILOT_SMTP_HOST": "127.0.0.1",
            "AUTOPILOT_SMTP_PORT": str(smtp_port),
            "AUTOPILOT_JOB_MODULES": "",  # the manifest's kinds only, as in production
            "AUTOPILOT_LOG_LEVEL": "WARNING",
        },
        tmp_path,
    )
    try:
        processes.start("serve", name="web")
        await asyncio.to_thread(wait_http, f"http://127.0.0.1:{web_port}/healthz", 60)
        async with httpx.AsyncClient(base_url=f"http://127.0.0.1:{web_port}", timeout=30) as web:
            owner = await make_account(web, "owner@example.com", "Owner Co")
            # Signing up again with the owner's e-mail: the answer reveals nothing, the owner is
            # told by e-mail. The web process enqueues that e-mail in the request's transaction.
            again = await web.post(
                "/api/v1/auth/signup",
                json={"email": owner.email, "password": "another long passphrase 42", "organization_name": "X"},
            )
            assert again.status_code == 202, again.text
        ((job_id, status, attempt, to),) = await email_jobs(postgres)
        assert (status, attempt, to) == ("scheduled", 0, owner.email), "queued, and nothing here runs jobs"

        processes.start("dispatcher", name="dispatcher")
        processes.start("worker", "--concurrency=2", name="worker")
        try:
            async with asyncio.timeout(90):
                while not inbox.messages or (await email_jobs(postgres))[0][1] != "succeeded":
                    await asyncio.sleep(0.2)
        except TimeoutError:
            pytest.fail(f"the e-mail was not sent: {await email_jobs(postgres)}\n{logs_of(tmp_path)}")
    finally:
        processes.stop_all()
    (mail,) = inbox.messages
    assert mail["To"] == owner.email
    assert mail["Subject"] == "Someone tried to create an AutoPilot account with your e-mail"
    assert mail["Message-ID"] == f"<{idempotency_key(job_id, EMAIL_KIND)}@autopilot>"  # sent by that job
    assert await email_jobs(postgres) == [(job_id, "succeeded", 1, owner.email)]


ENQUEUE_FROM_A_FRESH_PROCESS = """
import asyncio, sys
from autopilot.worker import ledger

async def main(built_by: str) -> None:
    if built_by == "create_app":
        from autopilot.app import create_app

        app = create_app()  # AUTOPILOT_RUN_JOB_ENGINE=false: the engine stays off
        async with app.router.lifespan_context(app):
            assert app.state.job_engine is None
            async with app.state.sessions() as session, session.begin():
                job_id = await ledger.enqueue(
                    session, kind="notifications.email", org_id=None,
                    payload={"to": "owner@example.com", "subject": "s", "body": "b"},
                )
    else:  # the same enqueue from a process the manifest did not wire
        from autopilot.config import get_settings
        from autopilot.kit.db import make_engine, make_sessionmaker

        engine = make_engine(get_settings().sqlalchemy_url)
        async with make_sessionmaker(engine)() as session, session.begin():
            job_id = await ledger.enqueue(
                session, kind="notifications.email", org_id=None,
                payload={"to": "owner@example.com", "subject": "s", "body": "b"},
            )
        await engine.dispose()
    print(job_id)

asyncio.run(main(sys.argv[1]))
"""


def enqueue_in_a_fresh_process(built_by: str, database_url: str, tmp_path: Path) -> subprocess.CompletedProcess[str]:
    # A fresh interpreter: in this one, other tests have long registered every job kind.
    env = {
        **os.environ,
        "PYTHONPATH": str(REPO),
        "AUTOPILOT_ENV": "test",
        "AUTOPILOT_DATABASE_URL": database_url,
        "AUTOPILOT_DATA_DIR": str(tmp_path / "data"),
        "AUTOPILOT_RUN_JOB_ENGINE": "false",
        "AUTOPILOT_JOB_MODULES": "",
        "AUTOPILOT_LOG_LEVEL": "WARNING",
    }
    return subprocess.run(
        [sys.executable, "-c", ENQUEUE_FROM_A_FRESH_PROCESS, built_by],
        cwd=REPO,
        env=env,
        capture_output=True,
        text=True,
        timeout=120,
    )


async def test_an_app_built_with_the_engine_off_can_enqueue_an_email(database_url: str, tmp_path: Path) -> None:
    built = enqueue_in_a_fresh_process("create_app", database_url, tmp_path)
    assert built.returncode == 0, built.stderr
    job_id = int(built.stdout.split()[-1])
    ((found, status, attempt, to),) = await email_jobs(database_url)
    assert (found, status, attempt, to) == (job_id, "scheduled", 0, "owner@example.com")
    # Without the manifest's wiring the same call is refused: what a web process did before.
    bare = enqueue_in_a_fresh_process("nothing", database_url, tmp_path)
    assert bare.returncode != 0
    assert "no job handler is registered for kind 'notifications.email'" in bare.stderr
