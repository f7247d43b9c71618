"""Every query on the jobs ledger. State changes are guarded updates fenced by attempt."""

from __future__ import annotations

import uuid
from collections.abc import Callable, Sequence
from dataclasses import dataclass
from datetime import datetime, timedelta
from typing import Any, cast

from sqlalchemy import Table, and_, case, delete, event, func, select, text, tuple_, update
from sqlalchemy.ext.asyncio import AsyncSession

from autopilot.kit.db import upsert_insert
from autopilot.kit.errors import Unprocessable
from autopilot.kit.time import utcnow
from autopilot.worker.models import DUE_PREDICATE, PURGEABLE_PREDICATE, Heartbeat, Job, JobStatus
from autopilot.worker.registry import UnknownJobKind, get_kind

# Called after a commit that enqueued work due now, so a dispatcher in this process starts it at once.
_wake_hooks: list[Callable[[], None]] = []


def on_due_work(hook: Callable[[], None]) -> Callable[[], None]:
    _wake_hooks.append(hook)
    return lambda: _wake_hooks.remove(hook)


def _wake(_session: Any) -> None:
    for hook in list(_wake_hooks):
        hook()


# Core statements on the table: the ORM's bulk-update bookkeeping costs more than the SQL here.
JOBS = cast(Table, Job.__table__)


@dataclass(frozen=True)
class NewJob:
    """A job to add (see `enqueue`)."""

    kind: str
    payload: dict[str, Any]
    org_id: uuid.UUID | None
    run_at: datetime | None = None
    dedupe_key: str | None = None
    priority: int = 0
    max_attempts: int | None = None


def _row(new: NewJob, now: datetime) -> dict[str, Any]:
    try:
        spec = get_kind(new.kind)
    except UnknownJobKind as exc:
        raise Unprocessable(str(exc)) from exc
    due = new.run_at or now
    return dict(
        org_id=new.org_id,
        kind=new.kind,
        payload=spec.payload.model_validate(new.payload).model_dump(mode="json"),
        due_at=due,
        run_at=due,
        priority=new.priority,
        status=JobStatus.SCHEDULED.value,
        attempt=0,
        max_attempts=new.max_attempts or spec.max_attempts,
        dedupe_key=new.dedupe_key,
        created_at=now,
        updated_at=now,
    )


def _wake_after_commit(session: AsyncSession) -> None:
    if not event.contains(session.sync_session, "after_commit", _wake):
        event.listen(session.sync_session, "after_commit", _wake, once=True)


async def enqueue(
    session: AsyncSession,
    *,
    kind: str,
    payload: dict[str, Any],
    org_id: uuid.UUID | None,
    run_at: datetime | None = None,
    dedupe_key: str | None = None,
    priority: int = 0,
    max_attempts: int | None = None,
) -> int:
    """Add a job in the caller's transaction (outbox): it exists exactly when the caller commits.
    With a dedupe_key, a second enqueue of the same (org, kind, key) returns the first job's id."""
    now = utcnow()
    values = _row(NewJob(kind, payload, org_id, run_at, dedupe_key, priority, max_attempts), now)
    insert = upsert_insert(session, JOBS)
    stmt = insert.values(**values).on_conflict_do_nothing().returning(Job.id)
    job_id: int | None = await session.scalar(stmt)
    if job_id is None:  # deduplicated
        existing = await session.scalar(
            select(Job.id).where(Job.org_id == org_id, Job.kind == kind, Job.dedupe_key == dedupe_key)
        )
        assert existing is not None
        return existing
    if values["run_at"] <= now:
        _wake_after_commit(session)
    return job_id


async def enqueue_many(session: AsyncSession, jobs: Sequence[NewJob]) -> None:
    """`enqueue` for many jobs in one statement (one round trip inside the caller's transaction);
    a job whose (org, kind, dedupe key) exists already is skipped."""
    if not jobs:
        return
    now = utcnow()
    rows = [_row(new, now) for new in jobs]
    await session.execute(upsert_insert(session, JOBS).values(rows).on_conflict_do_nothing())
    if any(row["run_at"] <= now for row in rows):
        _wake_after_commit(session)


