"""The application factory: API, web pages, health, metrics and the embedded job engine."""

from __future__ import annotations

import os
import sys
from collections.abc import AsyncIterator
from contextlib import asynccontextmanager
from pathlib import Path

from fastapi import FastAPI, Request
from fastapi.responses import JSONResponse, Response
from fastapi.staticfiles import StaticFiles
from prometheus_client import CONTENT_TYPE_LATEST, generate_latest
from sqlalchemy import text
from starlette.datastructures import State
from starlette.middleware.sessions import SessionMiddleware

from autopilot import __version__, domains
from autopilot.accounts.deps import CurrentCaller
from autopilot.config import Settings, get_settings
from autopilot.kit.crypto import KeyRing
from autopilot.kit.db import make_engine, make_reader_engine, make_sessionmaker
from autopilot.kit.errors import Forbidden, install_error_handlers
from autopilot.kit.heap import freeze_startup_objects
from autopilot.kit.http import ClientPool
from autopilot.kit.inputs import NulFreeUrlMiddleware
from autopilot.kit.logging import configure_logging, log
from autopilot.kit.metrics_listener import MetricsListener
from autopilot.kit.middleware import BodySizeLimitMiddleware, RequestContextMiddleware
from autopilot.kit.openapi import install_openapi
from autopilot.kit.security import SecurityHeadersMiddleware
from autopilot.web import docs as api_docs
from autopilot.web import pwa
from autopilot.worker.health import executor_readiness
from autopilot.worker.metrics import refresh_gauges
from autopilot.worker.registry import JobServices
from autopilot.worker.runtime import EngineProcess, JobEngine

STATIC_DIR = Path(__file__).parent / "web" / "static"


async def refresh_metrics(state: State) -> None:
    """Before a scrape: the ledger's gauges, and the engine's own families from its process."""
    await refresh_gauges(state.sessions)
    if isinstance(state.job_engine, EngineProcess):
        await state.job_engine.refresh_metrics()


def _engine_mode(job_engine: JobEngine | EngineProcess | None) -> str:
    if isinstance(job_engine, EngineProcess):
        return "child process"
    return "in-process" if job_engine else "off"


