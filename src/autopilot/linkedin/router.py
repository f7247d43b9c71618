"""Integrations API: connect LinkedIn (OAuth), list, check and disconnect connections."""

from __future__ import annotations

import uuid
from typing import Annotated, Literal
from urllib.parse import urlencode

from fastapi import APIRouter, Query, Request
from fastapi.responses import RedirectResponse, Response

from autopilot.accounts.deps import CallerBeforeWork, CurrentCaller
from autopilot.kit.crypto import KeyRing
from autopilot.kit.deps import SessionDep, SettingsDep, TransactionsDep
from autopilot.kit.errors import AppError, BadRequest
from autopilot.kit.http import ClientPool
from autopilot.kit.openapi import PROBLEMS, problems
from autopilot.linkedin import schemas, service
from autopilot.worker.policy import JobError

router = APIRouter(prefix="/api/v1/integrations", tags=["integrations"], responses=PROBLEMS)


@router.post("/linkedin/connect")
async def connect(
    session: SessionDep,
    caller: CurrentCaller,
    settings: SettingsDep,
    return_to: Annotated[Literal["/integrations"] | None, Query(description="a page to come back to")] = None,
) -> schemas.ConnectOut:
    """Start connecting a LinkedIn member: open `authorization_url` in a browser. LinkedIn then
    sends the browser to the callback; the state in the URL is single use and expires in 10 minutes."""
    url = await service.start_connect(session, caller, settings, return_to=return_to or "")
    return schemas.ConnectOut(authorization_url=url)


@router.get("/linkedin/callback", responses=problems(400), response_model=schemas.IntegrationOut)
async def callback(
    request: Request,
    transactions: TransactionsDep,
    settings: SettingsDep,
    state: Annotated[str, Query(min_length=1, max_length=200)],
    code: Annotated[str | None, Query(max_length=2000)] = None,
    error: Annotated[str | None, Query(max_length=200)] = None,
    error_description: Annotated[str | None, Query(max_length=1000)] = None,
) -> Response:
    """Where LinkedIn sends the member back. Cancelled or denied: a clear message, nothing stored."""
    async with transactions.write() as session:
        started = await service.consume_state(session, state)
    try:
        if error or not code:
            reason = (
                "you cancelled the LinkedIn authorization"
                if error == "user_cancelled_authorize" or error == "user_cancelled_login"
                else f"LinkedIn did not authorize the connection ({error or 'no code'}: {error_description or ''})"
            )
            raise BadRequest(f"{reason.rstrip(': ')}; nothing was connected")
        pool: ClientPool = request.app.state.http
        grant = await service.exchange(settings, pool, code)
        ring: KeyRing = request.app.state.keyring
        async with transactions.write() as session:
            integration = await service.store_grant(session, ring, started, grant)
            out = schemas.IntegrationOut.of(integration, sandbox=settings.linkedin_sandbox)
    except (AppError, JobError) as exc:
        if started.return_to:
            return RedirectResponse(f"{started.return_to}?{urlencode({'error': str(exc)})}", status_code=303)
        if isinstance(exc, JobError):
            raise BadRequest(f"LinkedIn could not be reached to finish connecting: {exc}") from exc
        raise
    if started.return_to:
        return RedirectResponse(f"{started.return_to}?{urlencode({'connected': str(out.id)})}", status_code=303)
    return Response(out.model_dump_json(), media_type="application/json")


@router.get("")
async def list_integrations(
    session: SessionDep, caller: CurrentCaller, settings: SettingsDep
) -> list[schemas.IntegrationOut]:
    return [
        schemas.IntegrationOut.of(i, sandbox=settings.linkedin_sandbox)
        for i in await service.list_integrations(session, caller)
    ]


@router.get("/{integration_id}")
async def get_integration(
    integration_id: uuid.UUID, session: SessionDep, caller: CurrentCaller, settings: SettingsDep
) -> schemas.IntegrationOut:
    integration = await service.integrations.get(session, caller.org_id, integration_id)
    return schemas.IntegrationOut.of(integration, sandbox=settings.linkedin_sandbox)


@router.delete("/{integration_id}", responses=problems(403))
async def disconnect(
    integration_id: uuid.UUID, session: SessionDep, caller: CurrentCaller, settings: SettingsDep
) -> schemas.IntegrationOut:
    """Disconnect: the tokens are deleted; posts waiting for this account stay until it is reconnected."""
    integration = await service.disconnect(session, caller, integration_id)
    return schemas.IntegrationOut.of(integration, sandbox=settings.linkedin_sandbox)


@router.post("/{integration_id}/check")
async def check(
    integration_id: uuid.UUID,
    request: Request,
    transactions: TransactionsDep,
    caller: CallerBeforeWork,
    settings: SettingsDep,
) -> schemas.IntegrationOut:
    """Ask LinkedIn whether the connection works now (its profile endpoint) and record the answer."""
    integration = await service.check_health(
        transactions.sessions,
        settings,
        request.app.state.http,
        request.app.state.keyring,
        caller.org_id,
        integration_id,
    )
    return schemas.IntegrationOut.of(integration, sandbox=settings.linkedin_sandbox)
