"""Slot rush: N organizations, each with one approved LinkedIn post in a slot, every slot landing on
the same UTC instant T, published through the real scheduling and publishing code against the
LinkedIn sandbox (a separate process answering each /rest call after --latency-ms).

    python -m bench.slot_rush [--orgs 10000] [--modes bare,embedded,celery,celery-eta]
                              [--latency-ms 150] [--concurrency 500] [--probe-posts 1000]

Modes, each against a fresh sandbox process:
- embedded: SQLite + the in-process engine of `autopilot serve` (AUTOPILOT_EXECUTOR_CONCURRENCY=C).
- celery: PostgreSQL + `autopilot serve` (web only) + `autopilot dispatcher` + 2 `autopilot worker`
  processes on Redis, C/2 threads each, AUTOPILOT_CELERY_MAX_INFLIGHT=C.
- celery-eta: the common approach: one Celery task per post sent with eta=T (bench.eta_tasks), no
  ledger, 2 worker processes of C/2 threads, each task making the same POST /rest/posts.
- bare: the physical limit: plain asyncio + httpx, C concurrent clients making the same calls at T.

Set-up (bench/_support/orgs.py) goes through the product: accounts inserted in bulk via its
models, LinkedIn connected with `store_grant` using tokens the sandbox minted for each member,
content created and approved, the weekly schedule set with `change_schedule` and the post queued
with `scheduling.service.queue(slot="next")`. Slots: a literal 06:30 slot in zones that share a UTC
instant would mean waiting for a real 06:30, so T is chosen once set-up time is known (the next
whole minute after the estimated set-up plus a margin) and each organization (zones from a varied
list) gets a weekly slot at T's local wall time in its zone: the slots differ locally and all land
on T. The JSON says so in "slot_note".

Figures come from the sandbox's own record: lateness = (post created_at - latency) - T, i.e. when
the sandbox received the call; duplicates = posts beyond the first per member; lost = members with
no post after the drain timeout. Each mode's ratio to bare divides its p99 lateness by bare's.

While the rush runs, one client probes GET /api/v1/schedule (a year's window) back to back for a
probe organization with --probe-posts scheduled posts; the same probe before T, on the idle
server, is reported beside it (embedded and celery modes). Prints one JSON line; progress on stderr.
"""

from __future__ import annotations

import argparse
import asyncio
import importlib
import json
import os
import platform
import ssl
import sys
import tempfile
import threading
import time
import uuid
from collections import Counter
from datetime import UTC, datetime, timedelta
from pathlib import Path
from typing import Any
from zoneinfo import ZoneInfo

import httpx
from cryptography.fernet import Fernet
from sqlalchemy import func, select
from tests.support.crowd import ServerProcess
from tests.support.linkedin_sandbox import SandboxServer

from autopilot.content.models import Content
from autopilot.domains import DOMAINS, load_models
from autopilot.kit.crypto import KeyRing
from autopilot.kit.db import make_engine, make_sessionmaker
from autopilot.kit.migrate import upgrade_async
from autopilot.worker.health import percentile
from bench._support.load import Timings, client, parse_list, ratio, say, timed
from bench._support.orgs import Population, mint
from bench.jobs import REDIS, drop_postgres, fresh_postgres, start, stop

VERSION = "202609"
MARGIN_S = 30.0  # between the end of set-up (and server start) and T
IDLE_PROBES = 500  # the probe before T: enough for a p99, without heating the machine for minutes
SLOT_NOTE = (
    "each organization's weekly slot is T's local wall time in its own zone (15 zones), so every slot "
    "lands on the same UTC instant T, chosen after set-up instead of a literal 06:30"
)


def post_body(author: str, text: str) -> dict[str, Any]:
    """The body our connector sends for a text post (content.service.Publication._body)."""
    return {
        "author": author,
        "commentary": text,
        "visibility": "PUBLIC",
        "distribution": {"feedDistribution": "MAIN_FEED", "targetEntities": [], "thirdPartyDistributionChannels": []},
        "lifecycleState": "PUBLISHED",
        "isReshareDisabledByAuthor": False,
    }


def next_minute(after: datetime) -> datetime:
    return (after + timedelta(minutes=1)).replace(second=0, microsecond=0)


# -- what the sandbox saw ---------------------------------------------------------------------


