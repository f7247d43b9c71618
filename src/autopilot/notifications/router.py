"""Alerts API: what the organization's owners were told (dead jobs, late work)."""

from __future__ import annotations

from fastapi import APIRouter

from autopilot.accounts.deps import CurrentCaller
from autopilot.kit.deps import SessionDep
from autopilot.kit.openapi import PROBLEMS
from autopilot.notifications import schemas, service

router = APIRouter(prefix="/api/v1", tags=["alerts"], responses=PROBLEMS)


@router.get("/alerts")
async def alerts(session: SessionDep, caller: CurrentCaller) -> list[schemas.AlertOut]:
    return [schemas.AlertOut.model_validate(a) for a in await service.recent_alerts(session, caller.org_id)]
