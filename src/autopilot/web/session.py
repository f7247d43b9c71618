"""Page session mechanics: the CSRF token of the signed session cookie, and the redirect to log in.
Who the caller is belongs to accounts (`accounts.deps.PageCaller`); the shell knows no domain."""

from __future__ import annotations

import secrets
from typing import Annotated

from fastapi import Depends, Form, Request

from autopilot.kit.errors import AppError, Forbidden


class LoginRequired(AppError):
    status, title = 303, "See other"


def csrf_token(request: Request) -> str:
    token = request.session.get("csrf")
    if not token:
        token = secrets.token_urlsafe(32)
        request.session["csrf"] = token
    return str(token)


def rotate_csrf_token(request: Request) -> None:
    """A new CSRF token, e.g. at login, so one seen before login is worthless after it."""
    request.session["csrf"] = secrets.token_urlsafe(32)


def _require_csrf(request: Request, presented: str) -> None:
    expected = request.session.get("csrf", "")
    if not expected or not secrets.compare_digest(presented, expected):
        raise Forbidden("the form expired or did not come from this site; reload the page and try again")


async def check_csrf(request: Request, csrf_token_field: Annotated[str, Form(alias="csrf_token")] = "") -> None:
    """Forms carry the session's CSRF token (HTMX sends it as a header)."""
    _require_csrf(request, csrf_token_field or request.headers.get("x-csrf-token", ""))


async def check_csrf_header(request: Request) -> None:
    """JSON requests of the pages' scripts carry the session's CSRF token in X-CSRF-Token (a form
    field dependency would make FastAPI read their JSON body as a form)."""
    _require_csrf(request, request.headers.get("x-csrf-token", ""))


CsrfChecked = Annotated[None, Depends(check_csrf)]
CsrfHeaderChecked = Annotated[None, Depends(check_csrf_header)]
