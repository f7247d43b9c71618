"""Analytics pages: the dashboard (readable on a phone), per-post analytics, imports, Company Pages."""

from __future__ import annotations

import uuid
from datetime import date, datetime
from typing import Annotated, Any
from urllib.parse import urlsplit
from zoneinfo import ZoneInfo

from fastapi import APIRouter, File, Form, Request, UploadFile
from fastapi.responses import HTMLResponse, RedirectResponse, Response
from pydantic import ValidationError
from sqlalchemy.ext.asyncio import AsyncSession

from autopilot.accounts.deps import PageCaller, optional_page_caller, page_caller
from autopilot.accounts.service import Caller
from autopilot.analytics import charts, company, dashboard, prediction, service, suggestions
from autopilot.config import Settings
from autopilot.content import service as content_service
from autopilot.kit.deps import SessionDep, SettingsDep, TransactionsDep
from autopilot.kit.errors import Answered, AppError, NotFound, Unprocessable
from autopilot.kit.security import page_policy
from autopilot.kit.time import as_utc
from autopilot.web.session import CsrfChecked
from autopilot.web.templating import Nav, local_time, readable, render
from autopilot.worker.policy import JobError
from autopilot.worker.registry import JobServices

router = APIRouter(include_in_schema=False)
NAV = [Nav("analytics", "Analytics", "/analytics")]


# -- dashboard: figures, charts, heatmap, groups, the per-post table and its CSV ------------------

SOURCES = {"api": "LinkedIn API", "export": "creator export", "post_export": "post export"}


def count(value: int | float | None) -> str:
    """A figure as read on the page: "12,345", or "—" when unknown (never 0 for unknown)."""
    return "—" if value is None else f"{value:,.0f}"


def percent(rate: float | None) -> str:
    return "—" if rate is None else f"{rate * 100:.1f}%"


def local_day(value: datetime | None, zone: str) -> str:
    return "—" if value is None else as_utc(value).astimezone(ZoneInfo(zone or "UTC")).strftime("%Y-%m-%d")


def freshness(post: dashboard.PostFigures, zone: str) -> str:
    """When the post's figures were read: synced by the API at …, or from an export made on …"""
    if post.source == "api" and post.synced_at is not None:
        return f"last synced {local_time(post.synced_at, zone)}"
    if post.source is not None and post.figures_at is not None:
        return f"imported from the {SOURCES.get(post.source, post.source)} of {local_day(post.figures_at, zone)}"
    if post.sync_state == "pending":
        return "waiting for its first sync"
    if post.sync_state in ("unsupported", "error"):
        return f"not synced: {post.sync_detail or post.sync_state}"
    return "never synced"


def period_of(request: Request, caller: Caller) -> dashboard.Window:
    """The period in the query (?from=YYYY-MM-DD&to=YYYY-MM-DD, both optional)."""
    ends: list[date | None] = []
    for name in ("from", "to"):
        raw = request.query_params.get(name, "").strip()
        try:
            ends.append(date.fromisoformat(raw) if raw else None)
        except ValueError:
            raise Unprocessable(f"{name}: {raw[:20]!r} is not a date like 2026-11-24") from None
    return service.dashboard_window(caller.user.timezone, ends[0], ends[1])


def series_charts(summary: dashboard.Summary, posts: list[dashboard.PostFigures], zone: str) -> list[charts.Chart]:
    """Impressions, engagement rate and followers over time: the account's days when an export gave
    them, else each post's figures on the day it was published."""
    if summary.days:
        days = [d.day.isoformat() for d in summary.days]
        return [
            charts.build(
                "Impressions per day",
                "bars",
                [charts.Point(label, d.impressions) for label, d in zip(days, summary.days, strict=True)],
                count,
            ),
            charts.build(
                "Engagement rate per day (engagements ÷ impressions)",
                "line",
                [charts.Point(label, d.engagement_rate) for label, d in zip(days, summary.days, strict=True)],
                percent,
            ),
            charts.build(
                "Followers",
                "line",
                [charts.Point(label, d.followers) for label, d in zip(days, summary.days, strict=True)],
                count,
            ),
        ]
    dated = [p for p in reversed(posts) if p.published_at is not None]
    labels = [local_day(p.published_at, zone) for p in dated]
    return [
        charts.build(
            "Impressions per post",
            "bars",
            [charts.Point(d, p.impressions) for d, p in zip(labels, dated, strict=True)],
            count,
        ),
        charts.build(
            "Engagement rate per post",
            "line",
            [charts.Point(d, p.engagement_rate) for d, p in zip(labels, dated, strict=True)],
            percent,
        ),
    ]


