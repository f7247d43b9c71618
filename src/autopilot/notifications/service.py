"""Alerts for an organization's owners: recorded in-app, and e-mailed (through the job engine,
in the same transaction) when SMTP is configured."""

from __future__ import annotations

import uuid
from datetime import datetime, timedelta

from sqlalchemy import select
from sqlalchemy.ext.asyncio import AsyncSession

from autopilot.accounts.repository import memberships
from autopilot.kit.time import utcnow
from autopilot.notifications.models import Alert


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
        from autopilot.worker import ledger

        for owner in await memberships.owners(session, org_id):
            await ledger.enqueue(
                session,
                kind="notifications.email",
                org_id=org_id,
                payload={"to": owner.email, "subject": f"AutoPilot alert: {kind.replace('_', ' ')}", "body": message},
                dedupe_key=f"alert:{alert.id}:{owner.id}",
            )
    return alert


async def _recent(session: AsyncSession, org_id: uuid.UUID, kind: str, since: datetime) -> bool:
    query = select(Alert.id).where(Alert.org_id == org_id, Alert.kind == kind, Alert.created_at >= since).limit(1)
    return await session.scalar(query) is not None


async def recent_alerts(session: AsyncSession, org_id: uuid.UUID, limit: int = 50) -> list[Alert]:
    query = select(Alert).where(Alert.org_id == org_id).order_by(Alert.created_at.desc()).limit(limit)
    return list(await session.scalars(query))
