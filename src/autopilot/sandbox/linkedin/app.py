"""The sandbox as an ASGI app (mountable under any prefix) and as a standalone uvicorn server."""

from __future__ import annotations

from fastapi import FastAPI, Request
from fastapi.responses import JSONResponse
from starlette.exceptions import HTTPException

from autopilot.sandbox.linkedin import control, engagement, media, oauth, organizations, posts
from autopilot.sandbox.linkedin.config import SandboxConfig
from autopilot.sandbox.linkedin.errors import LinkedInError, render
from autopilot.sandbox.linkedin.faults import FaultMiddleware
from autopilot.sandbox.linkedin.state import SandboxState


async def _unknown(request: Request, exc: Exception) -> JSONResponse:
    status = exc.status_code if isinstance(exc, HTTPException) else 500
    if status == 404:
        return JSONResponse({"status": 404, "code": "RESOURCE_NOT_FOUND", "message": "No virtual resource found"}, 404)
    return JSONResponse({"status": status, "message": str(getattr(exc, "detail", "error"))}, status)


def create_app(config: SandboxConfig | None = None) -> FastAPI:
    """A fresh LinkedIn sandbox with its own in-memory state (app.state.sandbox)."""
    app = FastAPI(title="LinkedIn (Sandbox)", docs_url=None, redoc_url=None, openapi_url=None)
    state = SandboxState(config or SandboxConfig())
    app.state.sandbox = state
    app.add_exception_handler(LinkedInError, render)
    app.add_exception_handler(HTTPException, _unknown)
    # Order matters: specific /rest paths before media's /rest/{collection} catch-alls.
    routers = (oauth.router, posts.router, engagement.router, organizations.router, media.router, control.router)
    for router in (*routers, organizations.control):
        app.include_router(router)
    app.add_middleware(FaultMiddleware, state=state)
    return app


def serve(host: str, port: int, config: SandboxConfig) -> None:
    """Run the sandbox with uvicorn until interrupted."""
    import uvicorn

    uvicorn.run(create_app(config), host=host, port=port, log_level="warning")