def _figures_context(caller: Caller) -> dict[str, Any]:
    zone = caller.user.timezone or "UTC"
    return {
        "caller": caller,
        "active": "analytics",
        "zone": zone,
        "count": count,
        "percent": percent,
        "freshness": lambda post: freshness(post, zone),
        "local_day": lambda value: local_day(value, zone),
        "sources": SOURCES,
        "weekdays": dashboard.WEEKDAYS,
    }


async def _dashboard(
    request: Request, session: AsyncSession, caller: Caller, status_code: int = 200, **extra: Any
) -> HTMLResponse:
    context = _figures_context(caller) | extra
    try:
        window = period_of(request, caller)
    except AppError as exc:
        window, context["error"], status_code = service.dashboard_window(context["zone"], None, None), exc.detail, 422
    summary, posts = await service.dashboard_summary(session, caller.org_id, window)
    return render(
        request,
        "analytics.html",
        status_code,
        summary=summary,
        posts=posts,
        series=series_charts(summary, posts, context["zone"]),
        heat_hours=sorted({cell.hour for cell in summary.heatmap}),
        heat_cells={(cell.weekday, cell.hour): cell for cell in summary.heatmap},
        groups=[
            ("Format", summary.by_format),
            ("Length", summary.by_length),
            ("Hashtags", summary.by_hashtags),
        ],
        min_group=dashboard.MIN_GROUP,
        period={"from": window.start, "to": window.end},
        **context,
    )


@router.get("/analytics", response_class=HTMLResponse)
async def dashboard_page(request: Request, session: SessionDep, caller: PageCaller) -> Response:
    """The dashboard: what the figures say, or how to bring them in when there are none yet."""
    return await _dashboard(request, session, caller)


@router.post("/analytics/import", response_class=HTMLResponse)
async def import_export_file(
    request: Request,
    session: SessionDep,
    caller: PageCaller,
    _csrf: CsrfChecked,
    export: Annotated[UploadFile | None, File()] = None,
) -> Response:
    """Import LinkedIn's analytics export (or a post's export, or Shares.csv); the page says what it added."""
    try:
        if export is None or not export.filename:
            raise Unprocessable("choose the export file (.xlsx) you downloaded from LinkedIn")
        data = await export.read()
        # End the transaction the caller's lookup began: on SQLite it holds the write lock, which
        # must not wait for the parsing (CPU work, in a thread); the file is stored in a new one.
        await session.commit()
        parsed = await service.read_import(export.filename, data)
        found = await service.store_import(session, caller.org_id, caller.user.id, parsed)
    except AppError as exc:
        sentence = exc.detail[:1].upper() + exc.detail[1:] + ("" if exc.detail.endswith(".") else ".")
        raise Answered(await _dashboard(request, session, caller, exc.status, error=sentence), exc.detail) from exc
    said = "This file was imported before: nothing changed." if found.already_imported else found.summary
    return await _dashboard(request, session, caller, notice=f"{found.filename}: {said}")


@router.get("/analytics/export.csv")
async def export_csv(request: Request, session: SessionDep, caller: PageCaller) -> Response:
    """The per-post table as CSV (cells a spreadsheet would run as a formula are defused)."""
    window = period_of(request, caller)
    posts = await service.post_table(session, caller.org_id, window)
    return Response(
        dashboard.posts_csv(posts),
        media_type="text/csv; charset=utf-8",
        headers={"Content-Disposition": 'attachment; filename="linkedin-posts.csv"'},
    )


@router.get("/analytics/posts/{content_or_post_id}", response_class=HTMLResponse)
async def post_page(content_or_post_id: str, request: Request, session: SessionDep, caller: PageCaller) -> Response:
    """One post's figures, where they came from and when, and how they moved over time."""
    context = _figures_context(caller)
    try:
        try:
            wanted = uuid.UUID(content_or_post_id)
        except ValueError:
            raise NotFound(f"no post with id {content_or_post_id[:40]}") from None
        try:
            post, samples = await service.post_analytics(session, caller.org_id, wanted)
        except NotFound:
            # Our own content not yet known to analytics: its state, not zeros.
            content = await content_service.get(session, caller, wanted)
            state = await service.content_analytics(session, caller.org_id, content.id, content.state == "published")
            return render(request, "analytics_post.html", post=None, state=state, text=content.text, **context)
    except AppError as exc:
        return render(request, "analytics_post.html", exc.status, post=None, state=None, error=exc.detail, **context)
    over_time = charts.build(
        "Impressions over time",
        "line",
        [charts.Point(local_day(sample.at, context["zone"]), sample.impressions) for sample in samples],
        count,
    )
    return render(
        request,
        "analytics_post.html",
        post=post,
        samples=samples,
        over_time=over_time if len(samples) > 1 else None,
        state=None,
        text=post.text,
        **context,
    )


