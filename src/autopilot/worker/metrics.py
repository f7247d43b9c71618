"""Prometheus metrics of the job engine; queue gauges are read from the ledger at scrape time."""

from __future__ import annotations

from prometheus_client import Counter, Gauge, Histogram
from sqlalchemy import func, select, text
from sqlalchemy.ext.asyncio import AsyncSession, async_sessionmaker

from autopilot.kit.time import utcnow
from autopilot.worker.models import DUE_PREDICATE, Job

JOB_LATENESS = Histogram(
    "autopilot_job_lateness_seconds",
    "Start time minus due time",
    ["kind"],
    buckets=(0.05, 0.1, 0.25, 0.5, 1, 2, 5, 10, 30, 60, 120, 300, 900),
)
JOB_OUTCOMES = Counter("autopilot_job_outcomes_total", "Attempts by outcome", ["kind", "outcome", "error_class"])
QUEUE_DEPTH = Gauge("autopilot_jobs_due", "Jobs due now and not yet claimed")
JOBS_BY_STATUS = Gauge("autopilot_jobs", "Jobs in the ledger by status", ["status"])


async def refresh_gauges(sessions: async_sessionmaker[AsyncSession]) -> None:
    async with sessions() as session:
        due = await session.scalar(
            select(func.count()).select_from(Job).where(text(DUE_PREDICATE), Job.run_at <= utcnow())
        )
        QUEUE_DEPTH.set(due or 0)
        for status, count in (await session.execute(select(Job.status, func.count()).group_by(Job.status))).all():
            JOBS_BY_STATUS.labels(status).set(count)
