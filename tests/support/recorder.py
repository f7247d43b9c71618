"""A local HTTP server that stands for "the outside world" in job tests and benchmarks.

POST /effect applies its effect EVERY time a request is not refused, even with an Idempotency-Key
it has seen: a server that deduplicated could not tell a test that we sent a request twice. Tests
read `effects` (key -> times applied; "exactly once" means 1) and `requests` (every POST, refused
or not). GET /seen?key=K answers whether K's effect exists (a reconcile lookup) and is logged in
`lookups`.
Query options of /effect: delay (s), fail (answer `status` to the first N requests of a key),
status, retry_after, lose (apply the key's first effect, then answer 502 as if the response was
lost), idempotent=1 (opt in to honouring Idempotency-Key: a replay answers 200 without applying;
only for tests about a handler that relies on the remote's key, decision 0003).
Run it as its own process: python -m tests.support.recorder --port N
"""

from __future__ import annotations

import argparse
import asyncio
import contextlib
import os
import socket
import subprocess
import sys
import time
from collections import Counter
from pathlib import Path

import httpx
from starlette.applications import Starlette
from starlette.requests import Request
from starlette.responses import JSONResponse, Response
from starlette.routing import Route

REPO = Path(__file__).resolve().parents[2]


class Records:
    def __init__(self) -> None:
        self.effects: Counter[str] = Counter()  # key -> times the effect was applied (must be 1)
        self.requests: list[tuple[str, int, float]] = []  # (key, attempt, time) for every POST
        self.received: Counter[str] = Counter()  # key -> POSTs received, for `fail`
        self.lookups: list[str] = []  # the key of every GET /seen


def build_app() -> Starlette:
    records = Records()

    async def effect(request: Request) -> Response:
        key = request.headers.get("idempotency-key", "")
        attempt = int(request.headers.get("x-attempt", "0"))
        q = request.query_params
        records.requests.append((key, attempt, time.time()))
        records.received[key] += 1
        delay = float(q.get("delay", "0"))
        if delay:
            await asyncio.sleep(delay)
        if records.received[key] <= int(q.get("fail", "0")):
            headers = {"Retry-After": q["retry_after"]} if "retry_after" in q else {}
            return JSONResponse({"error": "injected"}, status_code=int(q.get("status", "500")), headers=headers)
        if q.get("idempotent") == "1" and records.effects[key] > 0:
            return JSONResponse({"key": key, "replayed": True}, status_code=200)
        records.effects[key] += 1  # every request that is not refused applies the effect again
        if q.get("lose") and records.effects[key] == 1:
            return JSONResponse({"error": "response lost"}, status_code=502)
        return JSONResponse({"key": key, "replayed": False}, status_code=201)

    async def seen(request: Request) -> Response:
        key = request.query_params["key"]
        records.lookups.append(key)
        return JSONResponse({"seen": records.effects[key] > 0})

    async def dump(_request: Request) -> Response:
        return JSONResponse(
            {"effects": dict(records.effects), "requests": records.requests, "lookups": records.lookups}
        )

    async def reset(_request: Request) -> Response:
        records.__init__()  # type: ignore[misc]
        return JSONResponse({})

    return Starlette(
        routes=[
            Route("/effect", effect, methods=["POST"]),
            Route("/seen", seen),
            Route("/records", dump),
            Route("/reset", reset, methods=["POST"]),
        ]
    )


def free_port() -> int:
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return int(s.getsockname()[1])


def wait_http(url: str, timeout: float = 30) -> None:
    deadline = time.monotonic() + timeout
    while time.monotonic() < deadline:
        with contextlib.suppress(httpx.HTTPError):
            if httpx.get(url, timeout=1).status_code < 500:
                return
        time.sleep(0.1)
    raise TimeoutError(f"{url} did not answer within {timeout} s")


class RecorderProcess:
    """The recorder in its own process, stopped by its pid when done."""

    def __init__(self) -> None:
        self.port = free_port()
        self.base = f"http://127.0.0.1:{self.port}"
        env = {**os.environ, "PYTHONPATH": str(REPO)}
        self.process = subprocess.Popen(
            [sys.executable, "-m", "tests.support.recorder", "--port", str(self.port)],
            cwd=REPO,
            env=env,
            stdout=subprocess.DEVNULL,
            stderr=subprocess.DEVNULL,
        )
        wait_http(f"{self.base}/records")

    def url(self, **options: object) -> str:
        query = "&".join(f"{k}={v}" for k, v in options.items())
        return f"{self.base}/effect" + (f"?{query}" if query else "")

    def records(self) -> dict[str, object]:
        data: dict[str, object] = httpx.get(f"{self.base}/records", timeout=30).json()
        return data

    def stop(self) -> None:
        self.process.terminate()
        self.process.wait(10)


def main() -> None:
    import uvicorn

    parser = argparse.ArgumentParser()
    parser.add_argument("--port", type=int, required=True)
    args = parser.parse_args()
    uvicorn.run(build_app(), host="127.0.0.1", port=args.port, log_level="warning", backlog=4096)


if __name__ == "__main__":
    main()