# -- Company Pages: tracked pages with followers, the last 30 days and when last synced ----------

PAGES = "/analytics/pages"
PAGES_DONE = {
    "found": "Asked LinkedIn for the pages you administer.",
    "tracked": "Tracking: the first sync runs now, then once a day.",
    "untracked": "No longer synced; the days already read stay.",
}
SYNC_WORDS = {
    "pending": "waiting for its first sync",
    "ok": "synced",
    "unsupported": "not available",
    "rate_limited": "LinkedIn is throttling: retrying later",
    "error": "the last sync failed",
}


async def _company_page(
    request: Request, session: AsyncSession, settings: Settings, caller: Caller, status_code: int = 200, **context: Any
) -> HTMLResponse:
    found = await company.overview(session, settings, caller.org_id)
    response = render(
        request,
        "analytics_pages.html",
        status_code,
        caller=caller,
        active="analytics",
        connections=found.connections,
        tracked=[p for p in found.pages if p.tracked],
        others=[p for p in found.pages if not p.tracked],
        count=count,
        sync_words=SYNC_WORDS,
        zone=caller.user.timezone or "UTC",
        **context,
    )
    # "Reconnect" posts here and is redirected to LinkedIn's authorization page: allow that origin.
    auth = urlsplit(settings.linkedin_urls[0])
    response.headers["content-security-policy"] = page_policy(f"{auth.scheme}://{auth.netloc}")
    return response


@router.get(PAGES, response_class=HTMLResponse)
async def company_pages_page(
    request: Request, session: SessionDep, settings: SettingsDep, caller: PageCaller
) -> Response:
    notice = PAGES_DONE.get(request.query_params.get("done", ""))
    if request.query_params.get("connected"):
        notice = "LinkedIn reconnected. Ask it for your pages below."
    return await _company_page(
        request, session, settings, caller, notice=notice, error=request.query_params.get("error")
    )


@router.post(f"{PAGES}/discover")
async def discover_company_pages(
    request: Request,
    transactions: TransactionsDep,
    settings: SettingsDep,
    integration_id: Annotated[str, Form()],
    _csrf: CsrfChecked,
) -> Response:
    # No request-wide session: LinkedIn is called here, and the service writes in short transactions.
    async with transactions.read() as session:
        caller = await page_caller(await optional_page_caller(request, session))
    app = request.app.state
    services = JobServices(settings=settings, http=app.http, keyring=app.keyring)
    try:
        await company.discover(transactions.sessions, services, caller.org_id, _page_id(integration_id))
    except (AppError, JobError) as exc:
        detail = exc.detail if isinstance(exc, AppError) else f"LinkedIn could not be asked: {exc}"
        async with transactions.read() as session:
            page = await _company_page(request, session, settings, caller, 422, error=detail)
        raise Answered(page, detail) from exc
    return RedirectResponse(f"{PAGES}?done=found", status_code=303)


def _page_id(raw: str) -> uuid.UUID:
    try:
        return uuid.UUID(raw)
    except ValueError:
        raise NotFound(f"no company page or connection with id {raw[:40]}") from None


@router.post(f"{PAGES}/connect")
async def reconnect_for_company_pages(
    request: Request, session: SessionDep, settings: SettingsDep, caller: PageCaller, _csrf: CsrfChecked
) -> Response:
    try:
        url = await company.start_reconnect(session, caller, settings, return_to=PAGES)
    except AppError as exc:
        raise Answered(
            await _company_page(request, session, settings, caller, exc.status, error=exc.detail), exc.detail
        ) from exc
    return RedirectResponse(url, status_code=303)


@router.post(PAGES + "/{page_id}/{action}")
async def track_company_page(
    page_id: str, action: str, request: Request, session: SessionDep, settings: SettingsDep, caller: PageCaller,
    _csrf: CsrfChecked,
) -> Response:  # fmt: skip
    try:
        if action not in ("track", "untrack"):
            raise NotFound(f"no action {action[:20]}")
        await company.set_tracked(session, caller.org_id, _page_id(page_id), action == "track")
    except AppError as exc:
        raise Answered(
            await _company_page(request, session, settings, caller, exc.status, error=exc.detail), exc.detail
        ) from exc
    return RedirectResponse(f"{PAGES}?done={action}ed", status_code=303)


