"""Engine health shows which hosts and processes run the engine to operators only (flag set with
`autopilot operator grant`); members of a tenant see how many workers are alive, nothing more."""

from __future__ import annotations

import asyncio
import os
import socket

import httpx
from fastapi import FastAPI

from autopilot.config import Settings
from tests.support.accounts import Account
from tests.support.cli import autopilot
from tests.support.jobs import job_engine

PROCESS = f"{socket.gethostname()}:{os.getpid()}"  # how the engine's processes are named


def cli_env(settings: Settings) -> dict[str, str]:
    return {"AUTOPILOT_DATABASE_URL": settings.sqlalchemy_url, "AUTOPILOT_DATA_DIR": str(settings.data_dir)}


async def test_hosts_and_pids_are_for_operators_only(
    app: FastAPI, settings: Settings, client: httpx.AsyncClient, alice: Account, bob: Account
) -> None:
    granted = autopilot("operator", "grant", bob.email, env=cli_env(settings))
    assert granted.returncode == 0, granted.stderr
    assert (await client.get("/api/v1/me", headers=bob.auth)).json()["operator"] is True
    assert (await client.get("/api/v1/me", headers=alice.auth)).json()["operator"] is False

    engine = job_engine(settings, app.state.sessions).start()
    try:
        async with asyncio.timeout(15):
            # Both beats: the executor's first one is its own task's write, which a loaded machine may delay.
            while len((await client.get("/api/v1/jobs/health", headers=bob.auth)).json()["heartbeats"]) < 2:
                await asyncio.sleep(0.05)
        operator = await client.get("/api/v1/jobs/health", headers=bob.auth)
        member = await client.get("/api/v1/jobs/health", headers=alice.auth)
    finally:
        await engine.stop()

    assert PROCESS in operator.text
    assert {b["role"] for b in operator.json()["heartbeats"]} == {"dispatcher", "executor"}
    assert member.status_code == 200
    assert PROCESS not in member.text
    assert member.json()["heartbeats"] == []
    assert member.json()["executors_alive"] == operator.json()["executors_alive"] == 1
    assert member.json()["dispatchers_alive"] == 1


async def test_the_jobs_page_counts_workers_without_naming_them(
    app: FastAPI, settings: Settings, client: httpx.AsyncClient, alice: Account
) -> None:
    engine = job_engine(settings, app.state.sessions).start()
    try:
        form = await client.get("/login")
        token = form.text.split('name="csrf_token" value="')[1].split('"')[0]
        await client.post("/login", data={"email": alice.email, "password": alice.password, "csrf_token": token})
        async with asyncio.timeout(15):
            while "workers alive: <strong>1</strong>" not in (page := await client.get("/jobs")).text:
                await asyncio.sleep(0.05)
    finally:
        await engine.stop()
    assert PROCESS not in page.text


async def test_the_operator_flag_is_granted_and_revoked_from_the_command_line(
    settings: Settings, client: httpx.AsyncClient, alice: Account
) -> None:
    env = cli_env(settings)
    granted = autopilot("operator", "grant", alice.email.upper(), env=env)
    assert granted.returncode == 0, granted.stderr
    assert "is now an operator" in granted.stdout
    assert (await client.get("/api/v1/me", headers=alice.auth)).json()["operator"] is True

    revoked = autopilot("operator", "revoke", alice.email, env=env)
    assert revoked.returncode == 0, revoked.stderr
    assert (await client.get("/api/v1/me", headers=alice.auth)).json()["operator"] is False

    unknown = autopilot("operator", "grant", "nobody@example.com", env=env)
    assert unknown.returncode == 1
    assert "no user with the e-mail nobody@example.com" in unknown.stderr
    assert "Traceback" not in unknown.stderr