def sandbox_figures(sandbox_url: str, authors: set[str], target: datetime, latency_ms: int) -> dict[str, Any]:
    posts = httpx.get(f"{sandbox_url}/_sandbox/posts", timeout=120).json()["elements"]
    mine = [p for p in posts if p["author"] in authors]
    per_author = Counter(p["author"] for p in mine)
    first: dict[str, float] = {}
    for p in sorted(mine, key=lambda p: p["created_at"]):
        first.setdefault(p["author"], p["created_at"] / 1000 - latency_ms / 1000)
    lateness = [at - target.timestamp() for at in first.values()]

    def r(v: float | None) -> float | None:
        return None if v is None else round(v, 3)

    return {
        "posts": len(mine),
        "lateness_p50_s": r(percentile(lateness, 50)),
        "lateness_p99_s": r(percentile(lateness, 99)),
        "lateness_max_s": r(max(lateness, default=None)),
        "duplicates": sum(n - 1 for n in per_author.values()),
        "lost": len(authors - set(per_author)),
    }


def created_count(sandbox_url: str) -> int:
    stats = httpx.get(f"{sandbox_url}/_sandbox/stats", timeout=30).json()
    return sum(n for key, n in stats["requests"].items() if key == "posts.create 201")


async def wait_posts(sandbox_url: str, expected: int, timeout_s: float) -> None:
    """Until the sandbox created *expected* posts (or the timeout), then 2 s for late duplicates."""
    deadline = time.monotonic() + timeout_s
    while time.monotonic() < deadline and await asyncio.to_thread(created_count, sandbox_url) < expected:
        await asyncio.sleep(0.5)
    await asyncio.sleep(2)


def cpu_seconds(pid: int) -> float | None:
    """User + system CPU seconds a process has used so far (Linux /proc; None elsewhere)."""
    try:
        fields = Path(f"/proc/{pid}/stat").read_text().rsplit(")", 1)[1].split()
    except OSError:
        return None
    return (int(fields[11]) + int(fields[12])) / os.sysconf("SC_CLK_TCK")


class SandboxCpu:
    """The sandbox's own CPU seconds from start() to stop(): the time one core needs just to receive
    the rush, which bounds every mode's lateness from below (the sandbox is one uvicorn process)."""

    def __init__(self, sandbox: SandboxServer) -> None:
        assert sandbox.process is not None
        self.pid = sandbox.process.pid
        self.began: float | None = None

    def start(self) -> None:
        self.began = cpu_seconds(self.pid)

    def stop(self) -> float | None:
        now = cpu_seconds(self.pid)
        return None if now is None or self.began is None else round(now - self.began, 2)


async def sleep_until(moment: datetime) -> None:
    await asyncio.sleep(max(0.0, (moment - datetime.now(UTC)).total_seconds()))


# -- the schedule probe -----------------------------------------------------------------------


def probe_path(zone: str) -> str:
    today = datetime.now(ZoneInfo(zone)).date()
    return f"/api/v1/schedule?from={today.isoformat()}&to={(today + timedelta(days=365)).isoformat()}"


async def probe(base_url: str, token: str, path: str, *, until: threading.Event, most: int | None = None) -> Timings:
    """GET *path* back to back on one connection until the event is set (or *most* probes)."""
    timings = Timings()
    async with client(base_url, {"Authorization": f"Bearer {token}"}) as http:
        first = await http.get(path)
        first.raise_for_status()
        started = time.perf_counter()
        while not until.is_set() and (most is None or len(timings.latencies) < most):
            await timed(http, "GET", path, timings)
        timings.wall_s = time.perf_counter() - started
    return timings


def probe_figures(timings: Timings, rows: int) -> dict[str, Any]:
    out = timings.figures()
    out["rows"] = rows
    return out


async def probe_aside(base_url: str, token: str, path: str, until: threading.Event, most: int | None = None) -> Timings:
    """probe() on its own thread and event loop, so that nothing in this process delays it."""
    return await asyncio.to_thread(lambda: asyncio.run(probe(base_url, token, path, until=until, most=most)))


# -- the product modes ------------------------------------------------------------------------


