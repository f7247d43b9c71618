"""Run one attempt of one job: reconcile if needed, call the handler, record the outcome."""

from __future__ import annotations

import asyncio
import hashlib
from collections.abc import Awaitable, Callable
from dataclasses import dataclass
from functools import partial
from typing import Any, Generic, Literal, TypeVar

import structlog
from sqlalchemy.exc import DBAPIError
from sqlalchemy.exc import TimeoutError as SQLAlchemyTimeoutError
from sqlalchemy.ext.asyncio import AsyncSession, async_sessionmaker

from autopilot.kit.time import utcnow
from autopilot.worker import ledger
from autopilot.worker.ledger import Claimed
from autopilot.worker.metrics import JOB_LATENESS, JOB_OUTCOMES
from autopilot.worker.models import JobStatus
from autopilot.worker.outcomes import JobEndedBadly, OutcomeHook
from autopilot.worker.policy import (
    POLICY,
    AmbiguousOutcome,
    ErrorClass,
    JobError,
    PermanentError,
    classify,
    next_run_at,
)
from autopilot.worker.registry import Batch, JobContext, JobServices, Together, UnknownJobKind, get_kind

log = structlog.get_logger("autopilot.jobs")
START_TRIES, START_BACKOFF_S = 6, 0.25  # about 8 s in all, well inside the lease


def idempotency_key(job_id: int, kind: str) -> str:
    """Stable for the job across attempts and processes."""
    return hashlib.sha256(f"autopilot:{kind}:{job_id}".encode()).hexdigest()[:32]


ENDED: dict[JobStatus, Literal["held", "failed", "dead"]] = {
    JobStatus.HELD: "held",
    JobStatus.FAILED: "failed",
    JobStatus.DEAD: "dead",
}
K = TypeVar("K")
R = TypeVar("R")


class Coalescer(Generic[K, R]):
    """Turns many concurrent single-item writes into one statement per batch: while one batch
    runs, the next one gathers (no added delay), so a busy database does one write per batch.
    *apply* may give an item an exception instead of a result: that item's caller gets it raised."""

    def __init__(
        self, apply: Callable[[list[K]], Awaitable[dict[K, R | BaseException]]], default: R, max_batch: int = 500
    ) -> None:
        self.apply = apply
        self.default = default
        self.max_batch = max_batch
        self.pending: list[tuple[K, asyncio.Future[R]]] = []
        self._task: asyncio.Task[None] | None = None

    async def submit(self, key: K) -> R:
        future: asyncio.Future[R] = asyncio.get_running_loop().create_future()
        self.pending.append((key, future))
        if self._task is None or self._task.done():
            self._task = asyncio.create_task(self._drain())
        return await future

    async def _drain(self) -> None:
        while self.pending:
            batch, self.pending = self.pending[: self.max_batch], self.pending[self.max_batch :]
            try:
                results = await self.apply([key for key, _f in batch])
            except Exception as exc:
                for _key, future in batch:
                    future.set_exception(exc)
            else:
                for key, future in batch:
                    result = results.get(key, self.default)
                    if isinstance(result, BaseException):
                        future.set_exception(result)
                    else:
                        future.set_result(result)


@dataclass(frozen=True, eq=False)  # each one is its own key (identity)
class Write:
    item: Any


@dataclass(frozen=True, eq=False)
class Finish(Write):
    job_id: int
    attempt: int


W = TypeVar("W", bound=Write)


class GroupedWrites(Generic[W]):
    """Items written together, one Coalescer per batch function: one transaction for many. If the
    transaction fails, each item is written alone, so that one bad item fails its own caller only."""

    one_by_one = "a batch of writes failed; making them one by one"

    def __init__(self, sessions: async_sessionmaker[AsyncSession], max_batch: int = 200) -> None:
        self.sessions, self.max_batch = sessions, max_batch
        self.groups: dict[Callable[..., Awaitable[Any]], Coalescer[W, Any]] = {}

    async def _submit(self, batch: Callable[..., Awaitable[Any]], write: W, default: Any) -> Any:
        group = self.groups.get(batch)
        if group is None:
            group = self.groups[batch] = Coalescer(partial(self._apply, batch), default, self.max_batch)
        return await group.submit(write)

    async def _apply(self, batch: Callable[..., Awaitable[Any]], writes: list[W]) -> dict[W, Any]:
        try:
            return await self._together(batch, writes)
        except Exception as exc:
            if len(writes) == 1:
                return {writes[0]: exc}
            log.warning(self.one_by_one, items=len(writes), error=str(exc)[:300])
        alone: dict[W, Any] = {}
        for write in writes:
            try:
                alone.update(await self._together(batch, [write]))
            except Exception as exc:
                alone[write] = exc
        return alone

    async def _together(self, batch: Callable[..., Awaitable[Any]], writes: list[W]) -> dict[W, Any]:
        raise NotImplementedError


