from __future__ import annotations

from pathlib import Path
from typing import Any

from fastapi import Request
from fastapi.responses import HTMLResponse
from fastapi.templating import Jinja2Templates

from autopilot.kit.time import iana_zones
from autopilot.web.session import csrf_token

templates = Jinja2Templates(directory=Path(__file__).parent / "templates")
NAV = [
    ("calendar", "Calendar"),
    ("approvals", "Approvals"),
    ("inbox", "Inbox"),
    ("leads", "Leads"),
    ("analytics", "Analytics"),
    ("integrations", "Integrations"),
    ("jobs", "Jobs"),
    ("settings", "Settings"),
]


def render(request: Request, name: str, status_code: int = 200, **context: Any) -> HTMLResponse:
    """Render a page with the shared context (CSRF token, navigation)."""
    context.setdefault("caller", None)
    return templates.TemplateResponse(
        request, name, {"csrf_token": csrf_token(request), "nav": NAV, **context}, status_code=status_code
    )


def zone_names() -> list[str]:
    return sorted(z for z in iana_zones() if "/" in z or z == "UTC")
