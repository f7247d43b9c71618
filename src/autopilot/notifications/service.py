"""Alerts for an organization's owners: recorded in-app, and e-mailed (through the job engine,
in the same transaction) when SMTP is configured."""

from __future__ import annotations

import uuid
from datetime import datetime, timedelta

from sqlalchemy import select
from sqlalchemy.ext.asyncio import AsyncSession

from autopilot.accounts.service import owner_contacts
from autopilot.config import Settings
from autopilot.kit.time import utcnow
from autopilot.notifications.email import EMAIL_KIND, queue_email
from autopilot.notifications.models import Alert
from autopilot.worker.outcomes import JobEndedBadly, Listener, Outcome, WorkRunningLate

LATE_ALERT_QUIET = timedelta(hours=1)
_VERBS = {"held": "is on hold", "failed": "failed", "dead": "died"}


async def alert_owners(
    session: AsyncSession,
    org_id: uuid.UUID,
    *,
    kind: str,
    message: str,
    job_id: int | None = None,
    email: bool = False,
    quiet_for: timedelta | None = None,
) -> Alert | None:
    """Record an alert; with *quiet_for*, skip it if one of the same kind was raised that recently."""
    now = utcnow()
    if quiet_for is not None and await _recent(session, org_id, kind, now - quiet_for):
        return None
    alert = Alert(org_id=org_id, kind=kind, message=message, job_id=job_id, created_at=now)
    session.add(alert)
    await session.flush()
    if email:
        for owner_id, address in await owner_contacts(session, org_id):
            await queue_email(
                session,
                org_id=org_id,
                to=address,
                subject=f"AutoPilot alert: {kind.replace('_', ' ')}",
                body=message,
                dedupe_key=f"alert:{alert.id}:{owner_id}",
            )
    return alert


def engine_alerts(settings: Settings) -> Listener:
    """The job engine's outcome listener: owners hear of dead, failed and held jobs and of late
    work, in-app and (with SMTP configured) by e-mail. A failed alert e-mail is not e-mailed."""
    email = bool(settings.smtp_host)

    async def listen(session: AsyncSession, outcome: Outcome) -> None:
        if isinstance(outcome, JobEndedBadly):
            await alert_owners(
                session,
                outcome.org_id,
                kind=f"job_{outcome.status}",
                job_id=outcome.job_id,
                message=f"Job {outcome.job_id} ({outcome.kind}) {_VERBS[outcome.status]} after attempt "
                f"{outcome.attempt}: {outcome.reason}",
                email=email and outcome.kind != EMAIL_KIND,
            )
        elif isinstance(outcome, WorkRunningLate):
            await alert_owners(
                session,
                outcome.org_id,
                kind="jobs_late",
                quiet_for=LATE_ALERT_QUIET,
                message=f"Scheduled work is running late: p99 lateness {outcome.p99_lateness_s:.0f} s over the "
                "last hour (goal: under 60 s). Check the workers.",
                email=email,
            )

    return listen


async def _recent(session: AsyncSession, org_id: uuid.UUID, kind: str, since: datetime) -> bool:
    query = select(Alert.id).where(Alert.org_id == org_id, Alert.kind == kind, Alert.created_at >= since).limit(1)
    return await session.scalar(query) is not None


async def recent_alerts(session: AsyncSession, org_id: uuid.UUID, limit: int = 50) -> list[Alert]:
    """The organization's newest alerts first."""
    query = select(Alert).where(Alert.org_id == org_id).order_by(Alert.created_at.desc()).limit(limit)
    return list(await session.scalars(query))