class ProductRun:
    """One product mode: a database populated through the product, its processes, the rush."""

    def __init__(self, args: argparse.Namespace, url: str, sandbox: SandboxServer, workdir: Path) -> None:
        self.args, self.url, self.sandbox, self.workdir = args, url, sandbox, workdir
        self.keys = Fernet.generate_key().decode()
        self.population = Population(url, KeyRing(self.keys), sandbox.url, say)

    def env(self) -> dict[str, str]:
        return {
            "AUTOPILOT_ENV": "test",
            "AUTOPILOT_SECRET_KEY": "s" * 48,
            "AUTOPILOT_ENCRYPTION_KEYS": self.keys,
            "AUTOPILOT_LINKEDIN_AUTH_URL": self.sandbox.url,
            "AUTOPILOT_LINKEDIN_API_URL": self.sandbox.url,
            "AUTOPILOT_LINKEDIN_VERSION": VERSION,
            "AUTOPILOT_LOG_LEVEL": "WARNING",
            "AUTOPILOT_LOG_JSON": "true",
        }

    async def populate(self, startup_s: float) -> tuple[datetime, float]:
        """Both set-up phases; T is planned from the first phase's pace. (T, set-up seconds)."""
        began = time.monotonic()
        per_org = await self.population.connect(self.args.orgs)
        await self.population.fill_probe(self.args.probe_posts)
        lead = self.args.lead_s or 2 * per_org * self.args.orgs + startup_s + MARGIN_S
        target = next_minute(datetime.now(UTC) + timedelta(seconds=lead))
        say(f"T = {target:%H:%M:%S} UTC ({(target - datetime.now(UTC)).total_seconds():.0f} s from now)")
        await self.population.queue_at(target)
        return target, time.monotonic() - began

    async def states(self) -> dict[str, int]:
        engine = make_engine(self.url)
        orgs = [m.org_id for m in self.population.members]
        out: Counter[str] = Counter()
        try:
            async with make_sessionmaker(engine)() as session:
                for i in range(0, len(orgs), 5000):
                    rows = await session.execute(
                        select(Content.state, func.count())
                        .where(Content.org_id.in_(orgs[i : i + 5000]))
                        .group_by(Content.state)
                    )
                    out.update({str(state): int(n) for state, n in rows.all()})
        finally:
            await engine.dispose()
        return dict(out)

    async def rush(self, web: ServerProcess, target: datetime, setup_s: float) -> dict[str, Any]:
        """Probe the idle server until shortly before T, then the rush with the probe beside it."""
        probe_org = self.population.probe
        assert probe_org is not None
        path = probe_path(probe_org.zone)
        token = self.population.probe_token
        rows = len(httpx.get(f"{web.base_url}{path}", headers={"Authorization": f"Bearer {token}"}, timeout=60).json())
        margin = (target - datetime.now(UTC)).total_seconds()
        say(f"server up; {margin:.0f} s to T; probing the idle schedule ({rows} rows)")
        stop_idle = threading.Event()
        threading.Timer(max(0.5, margin - 3), stop_idle.set).start()
        idle = await probe_aside(web.base_url, token, path, stop_idle, most=IDLE_PROBES)
        await sleep_until(target)
        say("T: the rush is on")
        cpu = SandboxCpu(self.sandbox)
        cpu.start()
        stop_rush = threading.Event()
        during = asyncio.create_task(probe_aside(web.base_url, token, path, stop_rush))
        try:
            await wait_posts(self.sandbox.url, len(self.population.members), self.args.drain_timeout)
        finally:
            stop_rush.set()
        sandbox_cpu_s = cpu.stop()
        rushed = await during
        authors = {m.author for m in self.population.members}
        figures = sandbox_figures(self.sandbox.url, authors, target, self.args.latency_ms)
        figures.update(
            sandbox_cpu_s=sandbox_cpu_s,
            setup_s=round(setup_s, 1),
            margin_before_t_s=round(margin, 1),
            content_states=await self.states(),
            schedule_probe={"idle": probe_figures(idle, rows), "rush": probe_figures(rushed, rows)},
        )
        return figures


async def run_embedded(args: argparse.Namespace, sandbox: SandboxServer, workdir: Path) -> dict[str, Any]:
    url = f"sqlite+aiosqlite:///{workdir / 'rush.db'}"
    await upgrade_async(url)
    run = ProductRun(args, url, sandbox, workdir)
    try:
        target, setup_s = await run.populate(startup_s=10)
        env = {
            **run.env(),
            "AUTOPILOT_EXECUTOR_CONCURRENCY": str(args.concurrency),
            "AUTOPILOT_DISPATCH_BATCH": str(max(200, args.concurrency)),
        }
        with ServerProcess(url, workdir, env, migrate=False) as web:
            return await run.rush(web, target, setup_s)
    finally:
        await run.population.close()


