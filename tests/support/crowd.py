"""The real app as its own process, and a crowd of real HTTP clients that all call it at once.

    with ServerProcess(database_url, tmp_path) as server:
        responses = await crowd(server.base_url, [Call("POST", "/api/v1/auth/signup", json=...), ...])

`ServerProcess` runs `autopilot serve` (uvicorn, as deployed) on a free port against the given
database, logs to a file and is stopped by its own pid. `crowd` gives every call its own client
and connection, opens them all first, then releases every request at the same instant (a
barrier), so they really overlap in the server; the responses come back in the calls' order.
Started with env {"AUTOPILOT_TRUSTED_PROXIES": "127.0.0.1"}, the server believes X-Forwarded-For
from the test, so a call can stand for another client address with
`headers={"X-Forwarded-For": "198.51.100.7"}`; without it the header is ignored, as in production.
"""

from __future__ import annotations

import asyncio
import contextlib
import os
import subprocess
import sys
import time
from collections.abc import Callable, Mapping, Sequence
from dataclasses import dataclass, field
from pathlib import Path
from types import TracebackType
from typing import Any

import httpx

from tests.support.recorder import REPO, free_port

START_ATTEMPTS = 3  # a free port can be taken by someone else before the server binds it


class ServerFailed(RuntimeError):
    """The server did not become healthy; the message carries the end of its log."""


class ServerProcess:
    """`autopilot serve` in its own process on a free port; only this process is ever stopped.

    The environment holds no AUTOPILOT_* variable of ours except the ones set here and in *env*
    (e.g. {"AUTOPILOT_RUN_JOB_ENGINE": "false"}); it runs in its own data dir, so no .env is read.
    With migrate=True the server migrates the database first (`serve --migrate`)."""

    def __init__(
        self,
        database_url: str,
        directory: Path,
        env: Mapping[str, str] | None = None,
        *,
        migrate: bool = True,
        ready_timeout: float = 90.0,
    ) -> None:
        self.database_url = database_url
        self.directory = directory
        self.overrides = dict(env or {})
        self.migrate = migrate
        self.ready_timeout = ready_timeout
        self.process: subprocess.Popen[bytes] | None = None
        self.port = 0
        self.log_path = directory / "server.log"

    @property
    def base_url(self) -> str:
        return f"http://127.0.0.1:{self.port}"

    @property
    def pid(self) -> int:
        assert self.process is not None, "the server is not started"
        return self.process.pid

    def start(self) -> ServerProcess:
        """Start the server and wait until /healthz answers 200; ServerFailed (with its log) if not."""
        for attempt in range(1, START_ATTEMPTS + 1):
            self._spawn()
            try:
                self._wait_healthy()
                return self
            except ServerFailed:
                self.stop()
                if attempt == START_ATTEMPTS or "address already in use" not in self.log_tail().lower():
                    raise
            except BaseException:
                self.stop()  # interrupted while waiting: leave no server behind
                raise
        raise AssertionError("unreachable")

    def _spawn(self) -> None:
        self.port = free_port()
        data_dir = self.directory / f"server-{self.port}"
        data_dir.mkdir(parents=True, exist_ok=True)
        self.log_path = self.directory / f"server-{self.port}.log"
        env = {key: value for key, value in os.environ.items() if not key.startswith("AUTOPILOT_")}
        # So that job modules of the tests (AUTOPILOT_JOB_MODULES=tests.support.jobkinds) import.
        env["PYTHONPATH"] = os.pathsep.join(p for p in (str(REPO), env.get("PYTHONPATH", "")) if p)
        env.update(
            AUTOPILOT_ENV="test",
            AUTOPILOT_DATABASE_URL=self.database_url,
            AUTOPILOT_DATA_DIR=str(data_dir),
            AUTOPILOT_HOST="127.0.0.1",
            AUTOPILOT_PORT=str(self.port),
            AUTOPILOT_BASE_URL=self.base_url,  # where browsers reach it: OAuth redirects come back here
            AUTOPILOT_LOG_JSON="true",
        )
        env.update(self.overrides)
        command = [sys.executable, "-m", "autopilot.cli", "serve", "--port", str(self.port)]
        if self.migrate:
            command.append("--migrate")
        with self.log_path.open("wb") as log:
            self.process = subprocess.Popen(command, cwd=data_dir, env=env, stdout=log, stderr=subprocess.STDOUT)

    def _wait_healthy(self) -> None:
        assert self.process is not None
        deadline = time.monotonic() + self.ready_timeout
        with httpx.Client(timeout=2) as client:
            while time.monotonic() < deadline:
                code = self.process.poll()
                if code is not None:
                    raise ServerFailed(f"the server exited with code {code}; its log:\n{self.log_tail()}")
                with contextlib.suppress(httpx.HTTPError):
                    if client.get(f"{self.base_url}/healthz").status_code == 200:
                        return
                time.sleep(0.05)
        raise ServerFailed(f"/healthz did not answer 200 within {self.ready_timeout} s; its log:\n{self.log_tail()}")

    def log_tail(self, chars: int = 4000) -> str:
        """The end of the server's log (stdout and stderr), for a failure message."""
        try:
            return self.log_path.read_text(errors="replace")[-chars:]
        except FileNotFoundError:
            return "(no log)"

    def stop(self) -> None:
        """SIGTERM (uvicorn shuts down cleanly), SIGKILL if it is still there after 15 s."""
        process = self.process
        if process is None or process.poll() is not None:
            return
        process.terminate()
        try:
            process.wait(15)
        except subprocess.TimeoutExpired:
            process.kill()
            process.wait(10)

    def __enter__(self) -> ServerProcess:
        return self.start()

    def __exit__(self, kind: type[BaseException] | None, error: BaseException | None, tb: TracebackType | None) -> None:
        self.stop()


