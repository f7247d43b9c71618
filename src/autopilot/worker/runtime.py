"""Dispatcher loop, executors (in-process asyncio pool, or Celery), reaper and heartbeats."""

from __future__ import annotations

import asyncio
import contextlib
import os
import signal
import socket
import sys
import time
import uuid
from collections import deque
from collections.abc import AsyncIterator, Callable, Iterator, Sequence
from contextlib import asynccontextmanager
from dataclasses import dataclass, field
from datetime import timedelta
from typing import Protocol

import structlog
from prometheus_client import REGISTRY, generate_latest
from prometheus_client.metrics_core import Metric
from prometheus_client.parser import text_string_to_metric_families
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
from autopilot.worker.metrics import JOB_LATENESS, JOB_OUTCOMES
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


@asynccontextmanager
async def own_engine(settings: Settings, wiring: EngineWiring) -> AsyncIterator[JobEngine]:
    """A started JobEngine with database engines and an HTTP pool of its own (a loop owns them)."""
    busy_ms = settings.sqlite_busy_timeout_ms
    engine = make_engine(settings.sqlalchemy_url, connections=settings.db_connections, busy_timeout_ms=busy_ms)
    reader_engine = make_reader_engine(settings.sqlalchemy_url, busy_timeout_ms=busy_ms)
    services = JobServices(
        settings=settings,
        http=ClientPool(),
        keyring=KeyRing(settings.encryption_keys),
        readers=make_sessionmaker(reader_engine) if reader_engine else None,
    )
    try:
        job_engine = JobEngine(settings, make_sessionmaker(engine), wiring, services).start()
        try:
            yield job_engine
        finally:
            await job_engine.stop()
    finally:
        await services.http.aclose()
        if reader_engine is not None:
            await reader_engine.dispose()
        await engine.dispose()


WAKE, QUIT, METRICS = b"w", b"q", b"m"
RESTART_DELAYS_S = (1.0, 2.0, 5.0, 15.0, 60.0)
STEADY_S = 60.0  # a child that ran this long before it exited starts again at once
STOP_TIMEOUT_S = 60.0
METRICS_TIMEOUT_S = 5.0


class _EngineFamilies:
    """What the engine itself observes (the queue gauges are read from the ledger by whoever serves
    /metrics): the child sends these to EngineProcess."""

    @staticmethod
    def collect() -> Iterator[Metric]:
        yield from JOB_LATENESS.collect()
        yield from JOB_OUTCOMES.collect()


class _ChildFamilies:
    """The child's families as last fetched, in place of this process's (never observed) ones."""

    def __init__(self) -> None:
        self.families: list[Metric] = []

    def collect(self) -> Iterator[Metric]:
        return iter(self.families)