async def run_celery(args: argparse.Namespace, sandbox: SandboxServer, workdir: Path) -> dict[str, Any]:
    url = await fresh_postgres()
    run = ProductRun(args, url, sandbox, workdir)
    try:
        target, setup_s = await run.populate(startup_s=20)
        env = {
            **run.env(),
            "AUTOPILOT_DATABASE_URL": url,
            "AUTOPILOT_DATA_DIR": str(workdir),
            "AUTOPILOT_RUN_JOB_ENGINE": "false",
            "AUTOPILOT_CELERY_BROKER_URL": REDIS,
            "AUTOPILOT_CELERY_QUEUE": f"bench-rush-{uuid.uuid4().hex[:6]}",
            "AUTOPILOT_CELERY_MAX_INFLIGHT": str(args.concurrency),
            "AUTOPILOT_DISPATCH_BATCH": str(max(200, args.concurrency)),
        }
        cli = [sys.executable, "-m", "autopilot.cli"]
        per_worker = max(1, args.concurrency // 2)
        processes = [start([*cli, "dispatcher"], env, workdir / "dispatcher.log")]
        processes += [
            start([*cli, "worker", f"--concurrency={per_worker}"], env, workdir / f"worker{i}.log") for i in range(2)
        ]
        try:
            with ServerProcess(url, workdir, env, migrate=False) as web:
                return await run.rush(web, target, setup_s)
        finally:
            stop(processes)
    finally:
        await run.population.close()
        if args.keep:
            say(f"celery: the database is kept: {url}")
        else:
            await drop_postgres(url)


# -- the peers --------------------------------------------------------------------------------


def peer_members(sandbox: SandboxServer, orgs: int) -> list[tuple[str, str]]:
    """(token, author URN) of *orgs* members, minted by the sandbox."""
    run = uuid.uuid4().hex[:6]
    minted = mint(sandbox.url, [f"Peer {run} Member {i}" for i in range(orgs)])
    return [(m["access_token"], f"urn:li:person:{m['sub']}") for m in minted]


def peer_figures(
    args: argparse.Namespace, sandbox: SandboxServer, members: list[tuple[str, str]], target: datetime
) -> dict[str, Any]:
    return sandbox_figures(sandbox.url, {author for _t, author in members}, target, args.latency_ms)


async def run_bare(args: argparse.Namespace, sandbox: SandboxServer, workdir: Path) -> dict[str, Any]:
    """C clients, each with its own httpx.AsyncClient, sharing the posts from T on."""
    members = peer_members(sandbox, args.orgs)
    queue: asyncio.Queue[tuple[str, str]] = asyncio.Queue()
    for member in members:
        queue.put_nowait(member)
    tls = ssl.create_default_context()  # loaded once, as kit.http does
    clients = [httpx.AsyncClient(timeout=60, verify=tls) for _ in range(args.concurrency)]
    target = datetime.now(UTC) + timedelta(seconds=2)  # the clients are made: nothing is left to prepare
    failures = Counter[int]()

    async def worker(http: httpx.AsyncClient) -> None:
        async with http:
            await sleep_until(target)
            while not queue.empty():
                token, author = queue.get_nowait()
                headers = {"Authorization": f"Bearer {token}", "LinkedIn-Version": VERSION,
                           "X-Restli-Protocol-Version": "2.0.0"}  # fmt: skip
                body = post_body(author, "Slot rush post")
                response = await http.post(f"{sandbox.url}/rest/posts", json=body, headers=headers)
                if response.status_code != 201:
                    failures[response.status_code] += 1

    cpu = SandboxCpu(sandbox)
    cpu.start()
    client_began = time.process_time()
    await asyncio.gather(*(worker(http) for http in clients))
    client_cpu_s = round(time.process_time() - client_began, 2)
    await asyncio.sleep(1)
    sandbox_cpu_s = cpu.stop()
    figures = peer_figures(args, sandbox, members, target)
    figures["sandbox_cpu_s"] = sandbox_cpu_s
    figures["client_cpu_s"] = client_cpu_s  # httpx making the calls, and nothing else
    if sandbox_cpu_s is not None:  # both spread perfectly over every core: no client can do better
        figures["floor_s"] = round((sandbox_cpu_s + client_cpu_s) / (os.cpu_count() or 1), 2)
    figures["failed_statuses"] = {str(k): v for k, v in failures.items()}
    return figures


async def run_celery_eta(args: argparse.Namespace, sandbox: SandboxServer, workdir: Path) -> dict[str, Any]:
    """One Celery task per post with eta=T, 2 worker processes of C/2 threads, no ledger."""
    from bench.eta_tasks import app as eta_app

    members = peer_members(sandbox, args.orgs)
    queue = f"bench-rush-eta-{uuid.uuid4().hex[:6]}"
    eta_app.conf.task_default_queue = queue
    per_worker = max(1, args.concurrency // 2)
    celery = [
        sys.executable, "-m", "celery", "-A", "bench.eta_tasks", "worker", "--pool=threads",
        f"--concurrency={per_worker}", f"--queues={queue}", "--without-gossip", "--without-mingle",
        "--loglevel=WARNING",
    ]  # fmt: skip
    processes = [
        start(celery, {"BENCH_BROKER": REDIS, "BENCH_QUEUE": queue}, workdir / f"eta{i}.log") for i in range(2)
    ]
    target = next_minute(datetime.now(UTC) + timedelta(seconds=10 + args.orgs / 1000))
    try:
        for token, author in members:
            body = post_body(author, "Slot rush post")
            eta_app.send_task(
                "bench.eta_linkedin_post", args=[sandbox.url, token, body, VERSION], eta=target, queue=queue
            )
        margin = (target - datetime.now(UTC)).total_seconds()
        say(f"celery-eta: {len(members):,} tasks sent, {margin:.0f} s to T")
        await sleep_until(target)
        cpu = SandboxCpu(sandbox)
        cpu.start()
        await wait_posts(sandbox.url, len(members), args.drain_timeout)
        sandbox_cpu_s = cpu.stop()
    finally:
        stop(processes)
    figures = peer_figures(args, sandbox, members, target)
    figures["sandbox_cpu_s"] = sandbox_cpu_s
    figures["margin_before_t_s"] = round(margin, 1)
    return figures


# -- main -------------------------------------------------------------------------------------

RUNNERS = {"bare": run_bare, "embedded": run_embedded, "celery": run_celery, "celery-eta": run_celery_eta}
GOALS_P99_S = {"embedded": 10.0, "celery": 5.0}
PROBE_GOAL_MS = 100.0


def parse_args(argv: list[str] | None = None) -> argparse.Namespace:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--orgs", type=int, default=10_000)
    parser.add_argument("--modes", default="bare,embedded,celery,celery-eta")
    parser.add_argument("--latency-ms", type=int, default=150)
    parser.add_argument("--concurrency", type=int, default=500, help="engine, Celery and bare concurrency")
    parser.add_argument("--probe-posts", type=int, default=1000)
    parser.add_argument("--drain-timeout", type=float, default=900)
    parser.add_argument("--lead-s", type=float, default=0, help="seconds from set-up phase 1 to T (0: estimate)")
    parser.add_argument("--keep", type=Path, help="keep each mode's databases and logs in this new directory")
    args = parser.parse_args(argv)
    args.mode_list = parse_list(args.modes, set(RUNNERS))
    return args


def goals(results: dict[str, Any]) -> dict[str, Any]:
    out: dict[str, Any] = {}
    for mode, limit in GOALS_P99_S.items():
        if mode not in results:
            continue
        r = results[mode]
        probe = r["schedule_probe"]["rush"]["p99_ms"]
        out[mode] = {
            "lateness_p99": r["lateness_p99_s"] is not None and r["lateness_p99_s"] <= limit,
            "no_duplicates": r["duplicates"] == 0,
            "none_lost": r["lost"] == 0,
            "schedule_probe_p99_under_100ms": probe is not None and probe < PROBE_GOAL_MS,
        }
    return out


async def main(argv: list[str] | None = None) -> None:
    args = parse_args(argv)
    load_models()
    for module in (m for domain in DOMAINS for m in domain.job_modules):
        importlib.import_module(module)  # the job kinds that set-up enqueues (token refresh, slots)
    from autopilot.kit.logging import configure_logging

    configure_logging("WARNING")
    results: dict[str, Any] = {}
    with tempfile.TemporaryDirectory(prefix="autopilot-bench-rush-") as tmp:
        for mode in args.mode_list:
            workdir = (args.keep or Path(tmp)) / mode
            workdir.mkdir(parents=True)
            say(f"{mode}: {args.orgs:,} organizations, concurrency {args.concurrency}, latency {args.latency_ms} ms")
            with SandboxServer("--latency-ms", str(args.latency_ms)) as sandbox:
                results[mode] = await RUNNERS[mode](args, sandbox, workdir)
            say(f"{mode}: {json.dumps(results[mode])}")
    bare_p99 = results.get("bare", {}).get("lateness_p99_s")
    line = {
        "orgs": args.orgs,
        "latency_ms": args.latency_ms,
        "concurrency": args.concurrency,
        "slot_note": SLOT_NOTE,
        "machine": {"cpus": os.cpu_count(), "python": platform.python_version(), "platform": platform.platform()},
        "results": results,
        "p99_vs_bare": {m: ratio(r["lateness_p99_s"], bare_p99) for m, r in results.items() if m != "bare"},
        "goals": goals(results),
    }
    print(json.dumps(line))


if __name__ == "__main__":
    asyncio.run(main())
