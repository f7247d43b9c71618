"""Queue an e-mail: a job written in the caller's transaction, sent after it commits."""

from __future__ import annotations

import uuid

from sqlalchemy.ext.asyncio import AsyncSession

from autopilot.worker import ledger

EMAIL_KIND = "notifications.email"


async def queue_email(
    session: AsyncSession, *, org_id: uuid.UUID | None, to: str, subject: str, body: str, dedupe_key: str
) -> int:
    """Enqueue one e-mail (sent by `notifications.tasks`); the same dedupe key queues it once."""
    return await ledger.enqueue(
        session,
        kind=EMAIL_KIND,
        org_id=org_id,
        payload={"to": to, "subject": subject, "body": body},
        dedupe_key=dedupe_key,
    )
