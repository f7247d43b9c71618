"""Request helpers: absolute URLs built from the request (the sandbox may be mounted under a prefix)."""

from __future__ import annotations

from fastapi import Request

from autopilot.sandbox.linkedin.state import SandboxState


def base_of(request: Request) -> str:
    """Scheme, host and mount prefix of this sandbox, e.g. http://127.0.0.1:8000/sandbox/linkedin."""
    root = str(request.scope.get("root_path", ""))
    return f"{request.url.scheme}://{request.url.netloc}{root}".rstrip("/")


def route_path(scope_path: str, root_path: str) -> str:
    """The path inside the sandbox (without the mount prefix)."""
    return scope_path[len(root_path) :] if root_path and scope_path.startswith(root_path) else scope_path


def state_of(request: Request) -> SandboxState:
    state = request.app.state.sandbox
    assert isinstance(state, SandboxState)
    return state
