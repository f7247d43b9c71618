"""Web sessions: a signed cookie holding a session token and a CSRF token."""

from __future__ import annotations

import secrets
from typing import Annotated

from fastapi import Depends, Form, Request

from autopilot.accounts import service
from autopilot.accounts.service import Caller
from autopilot.kit.deps import SessionDep
from autopilot.kit.errors import AppError, Forbidden


class LoginRequired(AppError):
    status, title = 303, "See other"


def csrf_token(request: Request) -> str:
    token = request.session.get("csrf")
    if not token:
        token = secrets.token_urlsafe(32)
        request.session["csrf"] = token
    return str(token)


async def check_csrf(request: Request, csrf_token_field: Annotated[str, Form(alias="csrf_token")] = "") -> None:
    """Forms carry the session's CSRF token (HTMX sends it as a header)."""
    presented = csrf_token_field or request.headers.get("x-csrf-token", "")
    expected = request.session.get("csrf", "")
    if not expected or not secrets.compare_digest(presented, expected):
        raise Forbidden("the form expired or did not come from this site; reload the page and try again")


async def optional_page_caller(request: Request, session: SessionDep) -> Caller | None:
    raw = request.session.get("token")
    if not raw:
        return None
    try:
        return await service.authenticate(session, raw)
    except AppError:
        request.session.pop("token", None)
        return None


async def page_caller(caller: Annotated[Caller | None, Depends(optional_page_caller)]) -> Caller:
    if caller is None:
        raise LoginRequired("log in first", headers={"Location": "/login"})
    return caller


PageCaller = Annotated[Caller, Depends(page_caller)]
MaybeCaller = Annotated[Caller | None, Depends(optional_page_caller)]
CsrfChecked = Annotated[None, Depends(check_csrf)]