@dataclass(frozen=True)
class Claimed:
    """A job this process now owns for one attempt, with what is needed to run it."""

    id: int
    attempt: int
    priority: int
    kind: str
    payload: dict[str, Any]
    org_id: uuid.UUID | None
    run_at: datetime
    error_class: str | None
    max_attempts: int


_CLAIMED_COLUMNS = (
    Job.id,
    Job.attempt,
    Job.priority,
    Job.kind,
    Job.payload,
    Job.org_id,
    Job.run_at,
    Job.error_class,
    Job.max_attempts,
)


async def claim_due(
    session: AsyncSession, *, owner: str, limit: int, lease_s: float, start: bool, now: datetime | None = None
) -> list[Claimed]:
    """Claim up to *limit* due jobs for *owner*, oldest first, bumping each attempt (the fence).
    PostgreSQL skips rows other dispatchers hold (SKIP LOCKED); SQLite has one writer, and the
    outer status check keeps the update conditional. With *start*, the claim also marks the run
    as started (the in-process executor starts what it claims at once)."""
    if limit <= 0:
        return []
    now = now or utcnow()
    due = (
        select(Job.id)
        .where(text(DUE_PREDICATE), Job.run_at <= now)
        .order_by(Job.run_at)
        .limit(limit)
        .with_for_update(skip_locked=True)
        .scalar_subquery()
    )
    stmt = (
        update(JOBS)
        .where(Job.id.in_(due), text(DUE_PREDICATE))
        .values(
            status=JobStatus.CLAIMED.value,
            attempt=Job.attempt + 1,
            claimed_by=owner,
            lease_until=now + timedelta(seconds=lease_s),
            started_at=now if start else None,
            updated_at=now,
        )
        .returning(*_CLAIMED_COLUMNS)
        .execution_options(synchronize_session=False)
    )
    rows = (await session.execute(stmt)).all()
    return sorted((Claimed(*row) for row in rows), key=lambda c: (-c.priority, c.run_at, c.id))


async def start_many(session: AsyncSession, job_ids: Sequence[int], *, owner: str, lease_s: float) -> list[Claimed]:
    """Start many delivered jobs in one statement: each attempt is started by exactly one runner,
    and ids that are no longer claimed-and-unstarted (late or duplicate deliveries) are left out."""
    now = utcnow()
    stmt = (
        update(JOBS)
        .where(Job.id.in_(list(job_ids)), Job.status == JobStatus.CLAIMED.value, Job.started_at.is_(None))
        .values(started_at=now, claimed_by=owner, lease_until=now + timedelta(seconds=lease_s), updated_at=now)
        .returning(*_CLAIMED_COLUMNS)
    )
    return [Claimed(*row) for row in (await session.execute(stmt)).all()]


def _fenced(job_id: int, attempt: int) -> Any:
    return and_(Job.id == job_id, Job.status == JobStatus.CLAIMED.value, Job.attempt == attempt)


async def _guarded(session: AsyncSession, job_id: int, attempt: int, **values: Any) -> bool:
    now = utcnow()
    stmt = (
        update(JOBS)
        .where(_fenced(job_id, attempt))
        .values(updated_at=now, lease_until=None, **values)
        .execution_options(synchronize_session=False)
    )
    result: Any = await session.execute(stmt)
    return bool(result.rowcount == 1)


async def succeed(session: AsyncSession, job_id: int, attempt: int) -> bool:
    """Mark the attempt succeeded; False when this runner no longer owns it."""
    return await _guarded(
        session,
        job_id,
        attempt,
        status=JobStatus.SUCCEEDED.value,
        finished_at=utcnow(),
        last_error=None,
        error_class=None,
    )


