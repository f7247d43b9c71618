"""Analytics API: per-post figures, the dashboard's series, imports of LinkedIn's export files,
Company Page statistics and the engagement prediction. Each section below belongs to one capability."""

from __future__ import annotations

import uuid
from datetime import date
from typing import Annotated

from fastapi import APIRouter, Form, Query, Request, Response

from autopilot.accounts.deps import CallerBeforeWork, CurrentCaller
from autopilot.analytics import company, dashboard, importer, prediction, service, suggestions
from autopilot.content import service as content_service
from autopilot.kit.deps import SessionDep, SettingsDep, TransactionsDep
from autopilot.kit.inputs import Limit, Offset
from autopilot.kit.openapi import PROBLEMS, problems
from autopilot.worker.registry import JobServices

router = APIRouter(tags=["analytics"], responses=PROBLEMS)


# -- dashboard: figures per post, the dashboard's summary, the per-post table ---------------------

PeriodStart = Annotated[date | None, Query(alias="from", description="First day, in your time zone (included)")]
PeriodEnd = Annotated[date | None, Query(alias="to", description="Last day, in your time zone (included)")]


@router.get("/api/v1/content/{content_id}/analytics", responses=problems(404))
async def content_analytics(
    content_id: uuid.UUID, session: SessionDep, caller: CurrentCaller
) -> dashboard.ContentAnalytics:
    """The post's latest figures (null = LinkedIn did not give it, never a fake zero), their source
    and when they were read, the sync state with its reason ("pending", "unsupported" …) and the
    figures over time. engagement_rate is (reactions + comments + reposts) / impressions, or the
    export's engagements / impressions when only those are known (engagement_rate_basis says which)."""
    content = await content_service.get(session, caller, content_id)
    return await service.content_analytics(session, caller.org_id, content.id, content.state == "published")


@router.get("/api/v1/analytics/summary", responses=problems(422))
async def analytics_summary(
    session: SessionDep, caller: CurrentCaller, start: PeriodStart = None, end: PeriodEnd = None
) -> dashboard.Summary:
    """The dashboard's figures for a period: totals, the account's days, the weekday-and-hour heatmap in
    your time zone and the medians by format, length and hashtag count, each with its post count."""
    window = service.dashboard_window(caller.user.timezone, start, end)
    found, _posts = await service.dashboard_summary(session, caller.org_id, window)
    return found


@router.get("/api/v1/analytics/posts", responses=problems(422))
async def analytics_posts(
    session: SessionDep, caller: CurrentCaller, start: PeriodStart = None, end: PeriodEnd = None
) -> list[dashboard.PostFigures]:
    """Each post's latest figures, newest first (the dashboard's per-post table)."""
    window = service.dashboard_window(caller.user.timezone, start, end)
    return await service.post_table(session, caller.org_id, window)


# -- prediction: the engagement forecast of a draft, and its validation report ---------------


@router.post("/api/v1/analytics/predict", responses=problems(422))
async def predict(data: prediction.PredictIn, session: SessionDep, caller: CurrentCaller) -> prediction.PredictionOut:
    """The draft's likely reactions + comments as an 80 % range, compared with your median, and
    what the forecast rests on: the public prior alone, or the prior updated with N of your posts."""
    return await service.predict(session, caller.org_id, caller.user.timezone or "UTC", data)


@router.get("/api/v1/analytics/model")
async def forecast_report(session: SessionDep, caller: CurrentCaller) -> prediction.ModelReportOut:
    """How the forecast was validated on your later posts (time-ordered split): posts to train and
    test, pairwise accuracy beside the longer-text rule, mean absolute error, and range coverage."""
    return await service.forecast_report(session, caller.org_id)


@router.post("/api/v1/analytics/model/train", status_code=202)
async def train_forecast(session: SessionDep, caller: CurrentCaller) -> prediction.TrainingOut:
    """Retrain the forecast on your latest figures now (a job; asking again before new figures
    arrive answers the same job)."""
    return prediction.TrainingOut(job_id=await service.ask_training(session, caller.org_id))


# -- learned best time: suggestion with its evidence, apply, apply automatically -------------

IntegrationQuery = Annotated[
    uuid.UUID | None, Query(description="The LinkedIn connection; default: your organization's first")
]


@router.get("/api/v1/analytics/best-time", responses=problems(404))
async def best_time(
    session: SessionDep, caller: CurrentCaller, integration_id: IntegrationQuery = None
) -> suggestions.BestTimeOut:
    """The weekly slots your own posts favour, with the evidence per slot (posts, engagement rate,
    chance of being the best), starting from Tue/Thu 06:30."""
    chosen = await suggestions.integration_of(session, caller, integration_id)
    found = await suggestions.best_time(session, caller, chosen)
    return suggestions.as_out(chosen, found, await suggestions.preference(session, caller.org_id, chosen))


@router.post("/api/v1/analytics/best-time/apply", responses=problems(404, 422))
async def apply_best_time(
    data: suggestions.BestTimeApplyIn, session: SessionDep, caller: CurrentCaller
) -> suggestions.AppliedOut:
    """Put the suggested slots in the connection's weekly schedule; queued posts move with it."""
    return await suggestions.apply(session, caller, data.integration_id)


