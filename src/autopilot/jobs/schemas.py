from __future__ import annotations

from datetime import datetime
from typing import Any

from pydantic import BaseModel, ConfigDict, Field


class JobOut(BaseModel):
    model_config = ConfigDict(from_attributes=True)
    id: int
    kind: str
    status: str
    payload: dict[str, Any]
    due_at: datetime
    run_at: datetime
    attempt: int
    max_attempts: int
    priority: int
    last_error: str | None
    error_class: str | None
    started_at: datetime | None
    finished_at: datetime | None
    created_at: datetime
    updated_at: datetime


class JobPage(BaseModel):
    items: list[JobOut]
    total: int
    limit: int
    offset: int


class HeartbeatOut(BaseModel):
    name: str
    role: str
    mode: str
    seen_at: datetime
    age_s: float
    alive: bool
    jobs_done: int


class LatenessOut(BaseModel):
    count: int
    p50_s: float | None
    p99_s: float | None


class JobHealthOut(BaseModel):
    backlog: int
    oldest_overdue_s: float
    lateness_last_hour: LatenessOut
    stale_leases: int
    executors_alive: int
    dispatchers_alive: int
    heartbeats: list[HeartbeatOut] = Field(
        description="Each engine process, named by host and pid: listed for operators only, empty for everyone else."
    )
