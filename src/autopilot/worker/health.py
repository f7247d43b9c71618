"""How the job engine is doing: backlog, lateness, stale leases, heartbeats."""

from __future__ import annotations

import uuid
from datetime import timedelta
from typing import Any

from sqlalchemy import func, select, text
from sqlalchemy.ext.asyncio import AsyncSession, async_sessionmaker

from autopilot.config import Settings
from autopilot.kit.time import utcnow
from autopilot.worker.models import DUE_PREDICATE, Heartbeat, Job

LATENESS_SAMPLE = 20_000


def percentile(values: list[float], q: float) -> float | None:
    """Nearest-rank percentile (q in 0..100) of *values*; None when there are none."""
    if not values:
        return None
    ordered = sorted(values)
    rank = max(1, min(len(ordered), round(q / 100 * len(ordered) + 0.5)))
    return ordered[rank - 1]


async def executor_readiness(sessions: async_sessionmaker[AsyncSession], settings: Settings) -> dict[str, str]:
    """ok when some executor wrote a heartbeat within the stale window."""
    since = utcnow() - timedelta(seconds=settings.heartbeat_stale_s)
    try:
        async with sessions() as session:
            seen = await session.scalar(select(func.max(Heartbeat.seen_at)).where(Heartbeat.role == "executor"))
    except Exception as exc:
        return {"status": "down", "detail": f"cannot read heartbeats: {type(exc).__name__}"}
    if seen is None or seen < since:
        return {"status": "down", "detail": f"no executor heartbeat in the last {settings.heartbeat_stale_s:.0f} s"}
    return {"status": "ok"}


async def lateness_seconds(session: AsyncSession, org_id: uuid.UUID | None, since_s: float = 3600) -> list[float]:
    since = utcnow() - timedelta(seconds=since_s)
    query = select(Job.started_at, Job.run_at).where(Job.started_at >= since).limit(LATENESS_SAMPLE)
    if org_id is not None:
        query = query.where(Job.org_id == org_id)
    return [max(0.0, (s - r).total_seconds()) for s, r in (await session.execute(query)).all() if s and r]


async def late_organizations(session: AsyncSession, threshold_s: float) -> list[tuple[uuid.UUID, float]]:
    """Organizations whose p99 lateness over the last hour is above *threshold_s*."""
    since = utcnow() - timedelta(hours=1)
    rows = (
        await session.execute(
            select(Job.org_id, Job.started_at, Job.run_at)
            .where(Job.started_at >= since, Job.org_id.is_not(None))
            .limit(LATENESS_SAMPLE * 5)
        )
    ).all()
    by_org: dict[uuid.UUID, list[float]] = {}
    for org_id, started, run_at in rows:
        if org_id is None or started is None:
            continue
        by_org.setdefault(org_id, []).append(max(0.0, (started - run_at).total_seconds()))
    late = []
    for org_id, values in by_org.items():
        p99 = percentile(values, 99)
        if p99 is not None and p99 > threshold_s:
            late.append((org_id, p99))
    return late


async def health_report(
    session: AsyncSession, org_id: uuid.UUID, settings: Settings, *, show_processes: bool = False
) -> dict[str, Any]:
    """The numbers behind GET /api/v1/jobs/health, for one organization's jobs. Every process's
    heartbeat (its name holds the host and pid) is listed only with *show_processes*, for operators;
    everyone sees how many executors and dispatchers are alive."""
    now = utcnow()
    scoped = Job.org_id == org_id
    backlog, oldest = (
        await session.execute(
            select(func.count(), func.min(Job.run_at))
            .select_from(Job)
            .where(text(DUE_PREDICATE), Job.run_at <= now, scoped)
        )
    ).one()
    stale = await session.scalar(
        select(func.count()).select_from(Job).where(text("status = 'claimed'"), Job.lease_until < now, scoped)
    )
    lateness = await lateness_seconds(session, org_id)
    beats = (await session.execute(select(Heartbeat).order_by(Heartbeat.role, Heartbeat.name))).scalars().all()
    stale_after = timedelta(seconds=settings.heartbeat_stale_s)
    alive = [b for b in beats if now - b.seen_at <= stale_after]
    return {
        "backlog": backlog,
        "oldest_overdue_s": round((now - oldest).total_seconds(), 3) if oldest else 0.0,
        "lateness_last_hour": {
            "count": len(lateness),
            "p50_s": percentile(lateness, 50),
            "p99_s": percentile(lateness, 99),
        },
        "stale_leases": stale or 0,
        "executors_alive": sum(1 for b in alive if b.role == "executor"),
        "dispatchers_alive": sum(1 for b in alive if b.role == "dispatcher"),
        "heartbeats": [
            {
                "name": b.name,
                "role": b.role,
                "mode": b.mode,
                "seen_at": b.seen_at,
                "age_s": round((now - b.seen_at).total_seconds(), 3),
                "alive": now - b.seen_at <= stale_after,
                "jobs_done": b.jobs_done,
            }
            for b in (beats if show_processes else [])
        ],
    }