@dataclass(frozen=True)
class Call:
    """One HTTP request of a crowd, relative to the server's base URL."""

    method: str
    path: str
    json: Any = None
    headers: Mapping[str, str] = field(default_factory=dict)
    params: Mapping[str, str] = field(default_factory=dict)


async def crowd(
    base_url: str, calls: Sequence[Call], *, timeout: float = 120.0, warm_path: str | None = "/healthz"
) -> list[httpx.Response]:
    """Send every call from its own client at the same instant; the responses, in the calls' order.

    Each client first opens its connection (a GET of *warm_path*; None to skip), then waits at a
    barrier until all are connected, so connection set-up does not spread the requests out.
    A transport error of any call is raised once all callers are done."""
    barrier = asyncio.Barrier(len(calls))
    responses: list[httpx.Response | None] = [None] * len(calls)

    async def caller(index: int, call: Call) -> None:
        limits = httpx.Limits(max_connections=1, max_keepalive_connections=1)
        async with httpx.AsyncClient(base_url=base_url, timeout=timeout, limits=limits) as client:
            try:
                if warm_path is not None:
                    (await client.get(warm_path)).raise_for_status()
            except BaseException:
                await barrier.abort()  # the others would wait for this caller forever
                raise
            await barrier.wait()
            responses[index] = await client.request(
                call.method, call.path, json=call.json, headers=dict(call.headers), params=dict(call.params)
            )

    outcomes = await asyncio.gather(*(caller(i, c) for i, c in enumerate(calls)), return_exceptions=True)
    errors = [o for o in outcomes if isinstance(o, BaseException)]
    if errors:
        # The first real error, not the broken barrier it caused in the other callers.
        raise next((e for e in errors if not isinstance(e, asyncio.BrokenBarrierError)), errors[0])
    return [r for r in responses if isinstance(r, httpx.Response)]


async def crowd_of(base_url: str, n: int, make_call: Callable[[int], Call], **options: Any) -> list[httpx.Response]:
    """*n* calls made by make_call(0..n-1), sent at the same instant (see crowd)."""
    return await crowd(base_url, [make_call(i) for i in range(n)], **options)
