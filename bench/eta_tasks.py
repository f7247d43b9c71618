"""The common approach, for comparison: Celery tasks sent with an ETA, no database ledger.
Started by bench.jobs as `celery -A bench.eta_tasks worker`."""

from __future__ import annotations

import os
import threading

import httpx
from celery import Celery

app = Celery("bench_eta", broker=os.environ.get("BENCH_BROKER", "redis://127.0.0.1:6379/0"))
app.conf.update(
    task_acks_late=True,
    task_reject_on_worker_lost=True,
    worker_prefetch_multiplier=1,
    task_ignore_result=True,
    task_default_queue=os.environ.get("BENCH_QUEUE", "bench-eta"),
    worker_hijack_root_logger=False,
)
_local = threading.local()


@app.task(name="bench.eta_post")
def eta_post(url: str, key: str) -> None:
    if not hasattr(_local, "client"):  # one client per worker thread, as our engine lends one per call
        _local.client = httpx.Client(timeout=30)
    _local.client.post(url, json={}, headers={"Idempotency-Key": key, "X-Attempt": "1"}).raise_for_status()


@app.task(name="bench.eta_linkedin_post")
def eta_linkedin_post(api_url: str, token: str, body: dict[str, object], version: str) -> None:
    """The same POST /rest/posts our connector makes (headers and body), sent once at its ETA."""
    if not hasattr(_local, "client"):
        _local.client = httpx.Client(timeout=30)
    headers = {
        "Authorization": f"Bearer {token}",
        "LinkedIn-Version": version,
        "X-Restli-Protocol-Version": "2.0.0",
    }
    _local.client.post(f"{api_url}/rest/posts", json=body, headers=headers).raise_for_status()
