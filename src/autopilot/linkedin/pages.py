"""The Integrations page: each LinkedIn connection with what it may do, when it expires and whether
it works; connect (OAuth, back to this page), check now, disconnect."""

from __future__ import annotations

import uuid
from dataclasses import dataclass
from typing import Any
from urllib.parse import urlsplit

from fastapi import APIRouter, Request
from fastapi.responses import HTMLResponse, RedirectResponse, Response
from sqlalchemy.ext.asyncio import AsyncSession

from autopilot.accounts.deps import PageCaller, optional_page_caller, page_caller
from autopilot.accounts.service import Caller
from autopilot.config import Settings
from autopilot.kit.deps import SessionDep, SettingsDep, TransactionsDep
from autopilot.kit.errors import Answered, AppError
from autopilot.kit.security import page_policy
from autopilot.linkedin import service
from autopilot.linkedin.models import IntegrationStatus
from autopilot.linkedin.schemas import IntegrationOut
from autopilot.web.session import CsrfChecked
from autopilot.web.templating import Nav, render

router = APIRouter(include_in_schema=False)
NAV = [Nav("integrations", "Integrations", "/integrations")]
PAGE = "/integrations"  # where the OAuth callback brings the browser back (the connect route accepts only this one)
EXPIRY_WARNING_DAYS = 14
DONE = {"checked": "Checked with LinkedIn just now.", "disconnected": "Disconnected. Its tokens were deleted."}
CAPABILITIES = (
    ("can_post", "Can post"),
    ("can_read_analytics", "Can read analytics"),
    ("can_read_comments", "Can read comments"),
)


@dataclass(frozen=True)
class Connection:
    """One integration as the page shows it."""

    out: IntegrationOut
    capabilities: list[tuple[str, bool]]
    expiry: str
    expiring_soon: bool


def _expiry(out: IntegrationOut) -> str:
    days = out.expires_in_days
    if days <= 0:
        return "access expired"
    if days < 1:
        hours = max(1, round(days * 24))
        return f"expires in {hours} hour{'s' if hours != 1 else ''}"
    whole = int(days)
    return f"expires in {whole} day{'s' if whole != 1 else ''}"


def _connection(out: IntegrationOut) -> Connection:
    caps = out.capabilities.model_dump()
    return Connection(
        out=out,
        capabilities=[(label, bool(caps[key])) for key, label in CAPABILITIES],
        expiry=_expiry(out),
        expiring_soon=out.status == IntegrationStatus.CONNECTED.value and out.expires_in_days < EXPIRY_WARNING_DAYS,
    )


def _connect_label(connections: list[Connection]) -> str:
    statuses = {c.out.status for c in connections}
    if IntegrationStatus.NEEDS_RECONNECT.value in statuses and IntegrationStatus.CONNECTED.value not in statuses:
        return "Reconnect LinkedIn"
    return "Connect LinkedIn"


async def _page(
    request: Request, session: AsyncSession, settings: Settings, caller: Caller, status_code: int = 200, **context: Any
) -> HTMLResponse:
    connections = [
        _connection(IntegrationOut.of(i, sandbox=settings.linkedin_sandbox))
        for i in await service.list_integrations(session, caller)
    ]
    response = render(
        request,
        "integrations.html",
        status_code,
        caller=caller,
        active="integrations",
        connections=connections,
        connect_label=_connect_label(connections),
        sandbox=settings.linkedin_sandbox,
        feed_url=service.sandbox_feed_url(settings),
        callback_url=service.redirect_uri(settings),
        **context,
    )
    # "Connect" posts here and is redirected to LinkedIn's authorization page: allow that origin.
    auth = urlsplit(settings.linkedin_urls[0])
    response.headers["content-security-policy"] = page_policy(f"{auth.scheme}://{auth.netloc}")
    return response


@router.get("/integrations", response_class=HTMLResponse)
async def integrations_page(
    request: Request, session: SessionDep, settings: SettingsDep, caller: PageCaller
) -> Response:
    notice, connected = None, request.query_params.get("connected")
    if connected:
        names = {str(i.id): i.name for i in await service.list_integrations(session, caller)}
        notice = f"LinkedIn connected{f': {names[connected]}' if names.get(connected) else ''}."
    elif request.query_params.get("done") in DONE:
        notice = DONE[request.query_params["done"]]
    # The callback's own message (e.g. "you cancelled the LinkedIn authorization"); escaped like all text.
    return await _page(request, session, settings, caller, notice=notice, error=request.query_params.get("error"))


async def _refused(
    request: Request, session: AsyncSession, settings: Settings, caller: Caller, exc: AppError
) -> Answered:
    return Answered(await _page(request, session, settings, caller, exc.status, error=exc.detail), exc.detail)


@router.post("/integrations/connect")
async def connect(session: SessionDep, settings: SettingsDep, caller: PageCaller, _csrf: CsrfChecked) -> Response:
    url = await service.start_connect(session, caller, settings, return_to=PAGE)
    return RedirectResponse(url, status_code=303)


@router.post("/integrations/{integration_id}/check")
async def check(
    integration_id: uuid.UUID,
    request: Request,
    transactions: TransactionsDep,
    settings: SettingsDep,
    _csrf: CsrfChecked,
) -> Response:
    # No request-wide session here: on SQLite it would hold the only write lock while LinkedIn
    # answers, and the check records its result in a short transaction of its own (decision 0008).
    async with transactions.read() as session:
        caller = await page_caller(await optional_page_caller(request, session))
    app = request.app.state
    try:
        await service.check_health(
            transactions.sessions, settings, app.http, app.keyring, caller.org_id, integration_id
        )
    except AppError as exc:  # another organization's id: 404
        async with transactions.read() as session:
            raise await _refused(request, session, settings, caller, exc) from exc
    return RedirectResponse(f"{PAGE}?done=checked", status_code=303)


@router.post("/integrations/{integration_id}/disconnect")
async def disconnect(
    integration_id: uuid.UUID,
    request: Request,
    session: SessionDep,
    settings: SettingsDep,
    caller: PageCaller,
    _csrf: CsrfChecked,
) -> Response:
    try:
        await service.disconnect(session, caller, integration_id)
    except AppError as exc:
        raise await _refused(request, session, settings, caller, exc) from exc
    return RedirectResponse(f"{PAGE}?done=disconnected", status_code=303)
