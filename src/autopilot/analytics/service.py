"""Analytics service: what other domains call (a post was published) and what the router and pages
read. Sections below belong to one capability each: sync, import, dashboard, prediction."""

from __future__ import annotations

import asyncio
import uuid
from datetime import date, datetime
from zoneinfo import ZoneInfo

from sqlalchemy.ext.asyncio import AsyncSession

from autopilot.analytics import dashboard, importer, prediction, sync
from autopilot.analytics.models import AnalyticsPost
from autopilot.kit.errors import NotFound, Unprocessable

# -- dashboard: the read side of the figures (analytics.dashboard holds the queries and aggregations) --


def dashboard_window(timezone: str, start: date | None, end: date | None) -> dashboard.Window:
    """The period asked for, as dates of the user's zone; a period that ends before it starts is refused."""
    if start is not None and end is not None and start > end:
        raise Unprocessable(f"the period starts ({start}) after it ends ({end})")
    return dashboard.Window(ZoneInfo(timezone or "UTC"), start, end)


async def dashboard_summary(
    session: AsyncSession, org_id: uuid.UUID, window: dashboard.Window
) -> tuple[dashboard.Summary, list[dashboard.PostFigures]]:
    """The dashboard's figures (series, heatmap in the window's zone, groups) and the per-post table."""
    return await dashboard.summary(session, org_id, window)


async def post_table(session: AsyncSession, org_id: uuid.UUID, window: dashboard.Window) -> list[dashboard.PostFigures]:
    """Each post's latest figures, newest first; unknown figures stay None."""
    return await dashboard.posts_of(session, org_id, window)


async def content_analytics(
    session: AsyncSession, org_id: uuid.UUID, content_id: uuid.UUID, published: bool
) -> dashboard.ContentAnalytics:
    """One content item's figures, sync state and samples; the caller has checked the item is the org's."""
    return await dashboard.content_analytics(session, org_id, content_id, published)


async def post_analytics(
    session: AsyncSession, org_id: uuid.UUID, post_or_content_id: uuid.UUID
) -> tuple[dashboard.PostFigures, list[dashboard.Sample]]:
    """A post's figures and samples, by the post's id or its content's id; NotFound otherwise."""
    post = await dashboard.post_by_id(session, org_id, post_or_content_id)
    if post is None:
        post = await dashboard.post_of_content(session, org_id, post_or_content_id)
    if post is None:
        raise NotFound(f"no analytics for {post_or_content_id}")
    return dashboard.figures_of(post), await dashboard.samples_of(session, org_id, post.id)


# -- sync: per-post figures read from LinkedIn's API (analytics.sync holds the job's work) --


async def track_published(
    session: AsyncSession,
    org_id: uuid.UUID,
    content_id: uuid.UUID,
    integration_id: uuid.UUID | None,
    share_urn: str,
    published_at: datetime,
    text: str | None,
    media_type: str | None,
) -> AnalyticsPost:
    """A post of ours went out: keep it (origin "published") and plan its first API read in the
    caller's transaction. Idempotent: the same content or URN again changes nothing (an imported row
    of the same URN becomes ours and starts syncing)."""
    return await sync.track(session, org_id, content_id, integration_id, share_urn, published_at, text, media_type)


PublishedPost = sync.PublishedPost


async def track_published_many(session: AsyncSession, published: list[PublishedPost]) -> None:
    """`track_published` for many posts at once (the publish jobs' successes, recorded in batches)."""
    await sync.track_many(session, published)


async def post_figures(session: AsyncSession, org_id: uuid.UUID, content_id: uuid.UUID) -> AnalyticsPost | None:
    """The analytics row of a published content item (latest figures, sync state, synced_at), or None."""
    return await sync.figures_of(session, org_id, content_id)


# -- prediction: the account's engagement forecast (analytics.prediction holds the model) --


async def predict(
    session: AsyncSession, org_id: uuid.UUID, zone: str, draft: prediction.PredictIn
) -> prediction.PredictionOut:
    """A draft's likely reactions + comments as an 80 % range, against the account's median, with
    the model's basis (prior only, or N of the account's posts)."""
    found = await prediction.predict(session, org_id, zone, draft.text, draft.media_type, draft.slot)
    return prediction.prediction_out(found)


async def forecast_report(session: AsyncSession, org_id: uuid.UUID) -> prediction.ModelReportOut:
    """The forecast's basis and its validation on the account's later posts."""
    return await prediction.model_report(session, org_id)


async def ask_training(session: AsyncSession, org_id: uuid.UUID) -> int:
    """A person asks for the forecast to learn from the latest figures now: the job's id."""
    return await prediction.plan_training(session, org_id, asked=True)


async def figures_arrived(session: AsyncSession, org_id: uuid.UUID) -> int | None:
    """Call after storing posts' figures (sync, import): plans a debounced retraining once enough
    new posts have figures; the job's id, or None when not due yet."""
    return await prediction.retrain_if_due(session, org_id)


# -- import: LinkedIn's export files and data archive (analytics.importer reads and writes them) --


async def read_import(filename: str, data: bytes) -> importer.ParsedFile:
    """Read and check an uploaded file in a worker thread (parsing is CPU work): 422 with a sentence
    when it is none of LinkedIn's files we know, or damaged. Call it before any transaction begins."""
    return await asyncio.to_thread(importer.read_file, filename, data)


async def store_import(
    session: AsyncSession, org_id: uuid.UUID, user_id: uuid.UUID | None, parsed: importer.ParsedFile
) -> importer.ImportResult:
    """Write a read file in the caller's transaction; the same file again changes nothing."""
    return await importer.store(session, org_id, user_id, parsed)


async def import_file(
    session: AsyncSession, org_id: uuid.UUID, user_id: uuid.UUID | None, filename: str, data: bytes
) -> importer.ImportResult:
    """Read then write an uploaded file. Give a session that has not begun: on SQLite its first
    statement takes the write lock, which must not be held while the file is parsed."""
    return await importer.import_file(session, org_id, user_id, filename, data)


async def imports(session: AsyncSession, org_id: uuid.UUID, limit: int, offset: int) -> list[importer.ImportListed]:
    """The organization's imported files, newest first."""
    return await importer.imports(session, org_id, limit, offset)
