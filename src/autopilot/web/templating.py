"""Rendering pages: the shared context (CSRF token, the navigation the manifest built)."""

from __future__ import annotations

from dataclasses import dataclass
from datetime import datetime
from pathlib import Path
from typing import Any
from zoneinfo import ZoneInfo

from fastapi import Request
from fastapi.responses import HTMLResponse
from fastapi.templating import Jinja2Templates
from pydantic import ValidationError

from autopilot.kit.errors import Answered, describe_validation
from autopilot.kit.time import as_utc, iana_zones
from autopilot.web.session import csrf_token

templates = Jinja2Templates(directory=Path(__file__).parent / "templates")


def local_time(value: datetime, zone: str) -> str:
    """An instant as the user reads it: in their time zone, to the minute (`{{ t|local(zone) }}`)."""
    return as_utc(value).astimezone(ZoneInfo(zone or "UTC")).strftime(f"%Y-%m-%d %H:%M {zone or 'UTC'}")


templates.env.filters["local"] = local_time


@dataclass(frozen=True)
class Nav:
    """A tab of the app shell: its key (the `active` a page passes), label and path.

    On a phone (and in the installed app) the daily sections sit in a bottom bar within reach of
    the thumb: *bar* is a section's place there (1 = leftmost; 0 = not in the bar, reached through
    "More"). *tab* False keeps a section out of the top tabs and "More" (Today is the brand link
    there). *badge* is a URL answering {"count": n}, shown on the section's tab (pwa.js fills it)."""

    key: str
    label: str
    path: str
    bar: int = 0
    tab: bool = True
    badge: str | None = None


def bar_sections(nav: list[Nav]) -> list[Nav]:
    """The bottom bar's sections, in their places."""
    return sorted((tab for tab in nav if tab.bar), key=lambda tab: tab.bar)


def more_sections(nav: list[Nav]) -> list[Nav]:
    """What the bottom bar's "More" opens: every other section, in the manifest's order."""
    return [tab for tab in nav if tab.tab and not tab.bar]


def render(request: Request, name: str, status_code: int = 200, **context: Any) -> HTMLResponse:
    """Render a page with the shared context (CSRF token, navigation)."""
    context.setdefault("caller", None)
    nav: list[Nav] = getattr(request.app.state, "nav", [])
    shell = {"nav": [tab for tab in nav if tab.tab], "nav_bar": bar_sections(nav), "nav_more": more_sections(nav)}
    return templates.TemplateResponse(
        request, name, {"csrf_token": csrf_token(request), **shell, **context}, status_code=status_code
    )


def refuse(request: Request, name: str, status_code: int, **context: Any) -> Answered:
    """The page *name* shown again with an error: raise it, and the request's changes are rolled back."""
    response = render(request, name, status_code, **context)
    return Answered(response, str(context.get("error", "")))


def readable(exc: ValidationError) -> str:
    """A form's validation errors as one line a person reads ("first comment: ...; text: ...")."""
    _sentence, fields = describe_validation(exc.errors())
    return "; ".join(f"{f['field'].replace('_', ' ')}: {f['message']}" for f in fields)


def zone_names() -> list[str]:
    return sorted(z for z in iana_zones() if "/" in z or z == "UTC")
