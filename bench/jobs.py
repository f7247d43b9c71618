"""Job engine benchmark: N jobs all due at the same second, each one HTTP POST to a local server
that answers after 100 ms, drained by each mode side by side with the physical limit (`bare`).

    python -m bench.jobs [--jobs N] [--modes embedded,celery,celery-eta,bare] [--concurrency C] [--scale]

Prints one JSON line: {"jobs", "results": {mode: {drain_s, lateness_p50_s, lateness_p99_s,
lateness_max_s, duplicates, lost}}, "ratios": {...}, "scale": {...}}. Progress goes to stderr.
"""

from __future__ import annotations

import argparse
import asyncio
import json
import os
import random
import ssl
import subprocess
import sys
import tempfile
import time
import uuid
from collections import Counter
from datetime import UTC, datetime, timedelta
from pathlib import Path
from typing import Any

import httpx
from sqlalchemy import func, select, text
from sqlalchemy.ext.asyncio import AsyncEngine
from tests.support.recorder import RecorderProcess, free_port

from autopilot import domains
from autopilot.config import Settings
from autopilot.kit.db import make_engine, make_sessionmaker
from autopilot.kit.migrate import upgrade_async
from autopilot.worker import ledger
from autopilot.worker.health import percentile
from autopilot.worker.models import Job
from autopilot.worker.runner import idempotency_key
from autopilot.worker.runtime import JobEngine

REPO = Path(__file__).resolve().parent.parent
LEAD_S = 1.0  # jobs become due this long after they are all in the ledger
PG_SERVER = os.environ.get("BENCH_POSTGRES", "postgresql://postgres@127.0.0.1:5432/test")
REDIS = os.environ.get("BENCH_REDIS", "redis://127.0.0.1:6379/0")


def say(message: str) -> None:
    print(f"[bench] {message}", file=sys.stderr, flush=True)


def summary(lateness: list[float], drain_s: float, duplicates: int, lost: int) -> dict[str, Any]:
    def r(v: float | None) -> float | None:
        return None if v is None else round(v, 3)

    return {
        "drain_s": round(drain_s, 3),
        "lateness_p50_s": r(percentile(lateness, 50)),
        "lateness_p99_s": r(percentile(lateness, 99)),
        "lateness_max_s": r(max(lateness, default=None)),
        "duplicates": duplicates,
        "lost": lost,
    }


def counts_from_server(server: RecorderProcess, keys: set[str]) -> tuple[int, int, list[tuple[str, int, float]]]:
    records: dict[str, Any] = server.records()
    requests = [tuple(r) for r in records["requests"]]
    per_key = Counter(key for key, _attempt, _t in requests)
    duplicates = sum(n - 1 for key, n in per_key.items() if key in keys)
    lost = len(keys - set(per_key))
    return duplicates, lost, requests  # type: ignore[return-value]


async def run_bare(server: RecorderProcess, jobs: int, concurrency: int) -> dict[str, Any]:
    """The physical limit: a plain asyncio + httpx loop making the same calls at the same concurrency."""
    url = server.url(delay=0.1)
    keys = [uuid.uuid4().hex for _ in range(jobs)]
    queue: asyncio.Queue[str] = asyncio.Queue()
    for key in keys:
        queue.put_nowait(key)
    lateness: list[float] = []
    tls = ssl.create_default_context()  # loaded once, as kit.http does
    due = time.time()

    async def worker() -> None:
        # One client per worker: the fastest way to use httpx at this concurrency (see kit.http).
        async with httpx.AsyncClient(timeout=60, verify=tls) as client:
            while not queue.empty():
                key = queue.get_nowait()
                lateness.append(time.time() - due)
                response = await client.post(url, json={}, headers={"Idempotency-Key": key, "X-Attempt": "1"})
                response.raise_for_status()

    await asyncio.gather(*(worker() for _ in range(concurrency)))
    drain = time.time() - due
    duplicates, lost, _ = counts_from_server(server, set(keys))
    return summary(lateness, drain, duplicates, lost)


