"""A crowd signing up and logging in at once, through the real server (its own process).

Before the fix, SQLite answered 500 "database is locked" to some of 200 people: each Argon2 hash
(~150 ms) ran inside the write transaction, holding SQLite's single write lock, so the queue of
writers outwaited the 30 s busy timeout. Here the timeout is 2 s and the crowd 40 (the same
queueing, smaller): with hashing inside the transaction the last writers would wait ~6 s. And
every hash ran on the event loop, so a health probe waited behind the queue of password checks.
The 200-person run with its timings is `python -m bench.auth`."""

from __future__ import annotations

import asyncio
from pathlib import Path

import httpx
import pytest

from tests.support.accounts import PASSWORD
from tests.support.crowd import Call, ServerProcess, crowd_of

pytestmark = pytest.mark.slow
PEOPLE = 40
QUICK_TO_GIVE_UP = {"AUTOPILOT_SQLITE_BUSY_TIMEOUT_MS": "2000", "AUTOPILOT_TRUSTED_PROXIES": "127.0.0.1"}


def signup(i: int) -> Call:
    return Call(
        "POST",
        "/api/v1/auth/signup",
        {"email": f"person{i}@example.com", "password": PASSWORD, "organization_name": f"Practice {i}"},
    )


def login(i: int) -> Call:
    body = {"email": f"person{i}@example.com", "password": PASSWORD}
    return Call("POST", "/api/v1/auth/login", body, {"X-Forwarded-For": f"10.0.{i // 250}.{i % 250 + 1}"})


async def test_a_crowd_signs_up_and_logs_in_at_once_without_a_server_error(database_url: str, tmp_path: Path) -> None:
    # Each person logs in from their own address, as in real life (the server trusts our proxy).
    with ServerProcess(database_url, tmp_path, QUICK_TO_GIVE_UP) as server:
        signed_up = await crowd_of(server.base_url, PEOPLE, signup)
        logged_in = await crowd_of(server.base_url, PEOPLE, login)
    assert [r.status_code for r in signed_up] == [202] * PEOPLE, {r.text for r in signed_up if r.status_code != 202}
    assert [r.status_code for r in logged_in] == [200] * PEOPLE, {r.text for r in logged_in if r.status_code != 200}


async def test_the_server_answers_a_health_probe_while_passwords_are_being_checked(
    database_url: str, tmp_path: Path
) -> None:
    """Ordering, not timing: with 20 logins queued, the probe sent just after them is answered
    before most of them. A hash on the event loop would make the probe wait behind the queue."""
    with ServerProcess(database_url, tmp_path, {"AUTOPILOT_TRUSTED_PROXIES": "127.0.0.1"}) as server:
        await crowd_of(server.base_url, 20, signup)
        finished: list[str] = []

        async def call(name: str, request: Call) -> None:
            async with httpx.AsyncClient(base_url=server.base_url, timeout=120) as http:
                answer = await http.request(request.method, request.path, json=request.json, headers=request.headers)
                assert answer.status_code in (200, 202), answer.text
            finished.append(name)

        logins = [asyncio.create_task(call(f"login{i}", login(i))) for i in range(20)]
        await asyncio.sleep(0.2)  # the logins are in the server, their hashes queued
        await call("healthz", Call("GET", "/healthz"))
        await asyncio.gather(*logins)
    assert finished.index("healthz") < 10, finished