async def succeed_many(session: AsyncSession, attempts: Sequence[tuple[int, int]]) -> set[int]:
    """Mark many (job id, attempt) pairs succeeded in one statement; returns the ids still owned."""
    now = utcnow()
    stmt = (
        update(JOBS)
        .where(
            Job.id.in_(
                [job_id for job_id, _attempt in attempts]
            ),  # by the key: SQLite plans no index for a row-value IN
            tuple_(Job.id, Job.attempt).in_(list(attempts)),
            Job.status == JobStatus.CLAIMED.value,
        )
        .values(
            status=JobStatus.SUCCEEDED.value,
            finished_at=now,
            updated_at=now,
            lease_until=None,
            last_error=None,
            error_class=None,
        )
        .returning(Job.id)
        .execution_options(synchronize_session=False)
    )
    return set((await session.scalars(stmt)).all())


async def retry_later(
    session: AsyncSession, job_id: int, attempt: int, *, run_at: datetime, error: str, error_class: str, charge: bool
) -> bool:
    extra: dict[str, Any] = {} if charge else {"max_attempts": Job.max_attempts + 1}  # an uncharged attempt
    return await _guarded(
        session,
        job_id,
        attempt,
        status=JobStatus.RETRY_WAIT.value,
        run_at=run_at,
        last_error=error,
        error_class=error_class,
        started_at=None,
        claimed_by=None,
        **extra,
    )


async def hold(session: AsyncSession, job_id: int, attempt: int, *, error: str, error_class: str) -> bool:
    return await _guarded(
        session,
        job_id,
        attempt,
        status=JobStatus.HELD.value,
        last_error=error,
        error_class=error_class,
        started_at=None,
        claimed_by=None,
        max_attempts=Job.max_attempts + 1,
    )


async def finish_badly(
    session: AsyncSession, job_id: int, attempt: int, *, status: JobStatus, error: str, error_class: str
) -> bool:
    return await _guarded(
        session, job_id, attempt, status=status.value, last_error=error, error_class=error_class, finished_at=utcnow()
    )


async def release(session: AsyncSession, claimed: Sequence[Claimed]) -> None:
    """Give back claims that could not be handed to an executor (e.g. the broker is down);
    the attempt was never run, so it is not charged."""
    for c in claimed:
        await session.execute(
            update(JOBS)
            .where(_fenced(c.id, c.attempt), Job.started_at.is_(None))
            .values(
                status=JobStatus.SCHEDULED.value,
                lease_until=None,
                claimed_by=None,
                max_attempts=Job.max_attempts + 1,
                updated_at=utcnow(),
            )
            .execution_options(synchronize_session=False)
        )


@dataclass(frozen=True)
class Reaped:
    id: int
    org_id: uuid.UUID | None
    status: str
    kind: str
    attempt: int


async def reap_expired(session: AsyncSession, *, now: datetime | None = None, limit: int = 1000) -> list[Reaped]:
    """Return expired leases to the schedule. A claim that never started costs no attempt; one that
    started may have had its effect, so it is marked for reconciliation (or dead when out of attempts)."""
    now = now or utcnow()
    expired = (
        select(Job.id)
        .where(text("status = 'claimed'"), Job.lease_until < now)
        .limit(limit)
        .with_for_update(skip_locked=True)
        .scalar_subquery()
    )
    never_started = Job.started_at.is_(None)
    out_of_attempts = Job.attempt >= Job.max_attempts
    new_status = case(
        (never_started, JobStatus.SCHEDULED.value),
        (out_of_attempts, JobStatus.DEAD.value),
        else_=JobStatus.RETRY_WAIT.value,
    )
    stmt = (
        update(JOBS)
        .where(Job.id.in_(expired), Job.status == JobStatus.CLAIMED.value, Job.lease_until < now)
        .values(
            status=new_status,
            max_attempts=case((never_started, Job.max_attempts + 1), else_=Job.max_attempts),
            error_class=case((never_started, Job.error_class), else_="lease_expired"),
            last_error=case(
                (never_started, Job.last_error),
                else_="the runner stopped answering mid-run (lease expired); outcome unknown",
            ),
            finished_at=case((out_of_attempts & ~never_started, now), else_=None),
            run_at=now,
            lease_until=None,
            claimed_by=None,
            started_at=None,
            updated_at=now,
        )
        .returning(Job.id, Job.org_id, Job.status, Job.kind, Job.attempt)
        .execution_options(synchronize_session=False)
    )
    return [Reaped(*row) for row in (await session.execute(stmt)).all()]


