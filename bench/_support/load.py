"""Drive a server with real HTTP clients and turn what they saw into figures.

Every client has its own httpx.AsyncClient and one connection, opened before the clock starts;
latency is measured around each request, body included. The clients run in this process (one
event loop), so their own cost is in every figure alike, the empty endpoint's included.
"""

from __future__ import annotations

import asyncio
import sys
import threading
import time
from collections import Counter
from collections.abc import AsyncIterator, Mapping
from contextlib import asynccontextmanager
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

import httpx
from tests.support import databases

from autopilot.worker.health import percentile

CLIENT_TIMEOUT_S = 300.0
ONE_CONNECTION = httpx.Limits(max_connections=1, max_keepalive_connections=1)


def say(message: str) -> None:
    print(f"[bench] {message}", file=sys.stderr, flush=True)


def ms(seconds: float | None) -> float | None:
    return None if seconds is None else round(seconds * 1000, 2)


def ratio(numerator: float | None, denominator: float | None) -> float | None:
    if numerator is None or not denominator:
        return None
    return round(numerator / denominator, 3)


def client(base_url: str, headers: Mapping[str, str] | None = None) -> httpx.AsyncClient:
    return httpx.AsyncClient(base_url=base_url, timeout=CLIENT_TIMEOUT_S, limits=ONE_CONNECTION, headers=headers)


@dataclass
class Timings:
    """What a set of clients saw: each request's latency (s) and status (0: transport error)."""

    latencies: list[float] = field(default_factory=list)
    statuses: Counter[int] = field(default_factory=Counter)
    wall_s: float = 0.0

    def add(self, seconds: float, status: int) -> None:
        self.latencies.append(seconds)
        self.statuses[status] += 1

    def merge(self, other: Timings) -> None:
        self.latencies += other.latencies
        self.statuses.update(other.statuses)
        self.wall_s += other.wall_s

    @property
    def server_errors(self) -> int:
        return sum(n for status, n in self.statuses.items() if status >= 500)

    def figures(self) -> dict[str, Any]:
        done = len(self.latencies)
        return {
            "requests": done,
            "rps": round(done / self.wall_s, 1) if self.wall_s else None,
            "p50_ms": ms(percentile(self.latencies, 50)),
            "p99_ms": ms(percentile(self.latencies, 99)),
            "statuses": {str(s): n for s, n in sorted(self.statuses.items())},
        }


async def timed(
    http: httpx.AsyncClient, method: str, path: str, timings: Timings, **kwargs: Any
) -> httpx.Response | None:
    started = time.perf_counter()
    try:
        response = await http.request(method, path, **kwargs)
    except httpx.HTTPError:
        timings.add(time.perf_counter() - started, 0)
        return None
    timings.add(time.perf_counter() - started, response.status_code)
    return response


async def hammer(
    base_url: str,
    path: str,
    *,
    concurrency: int,
    requests: int,
    headers: Mapping[str, str] | None = None,
    warm_path: str = "/healthz",
) -> Timings:
    """*requests* GETs of *path* shared among *concurrency* clients, each sending its next request
    as soon as the last one answered (a closed loop); the clock starts once all are connected
    (each client opens its connection with a GET of *warm_path*, not counted)."""
    timings = Timings()
    left = requests
    ready = asyncio.Barrier(concurrency + 1)

    async def one_client() -> None:
        nonlocal left
        async with client(base_url, headers) as http:
            try:
                (await http.get(warm_path)).raise_for_status()
            except BaseException:
                await ready.abort()
                raise
            await ready.wait()
            while left > 0:
                left -= 1
                await timed(http, "GET", path, timings)

    clients = [asyncio.create_task(one_client()) for _ in range(concurrency)]
    try:
        await ready.wait()
    except asyncio.BrokenBarrierError:
        outcomes = await asyncio.gather(*clients, return_exceptions=True)
        raise next(
            o for o in outcomes if isinstance(o, BaseException) and not isinstance(o, asyncio.BrokenBarrierError)
        ) from None
    started = time.perf_counter()
    await asyncio.gather(*clients)
    timings.wall_s = time.perf_counter() - started
    return timings


async def probe_health(
    base_url: str, *, every_s: float = 0.02, samples: int | None = None, until: threading.Event | None = None
) -> Timings:
    """GET /healthz started every *every_s* (one at a time, on one connection), for *samples*
    probes or until the event is set; a probe that fails counts with status 0."""
    timings = Timings()
    async with client(base_url) as http:
        await http.get("/healthz")
        started = time.perf_counter()
        while (samples is None or len(timings.latencies) < samples) and not (until is not None and until.is_set()):
            await timed(http, "GET", "/healthz", timings)
            await asyncio.sleep(max(0.0, every_s - timings.latencies[-1]))
        timings.wall_s = time.perf_counter() - started
    return timings


async def probe_health_aside(base_url: str, **options: Any) -> Timings:
    """probe_health on its own thread and event loop, so that the load's clients in this process
    do not delay the probes (set options["until"], a threading.Event, to stop it)."""
    return await asyncio.to_thread(lambda: asyncio.run(probe_health(base_url, **options)))


@asynccontextmanager
async def fresh_database(kind: str, directory: Path) -> AsyncIterator[str]:
    """The URL of an empty database of *kind* (sqlite: a file the server migrates; postgresql:
    a new migrated database on the test server, dropped afterwards)."""
    if kind == "sqlite":
        yield f"sqlite+aiosqlite:///{directory / 'bench.db'}"
        return
    why = await databases.postgres_available()
    if why is not None:
        raise RuntimeError(f"PostgreSQL does not answer: {why}")
    url = await databases.create_postgres_database()
    try:
        yield url
    finally:
        await databases.drop_postgres_database(url)


def parse_list(text: str, allowed: set[str]) -> list[str]:
    chosen = [item.strip() for item in text.split(",") if item.strip()]
    unknown = set(chosen) - allowed
    if unknown:
        raise SystemExit(f"unknown {sorted(unknown)}; choose from {sorted(allowed)}")
    return chosen