# -- prediction and learned best time: the forecast's report, the best-time suggestion --------

FORECAST_DONE = {
    "train": "Retraining: the forecast learns from your latest figures in a moment.",
    "applied": "Applied: your weekly slots follow your best times; queued posts moved with them.",
    "auto_on": "The best time will be applied by itself every week.",
    "auto_off": "The best time will only be suggested.",
}


def pct(rate: float | None) -> str:
    return "—" if rate is None else f"{rate * 100:.0f} %" if rate >= 0.1 else f"{rate * 100:.1f} %"


async def _model_page(
    request: Request, session: AsyncSession, caller: Caller, status_code: int = 200, **context: Any
) -> HTMLResponse:
    model = await service.forecast_report(session, caller.org_id)
    best = None
    try:
        chosen: uuid.UUID | None = await suggestions.integration_of(session, caller, None)
    except NotFound:
        chosen = None
    if chosen is not None:
        found = await suggestions.best_time(session, caller, chosen)
        best = suggestions.as_out(chosen, found, await suggestions.preference(session, caller.org_id, chosen))
    return render(
        request,
        "analytics_model.html",
        status_code,
        caller=caller,
        active="analytics",
        model=model,
        best=best,
        pct=pct,
        **context,
    )


async def _model_refusal(request: Request, session: AsyncSession, caller: Caller, exc: AppError) -> Answered:
    """The page again with the error said plainly; raising it rolls the request's changes back."""
    sentence = exc.detail[:1].upper() + exc.detail[1:] + ("" if exc.detail.endswith(".") else ".")
    page = await _model_page(request, session, caller, exc.status, error=sentence)
    return Answered(page, exc.detail)


@router.get("/analytics/model", response_class=HTMLResponse)
async def model_page(request: Request, session: SessionDep, caller: PageCaller) -> Response:
    """The forecast's basis and validation on your later posts, and the best time with its evidence."""
    notice = FORECAST_DONE.get(request.query_params.get("done", ""))
    return await _model_page(request, session, caller, notice=notice)


@router.post("/analytics/model/train")
async def model_train(session: SessionDep, caller: PageCaller, _csrf: CsrfChecked) -> Response:
    await service.ask_training(session, caller.org_id)
    return RedirectResponse("/analytics/model?done=train", status_code=303)


@router.post("/analytics/best-time/apply", response_class=HTMLResponse)
async def best_time_apply(
    request: Request,
    session: SessionDep,
    caller: PageCaller,
    _csrf: CsrfChecked,
    integration_id: Annotated[str, Form()] = "",
) -> Response:
    try:
        try:
            data = suggestions.BestTimeApplyIn.model_validate({"integration_id": integration_id})
        except ValidationError as exc:
            raise Unprocessable(readable(exc)) from exc
        await suggestions.apply(session, caller, data.integration_id)
    except AppError as exc:
        raise await _model_refusal(request, session, caller, exc) from exc
    return RedirectResponse("/analytics/model?done=applied", status_code=303)


@router.post("/analytics/best-time/auto-apply", response_class=HTMLResponse)
async def best_time_auto_apply(
    request: Request,
    session: SessionDep,
    caller: PageCaller,
    _csrf: CsrfChecked,
    integration_id: Annotated[str, Form()] = "",
    auto_apply: Annotated[str, Form()] = "",
) -> Response:
    try:
        try:
            data = suggestions.AutoApplyIn.model_validate({"integration_id": integration_id, "auto_apply": auto_apply})
        except ValidationError as exc:
            raise Unprocessable(readable(exc)) from exc
        await suggestions.set_auto_apply(session, caller, data.integration_id, data.auto_apply)
    except AppError as exc:
        raise await _model_refusal(request, session, caller, exc) from exc
    return RedirectResponse(f"/analytics/model?done={'auto_on' if data.auto_apply else 'auto_off'}", status_code=303)


@router.post("/analytics/predict-line", response_class=HTMLResponse)
async def predict_line(
    request: Request,
    session: SessionDep,
    caller: PageCaller,
    _csrf: CsrfChecked,
    text: Annotated[str, Form()] = "",
) -> Response:
    """The forecast line under a draft in the studio (HTMX, refreshed as the text is edited)."""
    typed = text.replace("\r\n", "\n").strip()[:20_000]
    found = None
    if typed:
        draft = prediction.PredictIn(text=typed)
        found = await service.predict(session, caller.org_id, caller.user.timezone or "UTC", draft)
    return render(request, "_analytics_forecast.html", caller=caller, forecast=found)
