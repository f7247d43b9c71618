"""Sign-up and log-in under a crowd: N users, each with its own client, all released at the same
instant, each signing up then logging in, against the real server process (`autopilot serve`).

    python -m bench.auth [--users 200] [--databases sqlite,postgresql]

While they run, GET /healthz is probed every ~20 ms (from its own thread); its p99 is compared
with the idle p99 measured just before (goals: under load <= 5x idle and < 100 ms; no 5xx at all).
Prints one JSON line: {"users", "results": {database: {wall_s, errors_5xx, signup: {...},
login: {...}, healthz: {...}, goals: {...}}}}. Progress goes to stderr.
"""

from __future__ import annotations

import argparse
import asyncio
import json
import tempfile
import threading
import time
from pathlib import Path
from typing import Any

from tests.support.accounts import PASSWORD
from tests.support.crowd import ServerProcess

from autopilot.worker.health import percentile
from bench._support.load import Timings, client, fresh_database, ms, parse_list, probe_health_aside, ratio, say, timed

IDLE_PROBES = 250  # ~5 s, so that the idle p99 is not just the slowest of a few
SETTLE_PROBES = 50  # the first second after start is slower (warm-up): not counted as idle
HEALTH_RATIO_GOAL = 5.0
HEALTH_P99_GOAL_S = 0.1


async def crowd_signs_up_and_logs_in(base_url: str, users: int) -> tuple[Timings, Timings, float]:
    """Each user signs up then logs in on its own connection; all start together. Returns the
    timings of each step and the wall time from the start to the last answer."""
    signups, logins = Timings(), Timings()
    ready = asyncio.Barrier(users + 1)

    async def user(i: int) -> None:
        email = f"user{i}@example.com"
        async with client(base_url) as http:
            await http.get("/healthz")  # connected before the start
            await ready.wait()
            body = {"email": email, "password": PASSWORD, "organization_name": f"Org {i}"}
            await timed(http, "POST", "/api/v1/auth/signup", signups, json=body)
            # Each user from an address of their own, as 200 people would be (through a trusted proxy).
            address = {"X-Forwarded-For": f"10.0.{i // 250}.{i % 250 + 1}"}
            login = {"email": email, "password": PASSWORD}
            await timed(http, "POST", "/api/v1/auth/login", logins, json=login, headers=address)

    crowd = [asyncio.create_task(user(i)) for i in range(users)]
    await ready.wait()
    started = time.perf_counter()
    await asyncio.gather(*crowd)
    return signups, logins, time.perf_counter() - started


def health_figures(idle: Timings, loaded: Timings) -> dict[str, Any]:
    idle_p99, load_p99 = percentile(idle.latencies, 99), percentile(loaded.latencies, 99)
    return {
        "idle_p99_ms": ms(idle_p99),
        "load_p99_ms": ms(load_p99),
        "load_max_ms": ms(max(loaded.latencies, default=None)),
        "ratio": ratio(load_p99, idle_p99),
        "probes": {"idle": len(idle.latencies), "load": len(loaded.latencies)},
        "failed_probes": idle.statuses[0] + loaded.statuses[0],
    }


async def run_database(kind: str, users: int, workdir: Path) -> dict[str, Any]:
    async with fresh_database(kind, workdir) as url:
        with ServerProcess(url, workdir, {"AUTOPILOT_TRUSTED_PROXIES": "127.0.0.1"}) as server:
            say(f"{kind}: server up at {server.base_url} (log: {server.log_path}); idle /healthz probes")
            await probe_health_aside(server.base_url, samples=SETTLE_PROBES)
            idle = await probe_health_aside(server.base_url, samples=IDLE_PROBES)
            say(f"{kind}: {users} users sign up then log in, all at once")
            stop = threading.Event()
            prober = asyncio.create_task(probe_health_aside(server.base_url, until=stop))
            signups, logins, wall_s = await crowd_signs_up_and_logs_in(server.base_url, users)
            stop.set()
            loaded = await prober
            if signups.server_errors or logins.server_errors:
                say(f"{kind}: 5xx answers; the end of the server's log:\n{server.log_tail(3000)}")
    health = health_figures(idle, loaded)
    load_p99 = percentile(loaded.latencies, 99)
    errors_5xx = signups.server_errors + logins.server_errors
    steps = {}
    for name, step in (("signup", signups), ("login", logins)):
        figures = step.figures()
        steps[name] = {k: figures[k] for k in ("p50_ms", "p99_ms", "statuses")}
    return {
        "wall_s": round(wall_s, 3),
        "errors_5xx": errors_5xx,
        "transport_errors": signups.statuses[0] + logins.statuses[0],
        **steps,
        "healthz": health,
        "goals": {
            "no_5xx": errors_5xx == 0,
            "healthz_within_5x_idle": health["ratio"] is not None and health["ratio"] <= HEALTH_RATIO_GOAL,
            "healthz_under_100ms": load_p99 is not None and load_p99 < HEALTH_P99_GOAL_S,
        },
    }


async def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--users", type=int, default=200)
    parser.add_argument("--databases", default="sqlite,postgresql")
    args = parser.parse_args()
    kinds = parse_list(args.databases, {"sqlite", "postgresql"})
    results: dict[str, Any] = {}
    with tempfile.TemporaryDirectory(prefix="autopilot-bench-auth-") as tmp:
        for kind in kinds:
            workdir = Path(tmp) / kind
            workdir.mkdir()
            results[kind] = await run_database(kind, args.users, workdir)
            say(f"{kind}: {json.dumps(results[kind])}")
    print(json.dumps({"users": args.users, "results": results}))


if __name__ == "__main__":
    asyncio.run(main())
