"""Job kinds used by the tests and benchmarks: real handlers that call a local HTTP server."""

from __future__ import annotations

import asyncio
import uuid
from dataclasses import dataclass

import httpx
from pydantic import BaseModel
from sqlalchemy import update
from sqlalchemy.ext.asyncio import AsyncSession

from autopilot.kit.http import ClientPool
from autopilot.kit.time import utcnow
from autopilot.worker.models import Job
from autopilot.worker.policy import classify
from autopilot.worker.registry import JobContext, job

pool = ClientPool(timeout=10)


class CallPayload(BaseModel):
    url: str
    reconcile_url: str | None = None


async def post_effect(ctx: JobContext, payload: CallPayload) -> None:
    """POST to the URL with the job's idempotency key and attempt; the server decides the answer."""
    try:
        async with pool.client() as client:
            response = await client.post(
                payload.url,
                json={"job_id": ctx.job_id},
                headers={"Idempotency-Key": ctx.idempotency_key, "X-Attempt": str(ctx.attempt)},
            )
        response.raise_for_status()
    except httpx.HTTPError as exc:
        raise classify(exc, utcnow()) from exc


@job("test.call", payload=CallPayload, max_attempts=10)
async def call(ctx: JobContext, payload: CallPayload) -> None:
    """One outside call, nothing written here: the runner records the success on its own."""
    await post_effect(ctx, payload)


@call.reconcile
async def call_reconcile(ctx: JobContext, payload: CallPayload) -> bool:
    """Ask the server whether it already has this key (a lookup by client reference)."""
    if payload.reconcile_url is None:
        return False
    async with pool.client() as client:
        response = await client.get(payload.reconcile_url, params={"key": ctx.idempotency_key})
    response.raise_for_status()
    return bool(response.json()["seen"])


class NotePayload(BaseModel):
    message: str


@job("test.note", payload=NotePayload)
async def note(ctx: JobContext, payload: NotePayload) -> None:
    """Writes to the database through the run's own transaction (an in-app alert)."""
    from autopilot.notifications.models import Alert

    assert ctx.org_id is not None
    ctx.session.add(
        Alert(org_id=ctx.org_id, kind="note", message=payload.message, job_id=ctx.job_id, created_at=utcnow())
    )
    await ctx.session.flush()


@job("test.call_and_note", payload=CallPayload, max_attempts=10)
async def call_and_note(ctx: JobContext, payload: CallPayload) -> None:
    """The outside call, then a local record of it through the run's own transaction, which
    commits together with the job's success (like a post published, then its URL stored)."""
    await post_effect(ctx, payload)
    await note.handler(ctx, NotePayload(message=f"called {payload.url}"))


call_and_note.reconcile(call_reconcile)


@dataclass(frozen=True)
class NoteItem:
    org_id: uuid.UUID
    job_id: int
    message: str


async def notes_together(session: AsyncSession, items: list[NoteItem]) -> None:
    """Many jobs' notes written in one transaction (JobContext.finish_with); each note says how many
    were written with it. An item "poison" makes the whole batch fail."""
    from autopilot.notifications.models import Alert

    if any(item.message == "poison" for item in items):
        raise ValueError("a poisoned item in the batch")
    now = utcnow()
    session.add_all(
        Alert(org_id=i.org_id, kind="note", message=f"{i.message} (1 of {len(items)})", job_id=i.job_id, created_at=now)
        for i in items
    )
    await session.flush()


@job("test.note_together", payload=NotePayload)
async def note_together(ctx: JobContext, payload: NotePayload) -> None:
    """A note made with the job's success, grouped with other jobs' (the publish jobs' way)."""
    assert ctx.org_id is not None
    if payload.message == "fenced":  # meanwhile the lease expired and another runner took the job over
        async with ctx.sessions() as session, session.begin():
            await session.execute(update(Job).where(Job.id == ctx.job_id).values(attempt=Job.attempt + 1))
    await asyncio.sleep(0.05)  # the runs started together finish together
    ctx.finish_with(notes_together, NoteItem(ctx.org_id, ctx.job_id, payload.message))
