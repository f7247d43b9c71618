"""The crowd helper: the real server as its own process, and real clients that call it all at once."""

from __future__ import annotations

import asyncio
from collections.abc import AsyncIterator
from pathlib import Path

import pytest
import uvicorn
from sqlalchemy import func, select
from starlette.applications import Starlette
from starlette.requests import Request
from starlette.responses import JSONResponse, Response
from starlette.routing import Route

from autopilot.accounts.models import User
from autopilot.kit.db import make_engine, make_sessionmaker
from tests.support.accounts import PASSWORD
from tests.support.crowd import Call, ServerFailed, ServerProcess, crowd, crowd_of
from tests.support.recorder import free_port

CROWD = 20


def signup(i: int) -> Call:
    body = {"email": f"user{i}@example.com", "password": PASSWORD, "organization_name": f"Org {i}"}
    return Call("POST", "/api/v1/auth/signup", json=body)


async def users_in(database_url: str) -> int:
    engine = make_engine(database_url)
    try:
        async with make_sessionmaker(engine)() as session:
            return int(await session.scalar(select(func.count()).select_from(User)) or 0)
    finally:
        await engine.dispose()


@pytest.mark.slow  # twenty Argon2 hashes
async def test_twenty_people_signing_up_at_once_are_all_signed_up(database_url: str, tmp_path: Path) -> None:
    with ServerProcess(database_url, tmp_path, migrate=False) as server:
        responses = await crowd_of(server.base_url, CROWD, signup)

    assert [r.status_code for r in responses] == [202] * CROWD, [r.text for r in responses if r.status_code != 202]
    assert await users_in(database_url) == CROWD  # in the database we gave it, not one of its own
    assert server.process is not None and server.process.poll() is not None  # stopped
    assert '"started"' in server.log_path.read_text()  # its log is kept for diagnosis


async def test_a_server_that_cannot_start_says_why(tmp_path: Path) -> None:
    url = f"sqlite+aiosqlite:///{tmp_path / 'never.db'}"
    with pytest.raises(ServerFailed, match="AUTOPILOT_SECRET_KEY is missing or weak"):
        ServerProcess(url, tmp_path, {"AUTOPILOT_ENV": "production"}).start()


class Rendezvous:
    """A server whose /meet answers 200 only once *expected* requests are waiting in it together;
    if they are not all there within the patience, it answers 504 to everyone from then on."""

    def __init__(self, expected: int, patience_s: float = 10.0) -> None:
        self.expected = expected
        self.patience_s = patience_s
        self.arrived = 0
        self.everyone_here = asyncio.Event()
        self.gave_up = False

    async def meet(self, request: Request) -> Response:
        self.arrived += 1
        if self.arrived == self.expected:
            self.everyone_here.set()
        try:
            await asyncio.wait_for(self.everyone_here.wait(), self.patience_s)
        except TimeoutError:
            self.gave_up = True
            self.everyone_here.set()
        if self.gave_up:
            return JSONResponse({"arrived": self.arrived}, status_code=504)
        return JSONResponse({"i": int(request.query_params["i"])})

    @staticmethod
    async def healthz(_request: Request) -> Response:
        return JSONResponse({"status": "ok"})


@pytest.fixture
async def rendezvous() -> AsyncIterator[tuple[str, Rendezvous]]:
    meeting = Rendezvous(CROWD)
    app = Starlette(routes=[Route("/meet", meeting.meet), Route("/healthz", meeting.healthz)])
    port = free_port()
    server = uvicorn.Server(uvicorn.Config(app, host="127.0.0.1", port=port, log_level="warning"))
    serving = asyncio.create_task(server.serve())
    while not server.started:
        await asyncio.sleep(0.01)
    yield f"http://127.0.0.1:{port}", meeting
    server.should_exit = True
    await serving


async def test_the_crowd_is_in_the_server_all_at_once_and_answers_in_order(rendezvous: tuple[str, Rendezvous]) -> None:
    base_url, meeting = rendezvous
    calls = [Call("GET", "/meet", params={"i": str(i)}) for i in range(CROWD)]

    responses = await crowd(base_url, calls)

    assert [r.status_code for r in responses] == [200] * CROWD
    assert [r.json()["i"] for r in responses] == list(range(CROWD))
    assert meeting.arrived == CROWD
