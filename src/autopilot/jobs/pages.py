"""Admin page: recent job failures with their reasons, retry and cancel; recent alerts."""

from __future__ import annotations

from urllib.parse import quote

from fastapi import APIRouter, Request
from fastapi.responses import HTMLResponse, RedirectResponse, Response

from autopilot.accounts.deps import PageCaller
from autopilot.jobs import service
from autopilot.kit.deps import SessionDep, SettingsDep
from autopilot.kit.errors import Answered, AppError
from autopilot.kit.inputs import JobID
from autopilot.notifications.service import recent_alerts
from autopilot.web.session import CsrfChecked
from autopilot.web.templating import Nav, render
from autopilot.worker.health import health_report

router = APIRouter(include_in_schema=False)
NAV = [Nav("jobs", "Jobs", "/jobs")]


@router.get("/jobs", response_class=HTMLResponse)
async def jobs_page(request: Request, session: SessionDep, settings: SettingsDep, caller: PageCaller) -> Response:
    return render(
        request,
        "jobs.html",
        caller=caller,
        active="jobs",
        failures=await service.failures(session, caller),
        alerts=await recent_alerts(session, caller.org_id, limit=20),
        health=await health_report(session, caller.org_id, settings),
        notice=request.query_params.get("notice"),
        error=request.query_params.get("error"),
    )


async def _act(session: SessionDep, caller: PageCaller, job_id: int, action: str) -> Response:
    try:
        if action == "retry":
            await service.retry(session, caller, job_id)
        else:
            await service.cancel(session, caller, job_id)
    except AppError as exc:
        raise Answered(RedirectResponse(f"/jobs?error={quote(exc.detail)}", status_code=303), exc.detail) from exc
    return RedirectResponse(f"/jobs?notice={quote(f'Job {job_id}: {action} done.')}", status_code=303)


@router.post("/jobs/{job_id}/retry")
async def retry(job_id: JobID, session: SessionDep, caller: PageCaller, _csrf: CsrfChecked) -> Response:
    return await _act(session, caller, job_id, "retry")


@router.post("/jobs/{job_id}/cancel")
async def cancel(job_id: JobID, session: SessionDep, caller: PageCaller, _csrf: CsrfChecked) -> Response:
    return await _act(session, caller, job_id, "cancel")