@router.put("/api/v1/analytics/best-time/auto-apply", responses=problems(404, 422))
async def auto_apply_best_time(
    data: suggestions.AutoApplyIn, session: SessionDep, caller: CurrentCaller
) -> suggestions.BestTimeOut:
    """Apply the suggestion by itself every week (true), or only show it (false)."""
    await suggestions.set_auto_apply(session, caller, data.integration_id, data.auto_apply)
    found = await suggestions.best_time(session, caller, data.integration_id)
    pref = await suggestions.preference(session, caller.org_id, data.integration_id)
    return suggestions.as_out(data.integration_id, found, pref)


# -- Company Pages: pages a connection administers, tracking, daily series --------------------


@router.get("/api/v1/analytics/company-pages")
async def company_pages(session: SessionDep, caller: CurrentCaller, settings: SettingsDep) -> company.CompanyPagesOut:
    """Your LinkedIn connections (each says whether it may read Company Pages, and if not why) and
    the pages found for them, tracked first, with followers, the last 30 days and when last synced."""
    return await company.overview(session, settings, caller.org_id)


@router.post("/api/v1/analytics/company-pages/discover", responses=problems(404, 422))
async def discover_company_pages(
    request: Request,
    transactions: TransactionsDep,
    caller: CallerBeforeWork,
    settings: SettingsDep,
    integration_id: Annotated[uuid.UUID, Query(description="the LinkedIn connection to ask")],
) -> company.CompanyPagesOut:
    """Ask LinkedIn which pages this connection's member administers (new ones are listed untracked).
    422, and nothing asked of LinkedIn, when the connection lacks Community Management's scope."""
    services = JobServices(settings=settings, http=request.app.state.http, keyring=request.app.state.keyring)
    await company.discover(transactions.sessions, services, caller.org_id, integration_id)
    async with transactions.read() as session:
        return await company.overview(session, settings, caller.org_id)


@router.post("/api/v1/analytics/company-pages/connect", responses=problems(422))
async def connect_company_pages(
    session: SessionDep, caller: CurrentCaller, settings: SettingsDep
) -> company.ConnectOut:
    """Reconnect LinkedIn asking also for Community Management's scopes (when this installation's
    LinkedIn app is configured for them: AUTOPILOT_LINKEDIN_COMMUNITY_SCOPES)."""
    return company.ConnectOut(authorization_url=await company.start_reconnect(session, caller, settings))


@router.get("/api/v1/analytics/company-pages/{page_id}", responses=problems(404))
async def company_page(
    page_id: uuid.UUID,
    session: SessionDep,
    caller: CurrentCaller,
    days: Annotated[int, Query(ge=1, le=366, description="how many recent days")] = 90,
) -> company.CompanyPageDetailOut:
    """One page with its daily series (UTC days, oldest first; net counts may be negative)."""
    return await company.detail(session, caller.org_id, page_id, days)


@router.post("/api/v1/analytics/company-pages/{page_id}/track", responses=problems(404))
async def track_company_page(page_id: uuid.UUID, session: SessionDep, caller: CurrentCaller) -> company.CompanyPageOut:
    """Track the page: synced now, then once a day."""
    await company.set_tracked(session, caller.org_id, page_id, True)
    return company.CompanyPageOut.of(await company.view(session, caller.org_id, page_id))


@router.post("/api/v1/analytics/company-pages/{page_id}/untrack", responses=problems(404))
async def untrack_company_page(
    page_id: uuid.UUID, session: SessionDep, caller: CurrentCaller
) -> company.CompanyPageOut:
    """Stop syncing the page (its stored days stay)."""
    await company.set_tracked(session, caller.org_id, page_id, False)
    return company.CompanyPageOut.of(await company.view(session, caller.org_id, page_id))


# -- import: LinkedIn's creator export, per-post exports and the data archive's Shares.csv -------


@router.post(
    "/api/v1/analytics/imports",
    status_code=201,
    responses={200: {"description": "This very file was imported before: nothing changed"}, **problems(413)},
)
async def import_analytics_file(
    response: Response,
    transactions: TransactionsDep,
    caller: CallerBeforeWork,
    form: Annotated[importer.ImportForm, Form(media_type="multipart/form-data")],
) -> importer.ImportResult:
    """Import a file downloaded from LinkedIn, known by its content: the creator analytics export (both
    the 2023-2025 and the 2026 layouts), a post's analytics export, or the data archive (.zip) or its
    Shares.csv for the posts' texts and times. Posts are joined to the ones published from here.
    Importing a file again changes nothing (200); a damaged or foreign file is refused whole (422)."""
    data = await form.file.read()
    parsed = await service.read_import(form.file.filename or "", data)  # before any transaction: CPU work
    async with transactions.write() as session:
        found = await service.store_import(session, caller.org_id, caller.user.id, parsed)
    if found.already_imported:
        response.status_code = 200
    return found


@router.get("/api/v1/analytics/imports")
async def list_analytics_imports(
    session: SessionDep, caller: CurrentCaller, limit: Limit = 100, offset: Offset = 0
) -> list[importer.ImportListed]:
    """The files imported, newest first, each with what it added in words and the period it covers."""
    return await service.imports(session, caller.org_id, limit, offset)
