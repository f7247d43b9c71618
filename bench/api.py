"""API reads under load, each beside an empty endpoint: GET /api/v1/me and GET /api/v1/jobs?limit=50
at each concurrency, on each database, with the server idle and while its in-process job engine
drains a backlog of real jobs (each one HTTP POST to a local server that answers after --job-delay).

    python -m bench.api [--requests 1000] [--drain-jobs 10000] [--concurrency 20,100]
                        [--databases sqlite,postgresql] [--job-delay 0.1]

The app is the real server process (`autopilot serve`). The yardstick is an empty FastAPI endpoint
(GET /empty -> {}) in its own uvicorn process with the same settings, driven by the same clients
right beside each cell (empty, app, empty, app: half the requests each time, so drift falls on both).
The backlog (--drain-jobs jobs of the caller's organization, enqueued through the real enqueue) is
in the ledger but not due during the idle cells; each drain cell makes a fresh backlog due and is
measured while the engine drains it, so both phases list a table of the same size. A drain cell
says whether the backlog lasted the whole cell (if not, raise --drain-jobs). Goals per cell:
throughput >= 0.5x empty and p99 <= 2x empty. Prints one JSON line; progress goes to stderr."""

from __future__ import annotations

import argparse
import asyncio
import json
import tempfile
import time
import uuid
from collections.abc import Callable
from dataclasses import dataclass
from datetime import datetime, timedelta
from pathlib import Path
from typing import Any

import httpx
from sqlalchemy import delete, func, select, update
from tests.support.accounts import make_account
from tests.support.crowd import ServerProcess
from tests.support.processes import status_counts
from tests.support.recorder import RecorderProcess

from autopilot.domains import load_models
from autopilot.kit.db import make_engine, make_sessionmaker
from autopilot.kit.time import utcnow
from autopilot.worker import ledger
from autopilot.worker.models import Job
from bench._support.empty_app import EmptyProcess
from bench._support.load import Timings, client, fresh_database, hammer, parse_list, ratio, say

ENDPOINTS = {"me": "/api/v1/me", "jobs": "/api/v1/jobs?limit=50"}
THROUGHPUT_GOAL = 0.5
P99_GOAL = 2.0
UNFINISHED = ("scheduled", "claimed", "retry_wait")


async def make_due_now(url: str) -> datetime:
    """Make every parked job due now: the backlog the server's engine drains from this instant."""
    engine = make_engine(url)
    now = utcnow()
    try:
        async with make_sessionmaker(engine)() as session, session.begin():
            await session.execute(update(Job).values(run_at=now, due_at=now))
    finally:
        await engine.dispose()
    return now


async def last_finish(url: str) -> datetime | None:
    engine = make_engine(url)
    try:
        async with make_sessionmaker(engine)() as session:
            return await session.scalar(select(func.max(Job.finished_at)))
    finally:
        await engine.dispose()


async def forget_jobs(url: str) -> None:
    """Delete the drained jobs, so that every drain starts from a ledger of the same size."""
    engine = make_engine(url)
    try:
        async with make_sessionmaker(engine)() as session, session.begin():
            await session.execute(delete(Job))
    finally:
        await engine.dispose()


async def unfinished(url: str) -> int:
    counts = await status_counts(url)
    return sum(counts.get(status, 0) for status in UNFINISHED)


async def wait_until(url: str, done: Callable[[dict[str, int]], bool], timeout_s: float) -> bool:
    deadline = time.monotonic() + timeout_s
    while time.monotonic() < deadline:
        if done(await status_counts(url)):
            return True
        await asyncio.sleep(0.25)
    return False


