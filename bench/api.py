"""API reads under load, each beside an empty endpoint: GET /api/v1/me and GET /api/v1/jobs?limit=50
at each concurrency, on each database, with the server idle and while its in-process job engine
drains a backlog of real jobs (each one HTTP POST to a local server that answers after --job-delay).

    python -m bench.api [--requests 1000] [--drain-jobs 10000] [--concurrency 20,100]
                        [--databases sqlite,postgresql] [--job-delay 0.1]

The app is the real server process (`autopilot serve`). The yardstick is an empty FastAPI endpoint
(GET /empty -> {}) in its own uvicorn process with the same settings, driven by the same clients
right beside each cell (empty, app, empty, app: half the requests each time, so drift falls on both).
The drain's jobs belong to the caller's organization and are in the ledger (not yet due) during the
idle cells too, so both phases list the same table. Goals per cell: throughput >= 0.5x empty and
p99 <= 2x empty. Prints one JSON line; progress goes to stderr.
"""

from __future__ import annotations

import argparse
import asyncio
import json
import tempfile
import time
import uuid
from collections.abc import Callable
from datetime import timedelta
from pathlib import Path
from typing import Any

import httpx
from sqlalchemy import update
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


async def park_jobs(url: str, org_id: str, count: int, target: str) -> None:
    """Enqueue *count* jobs of the organization through the real enqueue, due tomorrow."""
    engine = make_engine(url)
    tomorrow = utcnow() + timedelta(days=1)
    try:
        async with make_sessionmaker(engine)() as session, session.begin():
            for _ in range(count):
                await ledger.enqueue(
                    session, kind="test.call", payload={"url": target}, org_id=uuid.UUID(org_id), run_at=tomorrow
                )
    finally:
        await engine.dispose()


async def make_due_now(url: str) -> None:
    engine = make_engine(url)
    now = utcnow()
    try:
        async with make_sessionmaker(engine)() as session, session.begin():
            await session.execute(update(Job).values(run_at=now, due_at=now))
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


async def cell(
    app_url: str, empty_url: str, path: str, headers: dict[str, str], concurrency: int, requests: int
) -> dict[str, Any]:
    """The app's endpoint and the empty one, *requests* each, alternating in two halves."""
    app, empty = Timings(), Timings()
    for share in (requests // 2, requests - requests // 2):
        empty.merge(await hammer(empty_url, "/empty", concurrency=concurrency, requests=share))
        app.merge(await hammer(app_url, path, concurrency=concurrency, requests=share, headers=headers))
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


async def phase(
    name: str, url: str, app_url: str, empty_url: str, token: str, concurrencies: list[int], requests: int
) -> dict[str, Any]:
    headers = {"Authorization": f"Bearer {token}"}
    out: dict[str, Any] = {}
    for concurrency in concurrencies:
        for endpoint, path in ENDPOINTS.items():
            before = await unfinished(url)
            figures = await cell(app_url, empty_url, path, headers, concurrency, requests)
            if name == "drain":
                figures["drain_unfinished"] = {"before": before, "after": await unfinished(url)}
            out.setdefault(f"c{concurrency}", {})[endpoint] = figures
            app, empty = figures["app"], figures["empty"]
            say(
                f"  {name} c={concurrency} {endpoint}: {app['rps']} req/s p99 {app['p99_ms']} ms"
                f" | empty {empty['rps']} req/s p99 {empty['p99_ms']} ms"
                + (f" | unfinished jobs {figures['drain_unfinished']}" if name == "drain" else "")
            )
    return out


async def run_database(
    kind: str, args: argparse.Namespace, concurrencies: list[int], recorder: RecorderProcess, empty: EmptyProcess
) -> dict[str, Any]:
    workdir: Path = args.workdir / kind
    async with fresh_database(kind, workdir) as url:
        with ServerProcess(url, workdir, {"AUTOPILOT_JOB_MODULES": "tests.support.jobkinds"}) as server:
            say(f"{kind}: server up at {server.base_url}; {args.drain_jobs:,} jobs parked in the ledger")
            async with client(server.base_url) as http:
                account = await make_account(http, "bench@example.com", "Bench")
            await park_jobs(url, account.org_id, args.drain_jobs, recorder.url(delay=args.job_delay))
            say(f"{kind}: idle")
            idle = await phase(
                "idle", url, server.base_url, empty.base_url, account.token, concurrencies, args.requests
            )
            say(f"{kind}: the jobs are due now; measuring while the server drains them")
            due = time.monotonic()
            await make_due_now(url)
            await wait_until(url, lambda c: c.get("scheduled", 0) < args.drain_jobs, timeout_s=30)
            drain = await phase(
                "drain", url, server.base_url, empty.base_url, account.token, concurrencies, args.requests
            )
            drained = await wait_until(url, lambda c: not any(c.get(s) for s in UNFINISHED), args.drain_timeout)
            drain_s = time.monotonic() - due
            statuses = await status_counts(url)
    last_cells = [c for by_endpoint in drain.values() for c in by_endpoint.values()]
    return {
        "idle": idle,
        "drain": drain,
        "drain_summary": {
            "jobs": args.drain_jobs,
            "drain_s": round(drain_s, 2) if drained else None,
            "statuses": statuses,
            # False when the backlog ran out before the last drain cell ended: that cell was partly idle.
            "drain_lasted_all_cells": all(c["drain_unfinished"]["after"] > 0 for c in last_cells),
        },
    }


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
                say(f"{kind}: drain {json.dumps(results[kind]['drain_summary'])}")
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