async def enqueue_due_together(url: str, jobs: int, target: str) -> tuple[datetime, list[int]]:
    """Enqueue the jobs (through the real enqueue) far in the future, then make them all due at
    the same second, one second from now, so enqueueing time never counts as lateness."""
    from sqlalchemy import update

    engine = make_engine(url)
    sessions = make_sessionmaker(engine)
    parked = datetime.now(UTC) + timedelta(days=1)
    ids: list[int] = []
    async with sessions() as session, session.begin():
        for _ in range(jobs):
            ids.append(
                await ledger.enqueue(session, kind="test.call", payload={"url": target}, org_id=None, run_at=parked)
            )
    due = datetime.now(UTC) + timedelta(seconds=LEAD_S)
    async with sessions() as session, session.begin():
        await session.execute(update(Job).values(run_at=due, due_at=due))
    await engine.dispose()
    return due, ids


async def ledger_figures(url: str, due: datetime, ids: list[int], server: RecorderProcess) -> dict[str, Any]:
    engine = make_engine(url)
    async with make_sessionmaker(engine)() as session:
        rows = (await session.execute(select(Job.status, Job.started_at, Job.finished_at))).all()
    await engine.dispose()
    lateness = [(s - due).total_seconds() for _st, s, _f in rows if s is not None]
    finished = [f for st, _s, f in rows if st == "succeeded" and f is not None]
    drain = (max(finished) - due).total_seconds() if finished else float("nan")
    keys = {idempotency_key(i, "test.call") for i in ids}
    duplicates, lost_at_server, _ = counts_from_server(server, keys)
    not_succeeded = sum(1 for st, _s, _f in rows if st != "succeeded")
    return summary(lateness, drain, duplicates, max(lost_at_server, not_succeeded))


async def wait_drained(url: str, jobs: int, timeout: float) -> None:
    engine = make_engine(url)
    sessions = make_sessionmaker(engine)
    deadline = time.monotonic() + timeout
    try:
        while time.monotonic() < deadline:
            async with sessions() as session:
                done = await session.scalar(select(func.count()).select_from(Job).where(Job.status == "succeeded"))
            if done == jobs:
                return
            await asyncio.sleep(0.25)
        say(f"timed out after {timeout} s with {done}/{jobs} done")
    finally:
        await engine.dispose()


async def pickup_latency(url: str, server: RecorderProcess, samples: int = 20) -> dict[str, Any]:
    """How long a single job enqueued due-now waits before it starts, on an idle engine (goal < 1 s).
    Enqueued from this process's own session: for embedded mode that is the same process as the
    engine (so the commit wakes it); for Celery it is another process than the dispatcher (a poll)."""
    engine = make_engine(url)
    sessions = make_sessionmaker(engine)
    waits: list[float] = []
    try:
        for _ in range(samples):
            async with sessions() as session, session.begin():
                job_id = await ledger.enqueue(session, kind="test.call", payload={"url": server.url()}, org_id=None)
            deadline = time.monotonic() + 30
            while time.monotonic() < deadline:
                async with sessions() as session:
                    job = await session.get(Job, job_id)
                    if job is not None and job.started_at is not None:
                        waits.append((job.started_at - job.run_at).total_seconds())
                        break
                await asyncio.sleep(0.01)
            await asyncio.sleep(random.uniform(0, 0.7))  # land at random points of the dispatcher's poll cycle
    finally:
        await engine.dispose()
    return {"pickup_p50_s": round(percentile(waits, 50) or 0, 3), "pickup_max_s": round(max(waits, default=0), 3)}


async def run_embedded(server: RecorderProcess, jobs: int, concurrency: int, workdir: Path) -> dict[str, Any]:
    """SQLite + the in-process executor, as `autopilot serve` runs it."""
    url = f"sqlite+aiosqlite:///{workdir / 'embedded.db'}"
    await upgrade_async(url)
    due, ids = await enqueue_due_together(url, jobs, server.url(delay=0.1))
    settings = Settings(
        env="test",
        data_dir=workdir,
        database_url=url,
        executor_concurrency=concurrency,
        dispatch_batch=max(200, concurrency),
        job_modules="tests.support.jobkinds",
        log_level="WARNING",
    ).resolve_secrets()
    engine = make_engine(url)
    job_engine = JobEngine(settings, make_sessionmaker(engine), domains.engine_wiring(settings)).start()
    try:
        await wait_drained(url, jobs, timeout=600)
        figures = await ledger_figures(url, due, ids, server)
        figures.update(await pickup_latency(url, server))
    finally:
        await job_engine.stop()
        await engine.dispose()
    return figures