@dataclass
class Stage:
    """One database's server, the yardstick beside it, and the caller whose endpoints are measured."""

    url: str
    app_url: str
    empty_url: str
    token: str
    org_id: str
    job_target: str
    requests: int
    drain_jobs: int
    drain_timeout_s: float

    async def cell(self, path: str, concurrency: int) -> dict[str, Any]:
        """The app's endpoint and the empty one, `requests` each, alternating in two halves."""
        headers = {"Authorization": f"Bearer {self.token}"}
        app, empty = Timings(), Timings()
        for share in (self.requests // 2, self.requests - self.requests // 2):
            empty.merge(await hammer(self.empty_url, "/empty", concurrency=concurrency, requests=share))
            app.merge(await hammer(self.app_url, path, concurrency=concurrency, requests=share, headers=headers))
        app_figures, empty_figures = app.figures(), empty.figures()
        throughput = ratio(app_figures["rps"], empty_figures["rps"])
        p99 = ratio(app_figures["p99_ms"], empty_figures["p99_ms"])
        return {
            "app": app_figures,
            "empty": empty_figures,
            "throughput_vs_empty": throughput,
            "p99_vs_empty": p99,
            "goals": {
                "throughput": throughput is not None and throughput >= THROUGHPUT_GOAL,
                "p99": p99 is not None and p99 <= P99_GOAL,
                "all_2xx": all(200 <= int(s) < 300 for s in app_figures["statuses"]),
            },
        }

    async def park_backlog(self) -> None:
        """Enqueue `drain_jobs` jobs of the caller's organization through the real enqueue, due
        tomorrow: in the ledger (and in the list endpoint's table) but not yet work."""
        engine = make_engine(self.url)
        tomorrow = utcnow() + timedelta(days=1)
        try:
            async with make_sessionmaker(engine)() as session, session.begin():
                for _ in range(self.drain_jobs):
                    await ledger.enqueue(
                        session,
                        kind="test.call",
                        payload={"url": self.job_target},
                        org_id=uuid.UUID(self.org_id),
                        run_at=tomorrow,
                    )
        finally:
            await engine.dispose()

    async def cell_while_draining(self, path: str, concurrency: int) -> dict[str, Any]:
        """A cell measured while the server drains the parked backlog, which is then deleted."""
        due = await make_due_now(self.url)
        await wait_until(self.url, lambda c: c.get("scheduled", 0) < self.drain_jobs, timeout_s=30)
        before = await unfinished(self.url)
        figures = await self.cell(path, concurrency)
        after = await unfinished(self.url)
        drained = await wait_until(self.url, lambda c: not any(c.get(s) for s in UNFINISHED), self.drain_timeout_s)
        statuses = await status_counts(self.url)
        finished = await last_finish(self.url)
        figures["drain"] = {
            "unfinished_before": before,
            "unfinished_after": after,
            # False: the backlog ran out before the cell ended, so part of it was measured idle.
            "lasted_whole_cell": after > 0,
            "drain_s": round((finished - due).total_seconds(), 2) if drained and finished else None,
            "statuses": statuses,
        }
        if drained:
            await forget_jobs(self.url)
        return figures


async def run_database(
    kind: str, args: argparse.Namespace, concurrencies: list[int], recorder: RecorderProcess, empty: EmptyProcess
) -> dict[str, Any]:
    workdir: Path = args.workdir / kind
    out: dict[str, Any] = {"idle": {}, "drain": {}}
    async with fresh_database(kind, workdir) as url:
        with ServerProcess(url, workdir, {"AUTOPILOT_JOB_MODULES": "tests.support.jobkinds"}) as server:
            async with client(server.base_url) as http:
                account = await make_account(http, "bench@example.com", "Bench")
            stage = Stage(
                url=url,
                app_url=server.base_url,
                empty_url=empty.base_url,
                token=account.token,
                org_id=account.org_id,
                job_target=recorder.url(delay=args.job_delay),
                requests=args.requests,
                drain_jobs=args.drain_jobs,
                drain_timeout_s=args.drain_timeout,
            )
            say(f"{kind}: server up at {server.base_url}; parking {args.drain_jobs:,} jobs in the ledger")
            await stage.park_backlog()
            for phase in ("idle", "drain"):
                for concurrency in concurrencies:
                    for endpoint, path in ENDPOINTS.items():
                        if phase == "idle":
                            figures = await stage.cell(path, concurrency)
                        else:
                            if await unfinished(url) == 0:
                                await stage.park_backlog()
                            figures = await stage.cell_while_draining(path, concurrency)
                        out[phase].setdefault(f"c{concurrency}", {})[endpoint] = figures
                        say(f"{kind} {phase} c={concurrency} {endpoint}: {progress(figures)}")
    drains = [f["drain"] for by_endpoint in out["drain"].values() for f in by_endpoint.values()]
    out["drain_lasted_all_cells"] = all(d["lasted_whole_cell"] for d in drains)
    return out


def progress(figures: dict[str, Any]) -> str:
    app, empty = figures["app"], figures["empty"]
    line = (
        f"{app['rps']} req/s p99 {app['p99_ms']} ms | empty {empty['rps']} req/s p99 {empty['p99_ms']} ms"
        f" | ratios {figures['throughput_vs_empty']} / {figures['p99_vs_empty']}"
    )
    if "drain" in figures:
        d = figures["drain"]
        line += f" | jobs unfinished {d['unfinished_before']} -> {d['unfinished_after']}, drain {d['drain_s']} s"
    return line


def worst(results: dict[str, Any]) -> dict[str, Any]:
    cells = [
        (f"{kind}/{phase_name}/{conc}/{endpoint}", figures)
        for kind, by_phase in results.items()
        for phase_name in ("idle", "drain")
        for conc, by_endpoint in by_phase.get(phase_name, {}).items()
        for endpoint, figures in by_endpoint.items()
    ]
    if not cells:
        return {}
    slowest = min(cells, key=lambda c: c[1]["throughput_vs_empty"] or 0)
    laggiest = max(cells, key=lambda c: c[1]["p99_vs_empty"] or 0)
    return {
        "throughput_vs_empty": slowest[1]["throughput_vs_empty"],
        "throughput_cell": slowest[0],
        "p99_vs_empty": laggiest[1]["p99_vs_empty"],
        "p99_cell": laggiest[0],
        "cells_meeting_goals": sum(all(f["goals"].values()) for _, f in cells),
        "cells": len(cells),
    }


async def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--requests", type=int, default=1000, help="per cell, for the app and for the empty endpoint")
    parser.add_argument("--drain-jobs", type=int, default=10_000)
    parser.add_argument("--concurrency", default="20,100")
    parser.add_argument("--databases", default="sqlite,postgresql")
    parser.add_argument("--job-delay", type=float, default=0.1, help="seconds the outside server takes per job")
    parser.add_argument("--drain-timeout", type=float, default=900, help="seconds to wait for the drain to end")
    args = parser.parse_args()
    kinds = parse_list(args.databases, {"sqlite", "postgresql"})
    concurrencies = [int(c) for c in args.concurrency.split(",") if c.strip()]
    load_models()  # every table known to the ORM: the jobs reference organizations
    import tests.support.jobkinds  # noqa: F401  (registers test.call for the enqueue)

    results: dict[str, Any] = {}
    with tempfile.TemporaryDirectory(prefix="autopilot-bench-api-") as tmp:
        args.workdir = Path(tmp)
        recorder = RecorderProcess()
        empty = EmptyProcess(Path(tmp) / "empty.log")
        try:
            for kind in kinds:
                (args.workdir / kind).mkdir()
                httpx.post(f"{recorder.base}/reset", timeout=30)
                results[kind] = await run_database(kind, args, concurrencies, recorder, empty)
        finally:
            empty.stop()
            recorder.stop()
    line = {
        "requests": args.requests,
        "drain_jobs": args.drain_jobs,
        "job_delay_s": args.job_delay,
        "concurrency": concurrencies,
        "results": results,
        "worst": worst(results),
    }
    print(json.dumps(line))


if __name__ == "__main__":
    asyncio.run(main())
