"""A listener of its own for /metrics (AUTOPILOT_METRICS_BIND): Prometheus scrapes it on a private
address without credentials, while the main app does not serve /metrics at all."""

from __future__ import annotations

import asyncio
import socket
from collections.abc import Awaitable, Callable, Iterator
from contextlib import contextmanager

import uvicorn
from prometheus_client import CONTENT_TYPE_LATEST, generate_latest
from starlette.applications import Starlette
from starlette.requests import Request
from starlette.responses import Response
from starlette.routing import Route

from autopilot.config import ConfigError


class _Server(uvicorn.Server):
    @contextmanager
    def capture_signals(self) -> Iterator[None]:
        # The main server owns the process's signals; this one is stopped by the app's lifespan.
        yield


class MetricsListener:
    """Serves GET /metrics on (host, port); *refresh* updates the gauges read at scrape time."""

    def __init__(self, host: str, port: int, refresh: Callable[[], Awaitable[None]]) -> None:
        self.host, self.port, self._refresh = host, port, refresh
        self._server: _Server | None = None
        self._task: asyncio.Task[None] | None = None

    async def _metrics(self, _request: Request) -> Response:
        await self._refresh()
        return Response(generate_latest(), media_type=CONTENT_TYPE_LATEST)

    async def start(self) -> tuple[str, int]:
        """Listen, and return the address actually bound (port 0 picks a free port)."""
        family = socket.AF_INET6 if ":" in self.host else socket.AF_INET
        try:
            sock = socket.create_server((self.host, self.port), family=family)
        except OSError as exc:
            raise ConfigError(f"cannot listen on AUTOPILOT_METRICS_BIND {self.host}:{self.port}: {exc}") from exc
        app = Starlette(routes=[Route("/metrics", self._metrics)])
        self._server = _Server(uvicorn.Config(app, log_config=None, lifespan="off", access_log=False))
        self._task = asyncio.create_task(self._server.serve(sockets=[sock]))
        while not self._server.started:
            if self._task.done():
                self._task.result()  # raises what stopped it
                raise RuntimeError("the metrics listener stopped while starting")
            await asyncio.sleep(0.01)
        host, port = sock.getsockname()[:2]
        return str(host), int(port)

    async def stop(self) -> None:
        if self._server is not None and self._task is not None:
            self._server.should_exit = True
            await self._task
