"""Dispatcher loop, executors (in-process asyncio pool, or Celery), reaper and heartbeats."""

from __future__ import annotations

import asyncio
import contextlib
import os
import socket
import sys
import threading
import uuid
from collections.abc import Sequence
from dataclasses import dataclass, field
from datetime import timedelta
from typing import Protocol

import structlog
from sqlalchemy.ext.asyncio import AsyncSession, async_sessionmaker

from autopilot.config import Settings
from autopilot.kit.crypto import KeyRing
from autopilot.kit.db import make_engine, make_reader_engine, make_sessionmaker
from autopilot.kit.heap import freeze_startup_objects
from autopilot.kit.http import ClientPool
from autopilot.kit.time import utcnow
from autopilot.worker import ledger
from autopilot.worker.health import late_organizations
from autopilot.worker.ledger import Claimed
from autopilot.worker.models import JobStatus
from autopilot.worker.outcomes import JobEndedBadly, OutcomeHook, WorkRunningLate
from autopilot.worker.registry import JobServices, load_handlers
from autopilot.worker.runner import JobRunner

log = structlog.get_logger("autopilot.jobs")
LATENESS_CHECK_S = 60.0
LATENESS_ALERT_P99_S = 60.0
BUSY_POLL_S = 0.05
HOUSEKEEPING_S = 3600.0
HEARTBEAT_MEMORY = timedelta(days=1)


def process_name(role: str) -> str:
    return f"{role}:{socket.gethostname()}:{os.getpid()}:{uuid.uuid4().hex[:6]}"


@dataclass(frozen=True)
class EngineWiring:
    """What the composition root hands the engine: the modules that register job kinds, the
    listeners of outcomes, and the services handlers use. The engine imports no domain itself."""

    job_modules: Sequence[str] = ()
    outcomes: OutcomeHook = field(default_factory=OutcomeHook)

    def load_handlers(self) -> None:
        load_handlers(self.job_modules)


class Executor(Protocol):
    mode: str
    starts_on_claim: bool  # the claim itself starts the run (no separate start step)

    def capacity(self) -> int: ...

    async def submit(self, claimed: Sequence[Claimed]) -> None: ...

    async def stop(self) -> None: ...


