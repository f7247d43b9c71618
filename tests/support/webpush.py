"""The Web Push service emulator as a real server process, a client for its control API, and
helpers to run the push jobs a test queued.

    with PushService() as service:
        device = service.subscribe()                    # what PushSubscription.toJSON() gives a page
        ... the product pushes to device["endpoint"] ...
        (message,) = service.messages(device["id"])     # decrypted by the emulator
"""

from __future__ import annotations

import uuid
from types import TracebackType
from typing import Any

import httpx
from sqlalchemy import select
from sqlalchemy.ext.asyncio import AsyncSession, async_sessionmaker

from autopilot.notifications.push import PUSH_KIND
from autopilot.worker import ledger
from autopilot.worker.models import Job
from autopilot.worker.runner import JobRunner
from tests.support.emulators import EmulatorProcess


class PushService(EmulatorProcess):
    """`python -m autopilot.sandbox.webpush --port <free port>`, stopped by its pid."""

    name = "webpush-emulator"
    command = ("-m", "autopilot.sandbox.webpush")
    ready_path = "/_emulator/health"

    def __init__(self) -> None:
        super().__init__()
        self.http = httpx.Client(timeout=10)

    def __exit__(
        self, kind: type[BaseException] | None, error: BaseException | None, trace: TracebackType | None
    ) -> None:
        self.http.close()
        super().__exit__(kind, error, trace)

    def _call(self, method: str, path: str, **kwargs: Any) -> Any:
        response = self.http.request(method, f"{self.url}/_emulator{path}", **kwargs)
        response.raise_for_status()
        return response.json() if response.content else None

    def subscribe(self, application_server_key: str | None = None) -> dict[str, Any]:
        body = {"application_server_key": application_server_key} if application_server_key else {}
        created: dict[str, Any] = self._call("POST", "/subscriptions", json=body)
        return created

    def subscription(self, subscription_id: str) -> dict[str, Any]:
        found: dict[str, Any] = self._call("GET", f"/subscriptions/{subscription_id}")
        return found

    def messages(self, subscription_id: str) -> list[dict[str, Any]]:
        found: list[dict[str, Any]] = self._call("GET", f"/subscriptions/{subscription_id}/messages")["messages"]
        return found

    def deliver(self, subscription_id: str) -> list[dict[str, Any]]:
        handed: list[dict[str, Any]] = self._call("POST", f"/subscriptions/{subscription_id}/deliver")["messages"]
        return handed

    def fault(
        self, subscription_id: str, status: int, retry_after: int | None = None, times: int | None = None
    ) -> None:
        body = {"status": status, "retry_after": retry_after, "times": times}
        self._call("PUT", f"/subscriptions/{subscription_id}/fault", json=body)

    def reset(self) -> None:
        self._call("POST", "/reset")


def as_browser_json(device: dict[str, Any]) -> dict[str, Any]:
    """The body a page POSTs: exactly `PushSubscription.toJSON()`."""
    return {"endpoint": device["endpoint"], "expirationTime": None, "keys": device["keys"]}


async def push_jobs(sessions: async_sessionmaker[AsyncSession], org_id: str | uuid.UUID) -> list[Job]:
    async with sessions() as session:
        query = select(Job).where(Job.kind == PUSH_KIND, Job.org_id == uuid.UUID(str(org_id))).order_by(Job.id)
        return list(await session.scalars(query))


async def run_pushes(sessions: async_sessionmaker[AsyncSession], runner: JobRunner) -> list[str]:
    """Run every push job due now, one at a time in id order (as a single executor would); their outcomes."""
    outcomes = []
    while True:
        async with sessions() as session, session.begin():
            claimed = await ledger.claim_due(session, owner="test", limit=1, lease_s=30, start=True)
        if not claimed:
            return outcomes
        assert claimed[0].kind == PUSH_KIND, claimed[0].kind
        outcomes.append(await runner.run(claimed[0]))
