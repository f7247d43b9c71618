"""Scheduled work: publishing at the slot, and the pre-flight checks before it."""

from __future__ import annotations

import uuid
from datetime import datetime
from typing import Literal

from pydantic import BaseModel

from autopilot.content import service as content
from autopilot.kit.time import as_utc
from autopilot.linkedin import service as linkedin
from autopilot.linkedin.service import Paced
from autopilot.scheduling import service
from autopilot.worker.registry import JobContext, job


class SlotRef(BaseModel):
    content_id: uuid.UUID


class PreflightRef(BaseModel):
    content_id: uuid.UUID
    due: datetime
    when: Literal["evening", "hour"]


def _org(ctx: JobContext) -> uuid.UUID:
    assert ctx.org_id is not None, "scheduling jobs belong to an organization"
    return ctx.org_id


@job(service.SLOT_KIND, payload=SlotRef, max_attempts=content.PUBLISH_ATTEMPTS)
async def publish_at_slot(ctx: JobContext, payload: SlotRef) -> None:
    """The post's slot has come: set it aside (missed, held) or publish it, effectively once."""
    settings = ctx.services.settings
    publication = content.Publication(ctx.sessions, ctx.services, _org(ctx), payload.content_id, ctx.write_together)
    # One short read, made together with the other slot jobs running now (one query per table for a
    # whole rush); the publication opens its own transactions.
    read = service.SlotRead(_org(ctx), payload.content_id, ctx.job_id, settings, ctx.services.keyring)
    reading = await ctx.read_together(service.slot_readings, read)
    entry, prepared, ruling = reading
    if entry is None or prepared is None:
        return  # withdrawn or moved since: the job that serves it now is another one
    if ruling is None:
        publication.checked(prepared)  # the content is gone: PermanentError
        return
    if not ruling.go:
        await service.set_aside(ctx.session, settings, entry.id, ctx.job_id, ruling)
        return
    try:
        published = await publication.run(prepared)
    except Paced as paced:  # the rush is spread: say so in the post's status while it waits its turn
        async with ctx.sessions() as session, session.begin():
            await service.spread(session, settings, entry, str(paced), paced.turn)
        raise
    if published is None:  # recorded by an earlier attempt: only the queue entry is left to close
        await service.published(ctx.session, entry.id)
    else:  # the URN and the entry are stored with the job's success, batched with other slots'
        ctx.finish_with(service.record_published, service.SlotPublished(entry.id, published))


@job(service.PREFLIGHT_KIND, payload=PreflightRef, max_attempts=3)
async def preflight(ctx: JobContext, payload: PreflightRef) -> None:
    """Ask LinkedIn whether the token still works (a revocation is only seen on a call), then check
    everything else the slot needs; the owner hears of any problem while there is time."""
    due, services = as_utc(payload.due), ctx.services
    async with ctx.readers() as reading:
        entry = await service.preflight_target(reading, _org(ctx), payload.content_id, due)
    if entry is None:
        return
    await linkedin.check_health(
        ctx.sessions, services.settings, services.http, services.keyring, _org(ctx), entry.integration_id
    )
    await service.preflight(
        ctx.session, services.keyring, services.settings, _org(ctx), payload.content_id, due, payload.when
    )