class InProcessExecutor:
    """Runs jobs as asyncio tasks in this process, at most *concurrency* at once."""

    mode = "in-process"
    starts_on_claim = True

    def __init__(self, runner: JobRunner, concurrency: int, on_free: asyncio.Event) -> None:
        self.runner = runner
        self.concurrency = concurrency
        self.running: set[asyncio.Task[str]] = set()
        self.on_free = on_free
        # Wake the dispatcher when a tenth of the slots are free, not on every finish: claims then
        # come in batches (one write each) instead of one job per transaction.
        self.refill_at = max(1, concurrency // 10)

    def capacity(self) -> int:
        return self.concurrency - len(self.running)

    async def submit(self, claimed: Sequence[Claimed]) -> None:
        for job in claimed:
            task = asyncio.create_task(self.runner.run(job), name=f"job-{job.id}")
            self.running.add(task)
            task.add_done_callback(self._finished)

    def _finished(self, task: asyncio.Task[str]) -> None:
        self.running.discard(task)
        if self.capacity() >= self.refill_at:
            self.on_free.set()

    async def stop(self) -> None:
        # Let running attempts finish briefly; anything cut off is recovered by lease expiry.
        if self.running:
            await asyncio.wait(self.running, timeout=10)


class CeleryExecutor:
    """Hands claimed job ids to Celery workers; never more than *max_inflight* claimed at once."""

    mode = "celery"
    starts_on_claim = False

    def __init__(self, sessions: async_sessionmaker[AsyncSession], max_inflight: int, most_per_message: int) -> None:
        from autopilot.worker.celery_app import send_jobs

        self.sessions = sessions
        self.max_inflight = max_inflight
        self.most_per_message = most_per_message
        self._send = send_jobs
        self._inflight_estimate = 0

    def capacity(self) -> int:
        return self.max_inflight - self._inflight_estimate

    async def refresh(self) -> None:
        async with self.sessions() as session:
            self._inflight_estimate = await ledger.count_claimed(session)

    async def submit(self, claimed: Sequence[Claimed]) -> None:
        ids = [c.id for c in claimed]
        try:
            await asyncio.to_thread(self._send, ids, self.most_per_message)
        except Exception as exc:
            # The broker is unreachable: give the claims back now rather than wait for the reaper.
            log.warning("broker send failed; claims released", error=type(exc).__name__, jobs=len(ids))
            async with self.sessions() as session, session.begin():
                await ledger.release(session, claimed)
            raise
        self._inflight_estimate += len(ids)

    async def stop(self) -> None:
        return None


class Dispatcher:
    """Claims due jobs and hands them to the executor; reaps expired leases; beats."""

    def __init__(
        self,
        settings: Settings,
        sessions: async_sessionmaker[AsyncSession],
        executor: Executor,
        wake: asyncio.Event,
        name: str | None = None,
        outcomes: OutcomeHook | None = None,
    ) -> None:
        self.settings = settings
        self.outcomes = outcomes or OutcomeHook()
        self.sessions = sessions
        self.executor = executor
        self.wake = wake
        self.name = name or process_name("dispatcher")
        self.started_at = utcnow()
        self.claimed_total = 0
        self._stopping = asyncio.Event()

    async def run(self) -> None:
        loop = asyncio.get_running_loop()
        next_reap = next_beat = next_lateness = next_housekeeping = loop.time()
        failures = 0
        while not self._stopping.is_set():
            # Cleared before the tick, so a wake-up that arrives during it is not lost.
            self.wake.clear()
            now = loop.time()
            try:
                if now >= next_beat:
                    await self._beat()
                    next_beat = now + self.settings.heartbeat_interval_s
                if now >= next_reap:
                    await self._reap()
                    next_reap = now + self.settings.reaper_interval_s
                if now >= next_lateness:
                    await self._check_lateness()
                    next_lateness = now + LATENESS_CHECK_S
                if now >= next_housekeeping:
                    await self.housekeeping()
                    next_housekeeping = now + HOUSEKEEPING_S
                claimed = await self.tick()
                failures = 0
            except Exception as exc:
                failures += 1
                log.warning("dispatch tick failed", error=type(exc).__name__, detail=str(exc)[:300])
                claimed = 0
                await asyncio.sleep(min(5.0, 0.2 * 2 ** min(failures, 5)))
            if claimed and self.executor.capacity() > 0:
                continue  # more may be due right now
            # Full: look again soon, as slots free up (Celery workers cannot wake us); idle: poll.
            busy = self.executor.capacity() <= 0
            timeout = min(BUSY_POLL_S, self.settings.dispatch_interval_s) if busy else self.settings.dispatch_interval_s
            with contextlib.suppress(TimeoutError):
                await asyncio.wait_for(self.wake.wait(), timeout=timeout)

    async def tick(self) -> int:
        """One dispatch: claim as many due jobs as the executor can take, and hand them over."""
        if isinstance(self.executor, CeleryExecutor):
            await self.executor.refresh()
        room = min(self.settings.dispatch_batch, self.executor.capacity())
        if room <= 0:
            return 0
        async with self.sessions() as session, session.begin():
            claimed = await ledger.claim_due(
                session, owner=self.name, limit=room, lease_s=self.settings.lease_s, start=self.executor.starts_on_claim
            )
        if claimed:
            await self.executor.submit(claimed)
            self.claimed_total += len(claimed)
        return len(claimed)

    async def _reap(self) -> None:
        async with self.sessions() as session, session.begin():
            reaped = await ledger.reap_expired(session)
            for job in reaped:
                if job.status == JobStatus.DEAD.value and job.org_id is not None:
                    reason = "its runner stopped mid-run and it has no attempts left"
                    await self.outcomes.emit(
                        session, JobEndedBadly(job.id, job.org_id, job.kind, job.attempt, "dead", reason)
                    )
        if reaped:
            log.info("expired leases reaped", jobs=len(reaped))

    async def housekeeping(self) -> int:
        """Delete finished work past its retention and forget long-gone processes."""
        now = utcnow()
        async with self.sessions() as session, session.begin():
            purged = await ledger.purge_finished(session, before=now - timedelta(days=self.settings.job_retention_days))
            await ledger.prune_heartbeats(session, before=now - HEARTBEAT_MEMORY)
        if purged:
            log.info("finished jobs purged", jobs=purged)
        return purged

    async def _beat(self) -> None:
        async with self.sessions() as session, session.begin():
            await ledger.beat(
                session,
                name=self.name,
                role="dispatcher",
                mode=self.executor.mode,
                started_at=self.started_at,
                jobs_done=self.claimed_total,
            )

    async def _check_lateness(self) -> None:
        async with self.sessions() as session, session.begin():
            for org_id, p99 in await late_organizations(session, threshold_s=LATENESS_ALERT_P99_S):
                await self.outcomes.emit(session, WorkRunningLate(org_id, p99))

    def stop(self) -> None:
        self._stopping.set()
        self.wake.set()


class ExecutorHeartbeat:
    """Writes the executor's heartbeat so /readyz knows work can run."""

    def __init__(
        self,
        sessions: async_sessionmaker[AsyncSession],
        runner: JobRunner,
        mode: str,
        interval_s: float,
        name: str | None = None,
    ) -> None:
        self.sessions, self.runner, self.mode, self.interval_s = sessions, runner, mode, interval_s
        self.name = name or process_name("executor")
        self.started_at = utcnow()

    async def run(self) -> None:
        while True:
            try:
                async with self.sessions() as session, session.begin():
                    await ledger.beat(
                        session,
                        name=self.name,
                        role="executor",
                        mode=self.mode,
                        started_at=self.started_at,
                        jobs_done=self.runner.done,
                    )
            except Exception as exc:
                log.warning("heartbeat failed", error=type(exc).__name__)
            await asyncio.sleep(self.interval_s)

    async def forget(self) -> None:
        async with self.sessions() as session, session.begin():
            await ledger.forget_heartbeat(session, self.name)


class JobEngine:
    """The engine as run inside `autopilot serve`: a dispatcher plus the in-process executor
    (or, with a Celery broker configured, a dispatcher that feeds the Celery workers)."""

    def __init__(
        self,
        settings: Settings,
        sessions: async_sessionmaker[AsyncSession],
        wiring: EngineWiring | None = None,
        services: JobServices | None = None,
    ) -> None:
        wiring = wiring or EngineWiring()
        wiring.load_handlers()
        self.settings = settings
        self.wake = asyncio.Event()
        self.tasks: list[asyncio.Task[None]] = []
        name = process_name("executor")
        services = services or JobServices.for_settings(settings)
        self.runner = JobRunner(sessions, owner=name, services=services, outcomes=wiring.outcomes)
        self.executor: Executor
        self.heartbeat: ExecutorHeartbeat | None = None
        if settings.celery_broker_url:
            self.executor = CeleryExecutor(sessions, settings.celery_max_inflight, settings.celery_ids_per_message)
        else:
            self.executor = InProcessExecutor(self.runner, settings.executor_concurrency, self.wake)
            self.heartbeat = ExecutorHeartbeat(
                sessions, self.runner, "in-process", settings.heartbeat_interval_s, name=name
            )
        self.dispatcher = Dispatcher(settings, sessions, self.executor, self.wake, outcomes=wiring.outcomes)
        self._unhook = ledger.on_due_work(self._wake_threadsafe)
        self._loop = asyncio.get_running_loop()

    def _wake_threadsafe(self) -> None:
        self._loop.call_soon_threadsafe(self.wake.set)

    def start(self) -> JobEngine:
        self.tasks.append(asyncio.create_task(self.dispatcher.run(), name="dispatcher"))
        if self.heartbeat:
            self.tasks.append(asyncio.create_task(self.heartbeat.run(), name="executor-heartbeat"))
        return self

    async def stop(self) -> None:
        self._unhook()
        self.dispatcher.stop()
        for task in self.tasks:
            if task.get_name() != "dispatcher":
                task.cancel()
        await asyncio.gather(*self.tasks, return_exceptions=True)
        await self.executor.stop()
        if self.heartbeat:
            await self.heartbeat.forget()


SWITCH_INTERVAL_S = 0.001


class EngineThread:
    """The in-process engine of `autopilot serve` on a thread and event loop of its own, with its own
    database engines and HTTP pool (a loop owns them). On one loop, a rush of jobs queued every web
    request behind the jobs' Python work (a 1,000-row schedule listing went from 30 ms to a p99 of
    almost a second at 300 posts in a minute), and the web's work delayed every statement a write
    transaction waited for. On two loops they share only the process and its GIL. A crash of the
    process takes both down together, as before."""

    def __init__(self, settings: Settings, wiring: EngineWiring) -> None:
        self.settings, self.wiring = settings, wiring
        self.thread = threading.Thread(target=self._main, name="job-engine", daemon=True)
        self._started = threading.Event()
        self._loop: asyncio.AbstractEventLoop | None = None
        self._stopping: asyncio.Event | None = None
        self._failure: BaseException | None = None

    async def start(self) -> EngineThread:
        # Two busy threads now share the GIL: hand it over every 1 ms instead of every 5 ms, so that a
        # web request's next step does not wait up to 5 ms at each of its database round trips.
        # Measured (bench.slot_rush, 300 posts): the probe's rush p99 250 -> 141 ms, lateness p99 8.0 -> 6.5 s.
        sys.setswitchinterval(SWITCH_INTERVAL_S)
        self.thread.start()
        await asyncio.to_thread(self._started.wait)
        if self._failure is not None:
            raise RuntimeError("the job engine did not start") from self._failure
        return self

    async def stop(self) -> None:
        if self._loop is not None and self._stopping is not None and self.thread.is_alive():
            self._loop.call_soon_threadsafe(self._stopping.set)
        await asyncio.to_thread(self.thread.join, 60)

    def _main(self) -> None:
        try:
            asyncio.run(self._run())
        except BaseException as exc:  # a failure to start is raised by start(); later ones are logged
            if not self._started.is_set():
                self._failure = exc
            else:
                log.error("the job engine stopped", exc_info=exc)
        finally:
            self._started.set()

    async def _run(self) -> None:
        settings = self.settings
        busy_ms = settings.sqlite_busy_timeout_ms
        engine = make_engine(settings.sqlalchemy_url, connections=settings.db_connections, busy_timeout_ms=busy_ms)
        reader_engine = make_reader_engine(settings.sqlalchemy_url, busy_timeout_ms=busy_ms)
        sessions = make_sessionmaker(engine)
        services = JobServices(
            settings=settings,
            http=ClientPool(),
            keyring=KeyRing(settings.encryption_keys),
            readers=make_sessionmaker(reader_engine) if reader_engine else None,
        )
        self._loop, self._stopping = asyncio.get_running_loop(), asyncio.Event()
        try:
            job_engine = JobEngine(settings, sessions, self.wiring, services).start()
            self._started.set()
            try:
                await self._stopping.wait()
            finally:
                await job_engine.stop()
        finally:
            await services.http.aclose()
            if reader_engine is not None:
                await reader_engine.dispose()
            await engine.dispose()


async def run_standalone_dispatcher(settings: Settings, wiring: EngineWiring) -> None:
    """`autopilot dispatcher`: claim and hand over to Celery until stopped."""
    from autopilot.kit.logging import configure_logging

    configure_logging(settings.log_level, json=settings.log_json)
    if not settings.celery_broker_url:
        raise SystemExit(
            "autopilot dispatcher feeds Celery workers: set AUTOPILOT_CELERY_BROKER_URL "
            "(without it, `autopilot serve` runs jobs in-process)"
        )
    engine = make_engine(settings.sqlalchemy_url, connections=settings.db_connections)
    job_engine = JobEngine(settings, make_sessionmaker(engine), wiring).start()
    log.info("dispatcher started", name=job_engine.dispatcher.name)
    freeze_startup_objects()
    try:
        await asyncio.gather(*job_engine.tasks)
    finally:
        await job_engine.stop()
        await engine.dispose()
