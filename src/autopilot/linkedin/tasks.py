"""LinkedIn's scheduled work: token reminders, the expiry itself, and proactive refreshes."""

from __future__ import annotations

import uuid
from datetime import datetime

from pydantic import BaseModel

from autopilot.linkedin import service
from autopilot.worker.registry import JobContext, job


class TokenEvent(BaseModel):
    integration_id: uuid.UUID
    expires_at: datetime


class ReminderPayload(TokenEvent):
    days_before: int


def _org(ctx: JobContext) -> uuid.UUID:
    assert ctx.org_id is not None, "LinkedIn jobs belong to an organization"
    return ctx.org_id


@job("linkedin.reminder", payload=ReminderPayload)
async def remind(ctx: JobContext, payload: ReminderPayload) -> None:
    await service.remind(
        ctx.session, ctx.services.settings, _org(ctx), payload.integration_id, payload.expires_at, payload.days_before
    )


@job("linkedin.expired", payload=TokenEvent)
async def expired(ctx: JobContext, payload: TokenEvent) -> None:
    await service.expire(ctx.session, ctx.services.settings, _org(ctx), payload.integration_id, payload.expires_at)


@job("linkedin.refresh", payload=TokenEvent)
async def refresh(ctx: JobContext, payload: TokenEvent) -> None:
    """Refresh ahead of expiry; a token already refreshed since this job was planned is left alone."""
    services = ctx.services
    await service.access_token(
        ctx.sessions,
        services.settings,
        services.http,
        services.keyring,
        _org(ctx),
        payload.integration_id,
        force_refresh=True,
        unless_expiry_after=payload.expires_at,
    )