def start(args: list[str], env: dict[str, str], log: Path) -> subprocess.Popen[bytes]:
    return subprocess.Popen(
        args,
        cwd=REPO,
        env={**os.environ, "PYTHONPATH": str(REPO), **env},
        stdout=log.open("wb"),
        stderr=subprocess.STDOUT,
    )


def stop(processes: list[subprocess.Popen[bytes]]) -> None:
    for p in processes:
        p.terminate()
    for p in processes:
        try:
            p.wait(15)
        except subprocess.TimeoutExpired:
            p.kill()


async def fresh_postgres() -> str:
    import asyncpg

    name = f"autopilot_bench_{uuid.uuid4().hex[:8]}"
    conn = await asyncpg.connect(PG_SERVER)
    await conn.execute(f'CREATE DATABASE "{name}"')
    await conn.close()
    url = PG_SERVER.rsplit("/", 1)[0].replace("postgresql://", "postgresql+asyncpg://") + f"/{name}"
    await upgrade_async(url)
    return url


async def drop_postgres(url: str) -> None:
    import asyncpg

    conn = await asyncpg.connect(PG_SERVER)
    await conn.execute(f'DROP DATABASE IF EXISTS "{url.rsplit("/", 1)[1]}" WITH (FORCE)')
    await conn.close()