class EngineProcess:
    """The job engine of `autopilot serve` in a child process (*command*, which runs
    `run_engine_child`): the web keeps an interpreter, a GIL and a core of its own. On one
    interpreter a rush of jobs held the GIL beside every web request (bench.slot_rush, 1,000
    posts: a 1,000-row schedule listing's p99 went from 33 ms idle to 136-264 ms during the rush,
    with the engine on a thread and loop of its own).

    The two processes share the database, as the dispatcher and Celery workers do, and a socket
    pair: WAKE when work due now was committed here (the ledger's hook, so that "publish now" does
    not wait for the dispatcher's poll), QUIT to stop, METRICS for the engine's Prometheus families
    (answered as a length-prefixed text), which /metrics serves in place of this process's own.
    A child that exits on its own is started again, after a growing delay. If this process dies,
    the child dies with it (PR_SET_PDEATHSIG on Linux; elsewhere the end of its socket): as when
    both lived in one process, the attempts it was running are retried when their leases expire."""

    def __init__(self, command: Sequence[str]) -> None:
        self.command = list(command)
        self.process: asyncio.subprocess.Process | None = None
        self._loop = asyncio.get_running_loop()
        self._writer: asyncio.StreamWriter | None = None
        self._replies: deque[asyncio.Future[bytes]] = deque()
        self._stopping = False
        self._wake_pending = False
        self._supervisor: asyncio.Task[None] | None = None
        self._unhook: Callable[[], None] | None = None
        self._families = _ChildFamilies()
        self.starts = 0  # children started, or tried

    async def start(self) -> EngineProcess:
        for family in (JOB_LATENESS, JOB_OUTCOMES):
            REGISTRY.unregister(family)
        REGISTRY.register(self._families)
        self._unhook = ledger.on_due_work(self._wake_threadsafe)
        self._supervisor = asyncio.create_task(self._supervise(), name="engine-process")
        return self

    async def _supervise(self) -> None:
        failures = 0
        while not self._stopping:
            began = time.monotonic()
            try:
                code: int | str = await self._run_child()
            except OSError as exc:  # it could not be started (no memory, no process slot): try again
                code = f"not started: {exc}"
            if self._stopping:
                return
            failures = 0 if time.monotonic() - began >= STEADY_S else failures + 1
            delay = RESTART_DELAYS_S[min(failures, len(RESTART_DELAYS_S)) - 1] if failures else 0.0
            log.error("the job engine process exited; it is started again", exit_code=code, after_s=delay)
            await asyncio.sleep(delay)

    async def _run_child(self) -> int:
        self.starts += 1
        mine, theirs = socket.socketpair()
        try:
            self.process = await asyncio.create_subprocess_exec(
                *self.command, f"--control-fd={theirs.fileno()}", pass_fds=(theirs.fileno(),),
                stdin=asyncio.subprocess.DEVNULL,
            )  # fmt: skip
        except OSError:
            mine.close()
            raise
        finally:
            theirs.close()
        log.info("job engine process started", engine_pid=self.process.pid)
        reader, self._writer = await asyncio.open_unix_connection(sock=mine)
        try:
            with contextlib.suppress(asyncio.IncompleteReadError, ConnectionError):
                while True:  # answers to METRICS, in the order asked
                    size = int.from_bytes(await reader.readexactly(4), "big")
                    answer = await reader.readexactly(size)
                    if self._replies:
                        reply = self._replies.popleft()
                        if not reply.done():
                            reply.set_result(answer)
            return await self.process.wait()
        finally:
            self._writer.close()
            self._writer = None
            while self._replies:
                unanswered = self._replies.popleft()
                if not unanswered.done():
                    unanswered.set_exception(ConnectionError("the job engine process exited"))

    def _wake_threadsafe(self) -> None:
        if not self._wake_pending:  # one byte per loop turn, however many jobs were committed
            self._wake_pending = True
            self._loop.call_soon_threadsafe(self._send_wake)

    def _send_wake(self) -> None:
        self._wake_pending = False
        self._send(WAKE)

    def _send(self, data: bytes) -> bool:
        if self._writer is None or self._writer.is_closing():
            return False
        self._writer.write(data)
        return True

    async def refresh_metrics(self) -> None:
        """Fetch the engine's families from the child (kept as they were if it does not answer)."""
        reply: asyncio.Future[bytes] = self._loop.create_future()
        reply.add_done_callback(lambda done: done.cancelled() or done.exception())  # seen, even if given up on
        if not self._send(METRICS):
            return
        self._replies.append(reply)
        try:
            text = await asyncio.wait_for(asyncio.shield(reply), METRICS_TIMEOUT_S)
        except (TimeoutError, ConnectionError):
            return
        self._families.families = list(text_string_to_metric_families(text.decode()))

    async def stop(self) -> None:
        self._stopping = True
        if self._unhook is not None:
            self._unhook()
        process = self.process
        if process is not None and process.returncode is None:
            self._send(QUIT)
            try:
                await asyncio.wait_for(process.wait(), STOP_TIMEOUT_S)
            except TimeoutError:
                log.error("the job engine process did not stop in time; killed", engine_pid=process.pid)
                process.kill()
                await process.wait()
        if self._supervisor is not None:
            self._supervisor.cancel()
            await asyncio.gather(self._supervisor, return_exceptions=True)
        REGISTRY.unregister(self._families)
        for family in (JOB_LATENESS, JOB_OUTCOMES):
            REGISTRY.register(family)


async def _obey(control: socket.socket, wake: asyncio.Event, stopping: asyncio.Event) -> None:
    """The child's end of EngineProcess's socket pair, until QUIT. Its end without QUIT means the
    server process is gone: the child exits at once, as the one process would have."""
    reader, writer = await asyncio.open_unix_connection(sock=control)
    try:
        while True:
            data = await reader.read(4096)
            if not data:
                log.error("the server process is gone: the job engine stops at once (leases bring its jobs back)")
                os._exit(70)
            for _ in range(data.count(METRICS)):
                text = generate_latest(_EngineFamilies())
                writer.write(len(text).to_bytes(4, "big") + text)
            if QUIT in data:
                stopping.set()
                return
            if WAKE in data:
                wake.set()
    finally:
        writer.close()


def _die_with_parent(parent_pid: int | None) -> None:
    """Ask Linux to SIGKILL this process when its parent dies; then check that it still lives
    (it may have died before the request)."""
    if sys.platform.startswith("linux"):
        import ctypes

        pr_set_pdeathsig = 1
        ctypes.CDLL(None, use_errno=True).prctl(pr_set_pdeathsig, signal.SIGKILL)
    if parent_pid is not None and os.getppid() != parent_pid:
        os._exit(70)


async def run_engine_child(settings: Settings, wiring: EngineWiring, parent_pid: int | None, control_fd: int) -> None:
    """The child side of EngineProcess: the in-process engine until QUIT on the control socket."""
    from autopilot.kit.logging import configure_logging

    _die_with_parent(parent_pid)
    configure_logging(settings.log_level, json=settings.log_json)
    for sig in (signal.SIGINT, signal.SIGTERM):  # a terminal's Ctrl-C reaches the whole group: the parent decides
        signal.signal(sig, signal.SIG_IGN)
    stopping = asyncio.Event()
    async with own_engine(settings, wiring) as job_engine:
        control = asyncio.create_task(_obey(socket.socket(fileno=control_fd), job_engine.wake, stopping))
        freeze_startup_objects()
        await control


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
