"""Request helpers: absolute URLs built from the request (the sandbox may be mounted under a prefix),
and the HTML pages a member sees."""

from __future__ import annotations

import base64
import hashlib
import html

from fastapi import Request
from fastapi.responses import HTMLResponse

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


def styled_page(title: str, style: str, body: str, status_code: int = 200) -> HTMLResponse:
    """A page a member sees, styled by one inline <style>. Its own Content-Security-Policy allows
    that style by hash and nothing else to load, so the page renders alike standalone and mounted
    in the app (whose policy allows no inline style). Forms may go anywhere: the consent form's
    answer redirects to the app's callback, which may be another origin. *title* is escaped."""
    digest = base64.b64encode(hashlib.sha256(style.encode()).digest()).decode()
    policy = f"default-src 'none'; style-src 'sha256-{digest}'; base-uri 'none'; frame-ancestors 'none'"
    page = (
        "<!doctype html><html lang=en><head><meta charset=utf-8>"
        '<meta name=viewport content="width=device-width, initial-scale=1">'
        f"<title>{html.escape(title)}</title><style>{style}</style></head><body>{body}</body></html>"
    )
    return HTMLResponse(page, status_code=status_code, headers={"content-security-policy": policy})
