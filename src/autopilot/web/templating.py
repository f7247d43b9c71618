"""Rendering pages: the shared context (CSRF token, the navigation the manifest built)."""

from __future__ import annotations

from dataclasses import dataclass
from pathlib import Path
from typing import Any

from fastapi import Request
from fastapi.responses import HTMLResponse
from fastapi.templating import Jinja2Templates

from autopilot.kit.errors import Answered
from autopilot.kit.time import iana_zones
from autopilot.web.session import csrf_token

templates = Jinja2Templates(directory=Path(__file__).parent / "templates")


@dataclass(frozen=True)
class Nav:
    """A tab of the app shell: its key (the `active` a page passes), label and path."""

    key: str
    label: str
    path: str


def render(request: Request, name: str, status_code: int = 200, **context: Any) -> HTMLResponse:
    """Render a page with the shared context (CSRF token, navigation)."""
    context.setdefault("caller", None)
    nav: list[Nav] = getattr(request.app.state, "nav", [])
    return templates.TemplateResponse(
        request, name, {"csrf_token": csrf_token(request), "nav": nav, **context}, status_code=status_code
    )


def refuse(request: Request, name: str, status_code: int, **context: Any) -> Answered:
    """The page *name* shown again with an error: raise it, and the request's changes are rolled back."""
    response = render(request, name, status_code, **context)
    return Answered(response, str(context.get("error", "")))


def zone_names() -> list[str]:
    return sorted(z for z in iana_zones() if "/" in z or z == "UTC")