class Finishes(GroupedWrites[Finish]):
    """Successes that carry the jobs' own writes (JobContext.finish_with): one transaction marks
    many attempts succeeded and makes the writes of those that still own their jobs (group commit)."""

    one_by_one = "a batch of job successes failed; recording them one by one"

    async def submit(self, batch: Batch[Any], job_id: int, attempt: int, item: Any) -> bool:
        return bool(await self._submit(batch, Finish(item, job_id, attempt), False))

    async def _together(self, batch: Callable[..., Awaitable[Any]], writes: list[Finish]) -> dict[Finish, Any]:
        async with self.sessions() as session, session.begin():
            owned = await ledger.succeed_many(session, [(f.job_id, f.attempt) for f in writes])
            items = [f.item for f in writes if f.job_id in owned]
            if items:
                await batch(session, items)
        return {f: f.job_id in owned for f in writes}


class Writes(GroupedWrites[Write]):
    """Writes, or reads, that running jobs make together (JobContext.write_together and
    read_together, with the readers' sessions); each gets its result."""

    async def submit(self, batch: Together[Any, Any], item: Any) -> Any:
        return await self._submit(batch, Write(item), None)

    async def _together(self, batch: Callable[..., Awaitable[Any]], writes: list[Write]) -> dict[Write, Any]:
        async with self.sessions() as session, session.begin():
            results = await batch(session, [w.item for w in writes])
        return dict(zip(writes, results, strict=True))