async def run_celery(server: RecorderProcess, jobs: int, concurrency: int, workdir: Path) -> dict[str, Any]:
    """PostgreSQL + a standalone dispatcher + 2 Celery worker processes over Redis."""
    url = await fresh_postgres()
    try:
        due, ids = await enqueue_due_together(url, jobs, server.url(delay=0.1))
        env = {
            "AUTOPILOT_DATABASE_URL": url,
            "AUTOPILOT_DATA_DIR": str(workdir),
            "AUTOPILOT_ENV": "test",
            "AUTOPILOT_CELERY_BROKER_URL": REDIS,
            "AUTOPILOT_CELERY_QUEUE": f"bench-{uuid.uuid4().hex[:6]}",
            "AUTOPILOT_JOB_MODULES": "tests.support.jobkinds",
            "AUTOPILOT_LOG_LEVEL": "WARNING",
            "AUTOPILOT_CELERY_MAX_INFLIGHT": str(concurrency),  # the same concurrency as bare
        }
        cli = [sys.executable, "-m", "autopilot.cli"]
        per_worker = max(1, concurrency // 2)
        processes = [start([*cli, "dispatcher"], env, workdir / "dispatcher.log")]
        processes += [
            start([*cli, "worker", f"--concurrency={per_worker}"], env, workdir / f"worker{i}.log") for i in range(2)
        ]
        try:
            await wait_drained(url, jobs, timeout=900)
            figures = await ledger_figures(url, due, ids, server)
            figures.update(await pickup_latency(url, server))
        finally:
            stop(processes)
        return figures
    finally:
        await drop_postgres(url)


async def run_celery_eta(server: RecorderProcess, jobs: int, concurrency: int, workdir: Path) -> dict[str, Any]:
    """The common approach: the same calls sent as Celery tasks with an ETA, 2 worker processes."""
    from bench.eta_tasks import app as eta_app

    queue = f"bench-eta-{uuid.uuid4().hex[:6]}"
    eta_app.conf.task_default_queue = queue
    env = {"BENCH_BROKER": REDIS, "BENCH_QUEUE": queue}
    per_worker = max(1, concurrency // 2)
    celery = [
        sys.executable,
        "-m",
        "celery",
        "-A",
        "bench.eta_tasks",
        "worker",
        "--pool=threads",
        f"--concurrency={per_worker}",
        f"--queues={queue}",
        "--without-gossip",
        "--without-mingle",
        "--loglevel=WARNING",
    ]
    processes = [start(celery, env, workdir / f"eta-worker{i}.log") for i in range(2)]
    url = server.url(delay=0.1)
    keys = [uuid.uuid4().hex for _ in range(jobs)]
    due = datetime.now(UTC) + timedelta(seconds=LEAD_S + jobs / 2000)
    try:
        for key in keys:
            eta_app.send_task("bench.eta_post", args=[url, key], eta=due, queue=queue)
        deadline = time.monotonic() + 900
        seen: set[str] = set()
        while time.monotonic() < deadline and len(seen) < jobs:
            await asyncio.sleep(0.5)
            seen = {k for k, _a, _t in server.records()["requests"]}
        await asyncio.sleep(2)  # let any duplicate deliveries show up
    finally:
        stop(processes)
    duplicates, lost, requests = counts_from_server(server, set(keys))
    first_seen: dict[str, float] = {}
    for key, _attempt, at in requests:
        first_seen.setdefault(key, at)
    # The server sees a request ~0 ms after the worker sends it; it answers 100 ms later.
    lateness = [at - due.timestamp() for at in first_seen.values()]
    drain = max(first_seen.values(), default=due.timestamp()) + 0.1 - due.timestamp()
    return summary(lateness, drain, duplicates, lost)


SCALE_TICKS = 60


async def prepare_ledger(url: str, future_jobs: int) -> AsyncEngine:
    """A ledger of *future_jobs* future jobs plus enough due ones for SCALE_TICKS claims of 100,
    analyzed as a running database keeps its statistics."""
    engine = make_engine(url)
    now = datetime.now(UTC)
    async with make_sessionmaker(engine)() as session, session.begin():
        await bulk_future(session, future_jobs, now + timedelta(days=30))
        for _ in range((SCALE_TICKS + 1) * 100):
            await ledger.enqueue(
                session,
                kind="test.call",
                payload={"url": "http://127.0.0.1:9/"},
                org_id=None,
                run_at=now - timedelta(seconds=1),
            )
    async with engine.connect() as conn:
        await conn.execute(text("ANALYZE jobs" if engine.dialect.name == "postgresql" else "ANALYZE"))
        await conn.commit()
    if engine.dialect.name == "sqlite":
        # A ledger that grew over time has been checkpointed along the way; this one was written
        # in one transaction, so fold its WAL back into the database file first.
        async with engine.connect() as conn:
            await conn.exec_driver_sql("COMMIT")  # our connections open a write transaction
            await conn.exec_driver_sql("PRAGMA wal_checkpoint(TRUNCATE)")
    return engine


async def one_tick(engine: AsyncEngine) -> float:
    """Seconds for one dispatch tick: claim (and start) 100 due jobs in one transaction."""
    started = time.perf_counter()
    async with make_sessionmaker(engine)() as session, session.begin():
        claimed = await ledger.claim_due(session, owner="bench", limit=100, lease_s=60, start=True)
    assert len(claimed) == 100
    return time.perf_counter() - started


async def tick_costs(small: AsyncEngine, big: AsyncEngine) -> tuple[float, float]:
    """Median tick cost of each ledger, ticks alternating between the two so that the machine's
    drift and noise fall on both alike (one warm-up tick each, not counted)."""
    await one_tick(small)
    await one_tick(big)
    costs: dict[int, list[float]] = {0: [], 1: []}
    for _ in range(SCALE_TICKS):
        for side, engine in ((0, small), (1, big)):
            costs[side].append(await one_tick(engine))
    return percentile(costs[0], 50) or 0.0, percentile(costs[1], 50) or 0.0


async def bulk_future(session: Any, count: int, run_at: datetime) -> None:
    """Insert *count* future jobs fast (set-based SQL), to grow the ledger."""

    if session.get_bind().dialect.name == "postgresql":
        await session.execute(
            text(
                "INSERT INTO jobs (kind, payload, due_at, run_at, priority, status, attempt, max_attempts, created_at,"
                " updated_at) SELECT 'test.call', '{\"url\": \"http://127.0.0.1:9/\"}', :at, :at, 0, 'scheduled', 0, 3,"
                " now(), now() FROM generate_series(1, :n)"
            ),
            {"at": run_at, "n": count},
        )
    else:
        stamp = run_at.replace(tzinfo=None).isoformat(sep=" ")
        await session.execute(
            text(
                "WITH RECURSIVE n(i) AS (SELECT 1 UNION ALL SELECT i + 1 FROM n WHERE i < :n) "
                "INSERT INTO jobs (kind, payload, due_at, run_at, priority, status, attempt, max_attempts, created_at,"
                " updated_at) SELECT 'test.call', '{\"url\": \"http://127.0.0.1:9/\"}', :at, :at, 0, 'scheduled', 0, 3,"
                " :at, :at FROM n"
            ),
            {"at": stamp, "n": count},
        )


async def run_scale(workdir: Path, big: int) -> dict[str, Any]:
    out: dict[str, Any] = {}
    for backend in ("sqlite", "postgresql"):
        urls: list[str] = []
        try:
            for size in (1_000, big):
                if backend == "sqlite":
                    urls.append(f"sqlite+aiosqlite:///{workdir / f'scale-{size}.db'}")
                    await upgrade_async(urls[-1])
                else:
                    urls.append(await fresh_postgres())
        except OSError as exc:
            say(f"scale: {backend} unavailable ({exc}); skipped")
            continue
        try:
            say(f"scale: {backend}, 1,000 vs {big:,} future jobs")
            small, large = await prepare_ledger(urls[0], 1_000), await prepare_ledger(urls[1], big)
            cost_small, cost_large = await tick_costs(small, large)
            await small.dispose()
            await large.dispose()
        finally:
            if backend == "postgresql":
                for url in urls:
                    await drop_postgres(url)
        out[backend] = {
            "tick_s_1k": round(cost_small, 5),
            f"tick_s_{big // 1000}k": round(cost_large, 5),
            "ratio": round(cost_large / cost_small, 3),
        }
    return out


async def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--jobs", type=int, default=10_000)
    parser.add_argument("--modes", default="bare,embedded,celery,celery-eta")
    parser.add_argument("--concurrency", type=int, default=100)
    parser.add_argument("--scale", action="store_true", help="also measure dispatch cost vs ledger size")
    parser.add_argument("--scale-size", type=int, default=1_000_000)
    args = parser.parse_args()
    from autopilot.kit.logging import configure_logging

    configure_logging("WARNING")
    import tests.support.jobkinds  # noqa: F401  (the job kind: one HTTP POST)

    modes = [m.strip() for m in args.modes.split(",") if m.strip()]
    runners = {"bare": run_bare, "embedded": run_embedded, "celery": run_celery, "celery-eta": run_celery_eta}
    unknown = set(modes) - runners.keys()
    if unknown:
        parser.error(f"unknown modes {sorted(unknown)}; choose from {sorted(runners)}")
    server = RecorderProcess()
    results: dict[str, Any] = {}
    try:
        with tempfile.TemporaryDirectory(prefix="autopilot-bench-") as tmp:
            for mode in modes:
                httpx.post(f"{server.base}/reset", timeout=30)
                say(f"{mode}: {args.jobs:,} jobs at concurrency {args.concurrency}")
                workdir = Path(tmp) / mode
                workdir.mkdir()
                if mode == "bare":
                    results[mode] = await run_bare(server, args.jobs, args.concurrency)
                else:
                    results[mode] = await runners[mode](server, args.jobs, args.concurrency, workdir)  # type: ignore[operator]
                say(f"{mode}: {results[mode]}")
            scale = await run_scale(Path(tmp), args.scale_size) if args.scale else None
    finally:
        server.stop()
    ratios = {}
    bare = results.get("bare", {}).get("drain_s")
    for mode, name in (
        ("embedded", "embedded_vs_bare"),
        ("celery", "celery_vs_bare"),
        ("celery-eta", "celery_eta_vs_bare"),
    ):
        if bare and mode in results:
            ratios[name] = round(results[mode]["drain_s"] / bare, 3)
    line: dict[str, Any] = {"jobs": args.jobs, "concurrency": args.concurrency, "results": results, "ratios": ratios}
    if scale is not None:
        line["scale"] = scale
    print(json.dumps(line))


if __name__ == "__main__":
    _ = free_port
    asyncio.run(main())
