"""`autopilot serve` runs the job engine in a child process of its own (worker.runtime.EngineProcess):
the web keeps a GIL and a core to itself. The child runs the jobs, is started again when it dies,
dies with the server, wakes when the server commits work due now, and its metrics reach /metrics."""

from __future__ import annotations

import asyncio
import os
import signal
import sys
from pathlib import Path
from typing import Any

import httpx
import pytest
from prometheus_client import generate_latest
from sqlalchemy import select

import tests.support.jobkinds  # noqa: F401  # test.call is enqueued here
from autopilot.kit.db import make_engine, make_sessionmaker
from autopilot.worker import ledger
from autopilot.worker.models import Heartbeat, Job
from autopilot.worker.runtime import EngineProcess
from tests.support.processes import REPO, Processes, base_env, wait_until_all
from tests.support.recorder import free_port, wait_http

pytestmark = pytest.mark.slow


def children(pid: int) -> list[int]:
    with open(f"/proc/{pid}/task/{pid}/children") as listed:
        return [int(p) for p in listed.read().split()]


def command_line(pid: int) -> str:
    return Path(f"/proc/{pid}/cmdline").read_text()


def alive(pid: int) -> bool:
    try:
        with open(f"/proc/{pid}/stat") as stat:
            return stat.read().split(") ")[-1][0] != "Z"  # a zombie has died already
    except FileNotFoundError:
        return False


async def eventually(check: Any, what: str, timeout: float = 30) -> Any:
    deadline = asyncio.get_running_loop().time() + timeout
    while asyncio.get_running_loop().time() < deadline:
        if found := check():
            return found
        await asyncio.sleep(0.1)
    raise AssertionError(f"not within {timeout} s: {what}")


async def enqueue_calls(url: str, recorder: Any, count: int) -> list[int]:
    engine = make_engine(url)
    try:
        async with make_sessionmaker(engine)() as session, session.begin():
            payload = {"url": recorder.url(), "reconcile_url": f"{recorder.base}/seen"}
            return [await ledger.enqueue(session, kind="test.call", payload=payload, org_id=None) for _ in range(count)]
    finally:
        await engine.dispose()


async def claimers(url: str, ids: list[int]) -> set[str]:
    engine = make_engine(url)
    try:
        async with make_sessionmaker(engine)() as session:
            return {str(n) for n in await session.scalars(select(Job.claimed_by).where(Job.id.in_(ids)))}
    finally:
        await engine.dispose()


async def test_serve_runs_jobs_in_a_child_that_is_restarted_and_dies_with_it(
    database_url: str, tmp_path: Path, recorder: Any
) -> None:
    metrics_port = free_port()
    env = {
        **base_env(tmp_path, database_url),
        "AUTOPILOT_PORT": str(free_port()),
        "AUTOPILOT_METRICS_BIND": f"127.0.0.1:{metrics_port}",
    }
    processes = Processes(env, tmp_path)
    try:
        server = processes.start("serve", name="serve")
        wait_http(f"http://127.0.0.1:{env['AUTOPILOT_PORT']}/healthz", timeout=60)
        (engine_pid,) = await eventually(lambda: children(server.pid), "the engine process started")
        assert "engine" in command_line(engine_pid)

        first = await enqueue_calls(database_url, recorder, 5)
        await wait_until_all(database_url, 5, "succeeded", timeout=60)
        assert {name.split(":")[2] for name in await claimers(database_url, first)} == {str(engine_pid)}
        async with httpx.AsyncClient(timeout=10) as scraper:
            scraped = (await scraper.get(f"http://127.0.0.1:{metrics_port}/metrics")).text
        assert 'autopilot_job_outcomes_total{error_class="",kind="test.call",outcome="succeeded"} 5.0' in scraped

        os.kill(engine_pid, signal.SIGKILL)  # the engine dies alone: the server starts another
        async with httpx.AsyncClient(timeout=10) as scraper:  # meanwhile /metrics still answers
            assert (await scraper.get(f"http://127.0.0.1:{metrics_port}/metrics")).status_code == 200
        (again,) = await eventually(
            lambda: [p for p in children(server.pid) if p != engine_pid and alive(p)], "a new engine process"
        )
        second = await enqueue_calls(database_url, recorder, 1)
        await wait_until_all(database_url, 6, "succeeded", timeout=60)
        assert {name.split(":")[2] for name in await claimers(database_url, second)} == {str(again)}

        processes.kill(server)  # SIGKILL: the server crashes, and its engine must not outlive it
        await eventually(lambda: not alive(again), "the engine died with the server", timeout=10)
    finally:
        processes.stop_all()


async def test_work_the_server_commits_wakes_the_child_at_once(
    sqlite_template: Path, tmp_path: Path, recorder: Any, monkeypatch: pytest.MonkeyPatch
) -> None:
    from tests.support import databases

    url = databases.sqlite_copy(sqlite_template, tmp_path)
    for name, value in {**base_env(tmp_path, url), "AUTOPILOT_DISPATCH_INTERVAL_S": "120"}.items():
        monkeypatch.setenv(name, value)  # the child reads its settings from the environment, as serve's does
    monkeypatch.setenv("PYTHONPATH", str(REPO))
    engine_process = await EngineProcess([sys.executable, "-m", "autopilot.cli", "engine"]).start()
    engine = make_engine(url)
    try:

        async def beating() -> bool:
            async with make_sessionmaker(engine)() as session:
                return bool(await session.scalar(select(Heartbeat.name).limit(1)))

        deadline = asyncio.get_running_loop().time() + 60
        while not await beating():
            assert asyncio.get_running_loop().time() < deadline, "the engine process never reported"
            await asyncio.sleep(0.2)
        await asyncio.sleep(2)  # its dispatcher's first look is over: now only a wake (or 120 s) brings it back

        await enqueue_calls(url, recorder, 3)  # committed here: the ledger's hook sends WAKE to the child
        await wait_until_all(url, 3, "succeeded", timeout=30)

        await engine_process.refresh_metrics()
        assert 'autopilot_job_outcomes_total{error_class="",kind="test.call",outcome="succeeded"} 3.0' in (
            generate_latest().decode()
        )
    finally:
        await engine.dispose()
        await engine_process.stop()
    assert engine_process.process is not None and engine_process.process.returncode == 0, "QUIT stops it cleanly"


async def test_a_child_that_cannot_be_started_is_tried_again_and_stopping_still_works() -> None:
    engine_process = await EngineProcess([str(REPO / "no-such-engine-command")]).start()
    try:
        await eventually(lambda: engine_process.starts >= 2, "a second try, a second after the first", timeout=10)
    finally:
        await engine_process.stop()