class JobRunner:
    """Executes claimed jobs; shared by the in-process executor and the Celery task."""

    def __init__(
        self,
        sessions: async_sessionmaker[AsyncSession],
        *,
        owner: str,
        services: JobServices,
        outcomes: OutcomeHook | None = None,
    ) -> None:
        self.sessions = sessions
        self.owner = owner
        self.lease_s = services.settings.lease_s
        self.services = services
        self.outcomes = outcomes or OutcomeHook()
        self.done = 0
        self.successes: Coalescer[tuple[int, int], bool] = Coalescer(self._succeed_many, False)
        self.starts: Coalescer[int, Claimed | None] = Coalescer(self._start_many, None)
        self.finishes = Finishes(sessions)
        self.writes = Writes(sessions)
        self.reads = Writes(services.readers or sessions)  # begun and ended like a write: nothing to commit

    async def _succeed_many(self, attempts: list[tuple[int, int]]) -> dict[tuple[int, int], bool | BaseException]:
        async with self.sessions() as session, session.begin():
            owned = await ledger.succeed_many(session, attempts)
        return {pair: pair[0] in owned for pair in attempts}

    async def _start_many(self, job_ids: list[int]) -> dict[int, Claimed | BaseException | None]:
        async with self.sessions() as session, session.begin():
            started = await ledger.start_many(session, job_ids, owner=self.owner, lease_s=self.lease_s)
        return {job.id: job for job in started}

    async def run_delivered(self, job_id: int) -> str:
        """A broker delivered *job_id*: start it if it is still ours to run, then run it. A start
        the database refused (no connection free, a failover) is tried again a few times: given up,
        the job would wait, claimed and unstarted, for its lease to expire (two minutes late)."""
        for attempt in range(START_TRIES):
            try:
                claimed = await self.starts.submit(job_id)
                break
            except (DBAPIError, SQLAlchemyTimeoutError, OSError) as exc:
                if attempt == START_TRIES - 1:
                    raise
                log.warning("starting a delivered job failed; trying again", job_id=job_id, error=str(exc)[:200])
                await asyncio.sleep(START_BACKOFF_S * 2**attempt)
        if claimed is None:
            return "skipped"  # a duplicate or late delivery: another runner owns (or owned) it
        return await self.run(claimed)

    async def run(self, job: Claimed) -> str:
        """Run an attempt this runner owns; returns the job's new status."""
        JOB_LATENESS.labels(job.kind).observe(max(0.0, (utcnow() - job.run_at).total_seconds()))
        bound = log.bind(job_id=job.id, kind=job.kind, attempt=job.attempt)
        try:
            outcome = await self._attempt(job)
        except Exception as exc:
            error = classify(exc, utcnow())
            outcome = await self._failed(job, error)
            bound.warning("job failed", error_class=error.error_class.value, outcome=outcome, error=str(error))
        else:
            bound.debug("job finished", outcome=outcome)
        self.done += 1
        return outcome

    async def _attempt(self, job: Claimed) -> str:
        try:
            spec = get_kind(job.kind)
            payload = spec.payload.model_validate(job.payload)
        except (UnknownJobKind, ValueError) as exc:
            raise PermanentError(str(exc)) from exc
        ctx = JobContext(
            job_id=job.id,
            org_id=job.org_id,
            kind=job.kind,
            attempt=job.attempt,
            idempotency_key=idempotency_key(job.id, job.kind),
            sessions=self.sessions,
            services=self.services,
            groups=self.writes,
            read_groups=self.reads,
        )
        try:
            known = {c.value for c in ErrorClass}
            previous = ErrorClass(job.error_class) if job.error_class in known else None
            already_done = False
            if previous is not None and POLICY[previous].reconcile_first and spec.reconciler is not None:
                already_done = await spec.reconciler(ctx, payload)
            if not already_done:
                await spec.handler(ctx, payload)
            owned = await self._record_success(ctx, job)
        finally:
            if ctx.opened_session is not None:
                await ctx.opened_session.close()
        outcome = JobStatus.SUCCEEDED.value if owned else "fenced"  # fenced: the lease was lost
        JOB_OUTCOMES.labels(job.kind, outcome, "").inc()
        return outcome

    async def _record_success(self, ctx: JobContext, job: Claimed) -> bool:
        """Write the success. If that write fails, the effect may have happened while the ledger
        does not know it: the next attempt must reconcile first, like any ambiguous outcome."""
        try:
            session = ctx.opened_session
            if ctx.finish is not None:
                if session is not None and session.in_transaction():
                    raise RuntimeError("a job writes either in ctx.session or through finish_with, not both")
                batch, item = ctx.finish
                return await self.finishes.submit(batch, job.id, job.attempt, item)
            if session is not None and session.in_transaction():
                # The handler wrote: its changes and the success commit together, or not at all.
                owned = await ledger.succeed(session, job.id, job.attempt)
                await (session.commit() if owned else session.rollback())
                return owned
            return await self.successes.submit((job.id, job.attempt))
        except Exception as exc:
            raise AmbiguousOutcome(
                f"the work was done but recording its success failed ({type(exc).__name__}); "
                "the next attempt checks whether it took effect"
            ) from exc

    async def _failed(self, job: Claimed, error: JobError) -> str:
        rule = POLICY[error.error_class]
        now = utcnow()
        message = str(error)[:2000]
        cls = error.error_class.value
        async with self.sessions() as session, session.begin():
            out_of_attempts = rule.charge_attempt and job.attempt >= job.max_attempts
            if rule.outcome == "hold":
                status = JobStatus.HELD
                owned = await ledger.hold(session, job.id, job.attempt, error=message, error_class=cls)
            elif rule.outcome == "fail" or out_of_attempts:
                status = JobStatus.FAILED if rule.outcome == "fail" else JobStatus.DEAD
                owned = await ledger.finish_badly(
                    session, job.id, job.attempt, status=status, error=message, error_class=cls
                )
            else:
                status = JobStatus.RETRY_WAIT
                owned = await ledger.retry_later(
                    session,
                    job.id,
                    job.attempt,
                    run_at=next_run_at(error, job.attempt, now),
                    error=message,
                    error_class=cls,
                    charge=rule.charge_attempt,
                )
            if owned and job.org_id is not None and status is not JobStatus.RETRY_WAIT:
                await self.outcomes.emit(
                    session,
                    JobEndedBadly(job.id, job.org_id, job.kind, job.attempt, ENDED[status], message),
                )
        JOB_OUTCOMES.labels(job.kind, status.value if owned else "fenced", cls).inc()
        return status.value if owned else "fenced"
