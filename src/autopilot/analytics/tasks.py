"""Analytics job handlers: the metric sync of published posts (and, below it, other analytics jobs)."""

from __future__ import annotations

import asyncio
import uuid
from datetime import datetime

from pydantic import BaseModel

from autopilot.analytics import company, prediction, suggestions
from autopilot.analytics.sync import SYNC_KIND, PostSync
from autopilot.worker.registry import JobContext, job


class SyncRef(BaseModel):
    post_id: uuid.UUID
    due: datetime  # the read this job was planned for; a replanned post ignores it


@job(SYNC_KIND, payload=SyncRef, max_attempts=5)
async def sync_post(ctx: JobContext, payload: SyncRef) -> None:
    """Read one post's figures from LinkedIn and plan its next read (analytics.sync)."""
    assert ctx.org_id is not None, "analytics jobs belong to an organization"
    await PostSync(ctx.sessions, ctx.services, ctx.org_id, payload.post_id, payload.due).run(ctx.session)


# -- prediction: the account's engagement forecast, trained off the event loop ----------------


class TrainRef(BaseModel):
    pass  # the organization is the job's own


@job(prediction.TRAIN_KIND, payload=TrainRef, max_attempts=3)
async def train_forecast(ctx: JobContext, payload: TrainRef) -> None:
    """Read the account's posts, validate and fit in a thread, then store in the job's transaction."""
    assert ctx.org_id is not None, "analytics jobs belong to an organization"
    async with ctx.readers() as reading:  # a short read; nothing is held open while training
        zone = await prediction.account_zone(reading, ctx.org_id)
        posts = await prediction.account_posts(reading, ctx.org_id, zone)
    fit, report = await asyncio.to_thread(prediction.train, prediction.shipped_prior(), posts)
    await prediction.store_model(ctx.session, ctx.org_id, fit, report, posts_seen=len(posts))


# -- learned best time: the weekly "apply automatically" run --------------------------------


@job(suggestions.WEEKLY_KIND, payload=suggestions.WeeklyRef, max_attempts=3)
async def best_time_weekly(ctx: JobContext, payload: suggestions.WeeklyRef) -> None:
    """Apply the learned best time when the user chose so, and plan next week's run."""
    assert ctx.org_id is not None, "analytics jobs belong to an organization"
    await suggestions.weekly(ctx.session, ctx.org_id, payload.integration_id)


# -- Company Pages: the daily sync of each tracked page ---------------------------------------


class CompanyPageRef(BaseModel):
    page_id: uuid.UUID


@job(company.SYNC_KIND, payload=CompanyPageRef, max_attempts=5)
async def sync_company_page(ctx: JobContext, payload: CompanyPageRef) -> None:
    """Read a tracked Company Page's daily statistics and plan tomorrow's read (analytics.company)."""
    assert ctx.org_id is not None, "analytics jobs belong to an organization"
    await company.sync(ctx.session, ctx.sessions, ctx.services, ctx.org_id, payload.page_id)
