"""Jobs API: list and inspect the organization's jobs, engine health, retry and cancel."""

from __future__ import annotations

from typing import Annotated

from fastapi import APIRouter, Query

from autopilot.accounts.deps import CurrentCaller
from autopilot.jobs import schemas, service
from autopilot.kit.deps import SessionDep, SettingsDep
from autopilot.kit.inputs import JobID, Limit, Offset
from autopilot.kit.openapi import PROBLEMS, problems
from autopilot.worker.health import health_report
from autopilot.worker.models import JobStatus

router = APIRouter(prefix="/api/v1", tags=["jobs"], responses=PROBLEMS)


@router.get("/jobs")
async def list_jobs(
    session: SessionDep,
    caller: CurrentCaller,
    status: Annotated[JobStatus | None, Query()] = None,
    kind: Annotated[str | None, Query(max_length=64)] = None,
    limit: Limit = 50,
    offset: Offset = 0,
) -> schemas.JobPage:
    items, total = await service.jobs.page(
        session, caller.org_id, status=status.value if status else None, kind=kind, limit=limit, offset=offset
    )
    return schemas.JobPage(
        items=[schemas.JobOut.model_validate(j) for j in items], total=total, limit=limit, offset=offset
    )


@router.get("/jobs/health")
async def jobs_health(session: SessionDep, caller: CurrentCaller, settings: SettingsDep) -> schemas.JobHealthOut:
    report = await health_report(session, caller.org_id, settings, show_processes=caller.is_operator)
    return schemas.JobHealthOut.model_validate(report)


@router.get("/jobs/{job_id}")
async def get_job(job_id: JobID, session: SessionDep, caller: CurrentCaller) -> schemas.JobOut:
    return schemas.JobOut.model_validate(await service.jobs.get(session, caller.org_id, job_id))


@router.post("/jobs/{job_id}/retry", responses=problems(403, 409))
async def retry_job(job_id: JobID, session: SessionDep, caller: CurrentCaller) -> schemas.JobOut:
    return schemas.JobOut.model_validate(await service.retry(session, caller, job_id))


@router.post("/jobs/{job_id}/cancel", responses=problems(403, 409))
async def cancel_job(job_id: JobID, session: SessionDep, caller: CurrentCaller) -> schemas.JobOut:
    return schemas.JobOut.model_validate(await service.cancel(session, caller, job_id))
