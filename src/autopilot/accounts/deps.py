"""Who is calling: a bearer token for the API, the session cookie for web pages."""

from __future__ import annotations

from typing import Annotated

from fastapi import Depends, Request
from fastapi.security import HTTPAuthorizationCredentials, HTTPBearer

from autopilot.accounts import service
from autopilot.accounts.service import Caller
from autopilot.kit.deps import SessionDep, TransactionsDep
from autopilot.kit.errors import AppError, Unauthorized
from autopilot.web.session import LoginRequired

bearer = HTTPBearer(auto_error=False, description="A login or personal access token")


async def current_caller(
    session: SessionDep,
    credentials: Annotated[HTTPAuthorizationCredentials | None, Depends(bearer)],
) -> Caller:
    if credentials is None or credentials.scheme.lower() != "bearer":
        raise Unauthorized(
            "send an access token: Authorization: Bearer <token>", headers={"WWW-Authenticate": "Bearer"}
        )
    return await service.authenticate(session, credentials.credentials)


CurrentCaller = Annotated[Caller, Depends(current_caller)]


async def caller_before_work(
    transactions: TransactionsDep,
    credentials: Annotated[HTTPAuthorizationCredentials | None, Depends(bearer)],
) -> Caller:
    """The API caller, resolved in a read transaction that ends before the route runs: for routes
    that open their own short transactions around network calls (a request-long write transaction
    would hold SQLite's write lock, and the route's own writes would wait for it)."""
    if credentials is None or credentials.scheme.lower() != "bearer":
        raise Unauthorized(
            "send an access token: Authorization: Bearer <token>", headers={"WWW-Authenticate": "Bearer"}
        )
    async with transactions.read() as session:
        return await service.authenticate(session, credentials.credentials)


CallerBeforeWork = Annotated[Caller, Depends(caller_before_work)]


def client_address(request: Request) -> str:
    return request.client.host if request.client else "unknown"


async def optional_page_caller(request: Request, session: SessionDep) -> Caller | None:
    """The caller of a web page, from the session cookie; None when logged out."""
    raw = request.session.get("token")
    if not raw:
        return None
    try:
        return await service.authenticate(session, raw, service.WEB_TOKENS)
    except AppError:
        request.session.pop("token", None)
        return None


async def page_caller(caller: Annotated[Caller | None, Depends(optional_page_caller)]) -> Caller:
    if caller is None:
        raise LoginRequired("log in first", headers={"Location": "/login"})
    return caller


PageCaller = Annotated[Caller, Depends(page_caller)]
MaybeCaller = Annotated[Caller | None, Depends(optional_page_caller)]
