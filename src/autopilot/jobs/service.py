"""Jobs as the organization sees them: list, inspect, retry and cancel."""

from __future__ import annotations

import uuid
from typing import Any

from sqlalchemy import RowMapping, func, select, update
from sqlalchemy.ext.asyncio import AsyncSession

from autopilot.accounts.service import Caller
from autopilot.kit.errors import Conflict, Forbidden
from autopilot.kit.repository import TenantRepository
from autopilot.kit.time import utcnow
from autopilot.worker.models import Job, JobStatus
from autopilot.worker.registry import REGISTRY

# The columns a listing shows (schemas.JobOut).
LISTED = (
    "id", "kind", "status", "payload", "due_at", "run_at", "attempt", "max_attempts", "priority", "last_error",
    "error_class", "started_at", "finished_at", "created_at", "updated_at",
)  # fmt: skip
RETRYABLE = {JobStatus.FAILED.value, JobStatus.DEAD.value, JobStatus.HELD.value, JobStatus.CANCELLED.value}
CANCELLABLE = {JobStatus.SCHEDULED.value, JobStatus.RETRY_WAIT.value, JobStatus.HELD.value}


class Jobs(TenantRepository[Job]):
    model, noun = Job, "job"

    async def page(
        self, session: AsyncSession, org_id: uuid.UUID, *, status: str | None, kind: str | None, limit: int, offset: int
    ) -> tuple[list[RowMapping], int]:
        """One page of the organization's jobs, newest first, and how many match in all.
        Plain rows, not ORM objects: a page of 50 is read often and only shown."""
        where = [Job.org_id == org_id]
        if status:
            where.append(Job.status == status)
        if kind:
            where.append(Job.kind == kind)
        total = await session.scalar(select(func.count()).select_from(Job).where(*where)) or 0
        columns = [Job.__table__.c[name] for name in LISTED]
        query = select(*columns).where(*where).order_by(Job.id.desc()).limit(limit).offset(offset)
        return list((await session.execute(query)).mappings()), int(total)


jobs = Jobs()


def _require_manager(caller: Caller) -> None:
    if not caller.is_manager:
        raise Forbidden("only an owner or admin can retry or cancel jobs")


async def _move(
    session: AsyncSession, caller: Caller, job_id: int, allowed: set[str], refusal: str, **values: Any
) -> Job:
    """A guarded status change asked for by an owner or admin; 409 when the job moved on."""
    job = await jobs.get(session, caller.org_id, job_id)
    _require_manager(caller)
    result = await session.execute(
        update(Job)
        .where(Job.id == job.id, Job.status.in_(allowed))
        .values(updated_at=utcnow(), **values)
        .execution_options(synchronize_session=False)
    )
    if result.rowcount != 1:  # type: ignore[attr-defined]
        raise Conflict(f"job {job_id} is {job.status}; {refusal}")
    await session.refresh(job)
    return job


async def retry(session: AsyncSession, caller: Caller, job_id: int) -> Job:
    """Run a failed, dead, held or cancelled job again now, with a fresh set of attempts."""
    job = await jobs.get(session, caller.org_id, job_id)
    spec = REGISTRY.get(job.kind)
    fresh_attempts = spec.max_attempts if spec else 3
    return await _move(
        session,
        caller,
        job_id,
        RETRYABLE,
        "only failed, dead, held or cancelled jobs can be retried",
        status=JobStatus.SCHEDULED.value,
        run_at=utcnow(),
        max_attempts=Job.attempt + fresh_attempts,
        finished_at=None,
    )


async def cancel(session: AsyncSession, caller: Caller, job_id: int) -> Job:
    """Cancel a job that has not started; a running attempt cannot be recalled."""
    return await _move(
        session,
        caller,
        job_id,
        CANCELLABLE,
        "only scheduled, waiting or held jobs can be cancelled",
        status=JobStatus.CANCELLED.value,
        finished_at=utcnow(),
    )


async def failures(session: AsyncSession, caller: Caller, limit: int = 50) -> list[Job]:
    query = (
        jobs.scoped(caller.org_id)
        .where(Job.status.in_([JobStatus.FAILED.value, JobStatus.DEAD.value, JobStatus.HELD.value]))
        .order_by(Job.updated_at.desc())
        .limit(limit)
    )
    return list(await session.scalars(query))