async def count_claimed(session: AsyncSession) -> int:
    return int(await session.scalar(select(func.count()).select_from(Job).where(text("status = 'claimed'"))) or 0)


async def beat(session: AsyncSession, *, name: str, role: str, mode: str, started_at: datetime, jobs_done: int) -> None:
    """Record that a dispatcher or executor is alive."""
    now = utcnow()
    values = dict(name=name, role=role, mode=mode, started_at=started_at, seen_at=now, jobs_done=jobs_done)
    insert = upsert_insert(session, Heartbeat)
    stmt = insert.values(**values).on_conflict_do_update(
        index_elements=[Heartbeat.name], set_={"seen_at": now, "jobs_done": jobs_done, "started_at": started_at}
    )
    await session.execute(stmt)


async def forget_heartbeat(session: AsyncSession, name: str) -> None:
    await session.execute(delete(Heartbeat).where(Heartbeat.name == name))


async def purge_finished(session: AsyncSession, *, before: datetime, limit: int = 10_000) -> int:
    """Delete up to *limit* succeeded or cancelled jobs that finished before *before*; failed and
    dead jobs stay for the failures page. Returns how many were deleted."""
    old = select(Job.id).where(text(PURGEABLE_PREDICATE), Job.finished_at < before).limit(limit).scalar_subquery()
    result: Any = await session.execute(delete(JOBS).where(Job.id.in_(old)))
    return int(result.rowcount or 0)


async def prune_heartbeats(session: AsyncSession, *, before: datetime) -> None:
    """Forget processes not seen since *before* (each restart has a new name)."""
    await session.execute(delete(Heartbeat).where(Heartbeat.seen_at < before))


async def release_held(session: AsyncSession, *, org_id: uuid.UUID, error_class: str) -> int:
    """Run again now the organization's jobs held for *error_class* (e.g. "auth" once a person
    reconnected an account); returns how many. Holding never charged an attempt."""
    now = utcnow()
    result = await session.execute(
        update(Job)
        .where(Job.org_id == org_id, Job.status == JobStatus.HELD.value, Job.error_class == error_class)
        .values(status=JobStatus.SCHEDULED.value, run_at=now, updated_at=now)
        .execution_options(synchronize_session=False)
    )
    if result.rowcount and not event.contains(session.sync_session, "after_commit", _wake):  # type: ignore[attr-defined]
        event.listen(session.sync_session, "after_commit", _wake, once=True)
    return int(result.rowcount or 0)  # type: ignore[attr-defined]


async def cancel_waiting(session: AsyncSession, job_id: int) -> bool:
    """Cancel a job that is not running (scheduled, waiting to retry or held); False if it is running
    or finished. A running attempt cannot be recalled."""
    now = utcnow()
    waiting = (JobStatus.SCHEDULED.value, JobStatus.RETRY_WAIT.value, JobStatus.HELD.value)
    result = await session.execute(
        update(Job)
        .where(Job.id == job_id, Job.status.in_(waiting))
        .values(status=JobStatus.CANCELLED.value, finished_at=now, updated_at=now)
        .execution_options(synchronize_session=False)
    )
    return bool(result.rowcount)  # type: ignore[attr-defined]
