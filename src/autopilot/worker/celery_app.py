"""Celery as a transport only: tasks carry a job id; the ledger decides what runs and when.
Each worker process keeps one asyncio loop in a thread; Celery's thread pool hands it job ids."""

from __future__ import annotations

import asyncio
import sys
import threading
from concurrent.futures import Future
from typing import TYPE_CHECKING, Any

from celery import Celery

from autopilot.config import Settings, get_settings
from autopilot.kit.heap import freeze_startup_objects

if TYPE_CHECKING:
    from autopilot.worker.runtime import EngineWiring

TASK_NAME = "autopilot.run_jobs"


def make_celery(settings: Settings) -> Celery:
    celery = Celery("autopilot", broker=settings.celery_broker_url)
    celery.conf.update(
        task_acks_late=True,  # ack after the run: a killed worker's message is delivered again
        task_reject_on_worker_lost=True,
        worker_prefetch_multiplier=1,
        task_ignore_result=True,  # the ledger holds outcomes
        task_default_queue=settings.celery_queue,
        # We never send ETA tasks; the visibility timeout only bounds redelivery after a crash,
        # and the ledger's lease (not the broker) decides whether a redelivery may run.
        broker_transport_options={"visibility_timeout": 3600},
        broker_connection_retry_on_startup=True,
        task_publish_retry=True,
        task_publish_retry_policy={"max_retries": 2, "interval_start": 0.2, "interval_step": 0.5, "interval_max": 1.0},
        worker_hijack_root_logger=False,
        worker_send_task_events=False,
        task_time_limit=600,
    )
    return celery


_app: Celery | None = None


def celery_app() -> Celery:
    global _app
    if _app is None:
        _app = make_celery(get_settings())
    return _app


def message_size(claimed: int, most: int) -> int:
    """Ids per message: one while work trickles in (spread over every worker); up to *most* in a
    burst, so Celery's fixed cost per message (receive, ack) is paid once per several jobs."""
    return max(1, min(most, claimed // SPREAD))


SPREAD = 2  # a claim of n ids goes out as messages of n // SPREAD ids (capped), so at least 2


def send_jobs(job_ids: list[int], most_per_message: int = 10) -> None:
    """Publish the claimed ids (ids only: the ledger holds everything else) through one producer."""
    app = celery_app()
    size = message_size(len(job_ids), most_per_message)
    with app.producer_or_acquire() as producer:
        for start in range(0, len(job_ids), size):
            chunk = job_ids[start : start + size]
            app.send_task(TASK_NAME, args=[chunk], queue=app.conf.task_default_queue, producer=producer)


class WorkerLoop:
    """The worker process's event loop, its engine and runner, and its heartbeat."""

    def __init__(self, settings: Settings, wiring: EngineWiring) -> None:
        from autopilot.kit.db import make_engine, make_sessionmaker
        from autopilot.worker.registry import JobServices
        from autopilot.worker.runner import JobRunner
        from autopilot.worker.runtime import ExecutorHeartbeat, process_name

        wiring.load_handlers()
        # Celery's pool threads only wait for the loop; hand the GIL back to the loop thread sooner
        # than the default 5 ms after each of its socket calls (the GIL convoy effect).
        sys.setswitchinterval(0.0005)
        self.loop = asyncio.new_event_loop()
        threading.Thread(target=self.loop.run_forever, name="autopilot-loop", daemon=True).start()
        name = process_name("worker")

        async def setup() -> None:
            self.engine = make_engine(settings.sqlalchemy_url, connections=settings.worker_db_connections)
            sessions = make_sessionmaker(self.engine)
            services = JobServices.for_settings(settings)
            self.runner = JobRunner(sessions, owner=name, services=services, outcomes=wiring.outcomes)
            beat = ExecutorHeartbeat(sessions, self.runner, "celery", settings.heartbeat_interval_s, name=name)
            asyncio.create_task(beat.run())  # noqa: RUF006 (lives as long as the process)

        asyncio.run_coroutine_threadsafe(setup(), self.loop).result()

    def run(self, job_ids: list[int]) -> list[str]:
        async def run_all() -> list[str]:
            return list(await asyncio.gather(*(self.runner.run_delivered(i) for i in job_ids)))

        future: Future[list[str]] = asyncio.run_coroutine_threadsafe(run_all(), self.loop)
        return future.result()


_worker_loop: WorkerLoop | None = None
_worker_lock = threading.Lock()


def worker_loop(settings: Settings | None = None, wiring: EngineWiring | None = None) -> WorkerLoop:
    """The process's loop, made once by `run_worker` with the settings and wiring it was given."""
    global _worker_loop
    with _worker_lock:
        if _worker_loop is None:
            if settings is None or wiring is None:
                raise RuntimeError("start workers with `autopilot worker`, which wires the job handlers")
            _worker_loop = WorkerLoop(settings, wiring)
        return _worker_loop


def _register(celery: Celery) -> None:
    @celery.task(name=TASK_NAME, acks_late=True, reject_on_worker_lost=True, ignore_result=True)
    def run_jobs(job_ids: list[int] | int) -> list[str]:
        return worker_loop().run(job_ids if isinstance(job_ids, list) else [job_ids])


def run_worker(settings: Settings, wiring: EngineWiring, *, concurrency: int, queues: str | None) -> None:
    """`autopilot worker`: a Celery worker with a thread pool (the work is I/O-bound)."""
    if not settings.celery_broker_url:
        raise SystemExit("set AUTOPILOT_CELERY_BROKER_URL (e.g. redis://127.0.0.1:6379/0) to run a worker")
    from autopilot.kit.logging import configure_logging

    configure_logging(settings.log_level, json=settings.log_json)
    celery = celery_app()
    _register(celery)
    worker_loop(settings, wiring)  # start the loop and heartbeat before taking work
    freeze_startup_objects()
    argv: list[Any] = [
        "worker",
        "--pool=threads",
        f"--concurrency={concurrency}",
        f"--queues={queues or settings.celery_queue}",
        "--without-gossip",
        "--without-mingle",
        "--loglevel=WARNING",
    ]
    celery.worker_main(argv)
