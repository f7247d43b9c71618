"""How the engine tells the rest of the app what happened, without knowing who listens.

The composition root (`autopilot.domains`) subscribes listeners at start-up; the engine calls them
inside the transaction that recorded the outcome, so whatever a listener writes (an alert, an
e-mail job) commits together with the status change, or not at all."""

from __future__ import annotations

import uuid
from collections.abc import Awaitable, Callable
from dataclasses import dataclass
from typing import Literal

from sqlalchemy.ext.asyncio import AsyncSession


@dataclass(frozen=True)
class JobEndedBadly:
    """A job stopped without success: held for a human, failed for good, or out of attempts."""

    job_id: int
    org_id: uuid.UUID
    kind: str
    attempt: int
    status: Literal["held", "failed", "dead"]
    reason: str


@dataclass(frozen=True)
class WorkRunningLate:
    """An organization's jobs over the last hour started later than the goal."""

    org_id: uuid.UUID
    p99_lateness_s: float


Outcome = JobEndedBadly | WorkRunningLate
Listener = Callable[[AsyncSession, Outcome], Awaitable[None]]


class OutcomeHook:
    """The listeners of engine outcomes; with none subscribed, outcomes only reach the ledger."""

    def __init__(self, *listeners: Listener) -> None:
        self.listeners: list[Listener] = list(listeners)

    def subscribe(self, listener: Listener) -> None:
        self.listeners.append(listener)

    async def emit(self, session: AsyncSession, outcome: Outcome) -> None:
        for listener in self.listeners:
            await listener(session, outcome)