def create_app(settings: Settings | None = None, *, own_process: bool = False) -> FastAPI:
    """Build the app for *settings* (default: the environment). *own_process*: the app is the
    process's one long-lived app (`autopilot serve`): the job engine runs in a child process of its
    own (worker.runtime.EngineProcess, `autopilot engine`), and start-up's objects are frozen out of
    the collector's reach once it has started (kit.heap)."""
    settings = (settings or get_settings()).resolve_secrets()
    configure_logging(settings.log_level, json=settings.log_json)
    # Every process that may enqueue registers the handlers, whether or not it runs the engine.
    wiring = domains.engine_wiring(settings)

    @asynccontextmanager
    async def lifespan(app: FastAPI) -> AsyncIterator[None]:
        busy_ms = settings.sqlite_busy_timeout_ms
        engine = make_engine(settings.sqlalchemy_url, connections=settings.db_connections, busy_timeout_ms=busy_ms)
        app.state.engine = engine
        app.state.sessions = make_sessionmaker(engine)
        reader_engine = make_reader_engine(settings.sqlalchemy_url, busy_timeout_ms=busy_ms)
        app.state.readers = make_sessionmaker(reader_engine) if reader_engine else app.state.sessions
        app.state.job_engine = None
        if settings.run_job_engine and own_process:  # `autopilot serve`: the engine in a process of its own
            command = [sys.executable, "-m", "autopilot.cli", "engine", f"--parent={os.getpid()}"]
            app.state.job_engine = await EngineProcess(command).start()
        elif settings.run_job_engine:
            services = JobServices(
                settings=settings, http=app.state.http, keyring=app.state.keyring, readers=app.state.readers
            )
            app.state.job_engine = JobEngine(settings, app.state.sessions, wiring, services).start()
        listener, app.state.metrics_address = None, None
        if settings.metrics_address is not None:
            listener = MetricsListener(*settings.metrics_address, refresh=lambda: refresh_metrics(app.state))
            app.state.metrics_address = await listener.start()
        log.info(
            "started",
            version=__version__,
            database=engine.dialect.name,
            job_engine=_engine_mode(app.state.job_engine),
            metrics=":".join(map(str, app.state.metrics_address)) if listener else "/metrics (operators)",
        )
        if own_process:
            freeze_startup_objects()
        try:
            yield
        finally:
            if listener is not None:
                await listener.stop()
            if app.state.job_engine is not None:
                await app.state.job_engine.stop()
            await app.state.http.aclose()
            if reader_engine is not None:
                await reader_engine.dispose()
            await engine.dispose()

    app = FastAPI(
        title="TechLead AutoPilot",
        version=__version__,
        lifespan=lifespan,
        openapi_url="/openapi.json",
        docs_url=None,  # /docs is web.docs: Swagger UI from our static files
        redoc_url=None,
    )
    app.state.settings = settings
    app.state.keyring = KeyRing(settings.encryption_keys)
    app.state.http = ClientPool()
    install_error_handlers(app)
    install_openapi(app)
    app.add_middleware(
        SessionMiddleware,
        secret_key=settings.secret_key,
        session_cookie="autopilot_session",
        same_site="lax",
        https_only=settings.is_production,
        max_age=settings.session_ttl_hours * 3600,
    )
    app.add_middleware(
        BodySizeLimitMiddleware,
        max_bytes=settings.max_body_bytes,
        # Media, LinkedIn data archives (leads) and analytics exports (a few MB; unpacked sizes are capped on import).
        uploads=(
            (
                "/api/v1/media",
                "/api/v1/leads/import",
                "/leads/import",
                "/api/v1/analytics/imports",
                "/analytics/import",
            ),
            settings.max_upload_bytes,
        ),
    )
    app.add_middleware(NulFreeUrlMiddleware)  # a NUL in the URL is a 422 before any route sees it
    # Around everything but the request id: every response, the 413 and the 500 included, gets the headers.
    app.add_middleware(SecurityHeadersMiddleware, production=settings.is_production)
    app.add_middleware(RequestContextMiddleware)

    domains.install(app)
    app.include_router(api_docs.router)
    app.include_router(pwa.router)  # the manifest, /sw.js at the root scope, the offline page
    app.mount("/static", StaticFiles(directory=STATIC_DIR), name="static")
    if settings.linkedin_sandbox and not settings.linkedin_api_url:
        # No LinkedIn credentials: serve the LinkedIn sandbox here and talk to it (the UI says "Sandbox").
        from autopilot.sandbox.linkedin import SandboxConfig
        from autopilot.sandbox.linkedin import create_app as linkedin_sandbox

        app.mount("/sandbox/linkedin", linkedin_sandbox(SandboxConfig()))
    if settings.llm_sandbox:
        # No LLM server configured: the Studio's LLM engine talks to this OpenAI-compatible sandbox.
        from autopilot.sandbox.llm import LLMSandboxConfig
        from autopilot.sandbox.llm import create_app as llm_sandbox

        _url, key, model = settings.llm_endpoint
        app.mount("/sandbox/llm", llm_sandbox(LLMSandboxConfig(api_keys=(key,), models=(model,))))

    @app.get("/favicon.ico", include_in_schema=False)
    async def favicon() -> Response:
        # Browsers ask for it on every page (the sandbox's too): "no icon" rather than a 404 in their console.
        return Response(status_code=204)

    @app.get("/healthz", tags=["operations"])
    async def healthz() -> dict[str, str]:
        return {"status": "ok"}

    not_ready = {"description": "Not ready: the body says which component is down", "content": {"application/json": {}}}

    @app.get("/readyz", tags=["operations"], responses={503: not_ready})
    async def readyz(request: Request) -> JSONResponse:
        components: dict[str, dict[str, str]] = {}
        try:
            async with request.app.state.engine.connect() as conn:
                await conn.execute(text("SELECT 1"))
            components["database"] = {"status": "ok"}
        except Exception as exc:
            components["database"] = {"status": "down", "detail": type(exc).__name__}
        components["job_engine"] = await executor_readiness(request.app.state.sessions, settings)
        ready = all(c["status"] == "ok" for c in components.values())
        return JSONResponse(
            {"status": "ok" if ready else "unavailable", "components": components}, status_code=200 if ready else 503
        )

    if settings.metrics_address is None:  # otherwise served by the listener of its own, and 404 here

        @app.get("/metrics", tags=["operations"], include_in_schema=False)
        async def metrics(request: Request, caller: CurrentCaller) -> Response:
            # Counts across every tenant: for the people who run the installation only.
            if not caller.is_operator:
                raise Forbidden("only an operator can read the metrics (autopilot operator grant EMAIL)")
            await refresh_metrics(request.app.state)
            return Response(generate_latest(), media_type=CONTENT_TYPE_LATEST)

    return app
