"""The publish job and the first-comment job (see content.service.Publication)."""

from __future__ import annotations

import uuid

from pydantic import BaseModel

from autopilot.content.service import COMMENT_KIND, PUBLISH_ATTEMPTS, PUBLISH_KIND, Publication, record_published
from autopilot.worker.registry import JobContext, job


class ContentRef(BaseModel):
    content_id: uuid.UUID


def _publication(ctx: JobContext, payload: ContentRef) -> Publication:
    assert ctx.org_id is not None, "content jobs belong to an organization"
    return Publication(ctx.sessions, ctx.services, ctx.org_id, payload.content_id, ctx.write_together)


@job(PUBLISH_KIND, payload=ContentRef, max_attempts=PUBLISH_ATTEMPTS)
async def publish(ctx: JobContext, payload: ContentRef) -> None:
    published = await _publication(ctx, payload).run()
    if published is not None:  # the URN is stored with the job's success, batched with others'
        ctx.finish_with(record_published, published)


@job(COMMENT_KIND, payload=ContentRef, max_attempts=5)
async def first_comment(ctx: JobContext, payload: ContentRef) -> None:
    await _publication(ctx, payload).comment(ctx.session)
