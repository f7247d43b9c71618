"""What happens after a failure depends on its class; this table is the whole policy."""

from __future__ import annotations

import enum
import random
from dataclasses import dataclass
from datetime import datetime, timedelta

import httpx

BACKOFF_BASE_S = 2.0
BACKOFF_CAP_S = 600.0
RECONCILE_DELAY_S = 1.0
DEFAULT_RATE_LIMIT_WAIT_S = 60.0


class ErrorClass(enum.StrEnum):
    TRANSIENT = "transient"  # network trouble, 5xx on a safe call: try again later
    RATE_LIMITED = "rate_limited"  # 429 or quota: wait for Retry-After / the reset
    AUTH = "auth"  # token expired or revoked: hold until a human reconnects
    PERMANENT = "permanent"  # validation, 4xx: retrying cannot help
    AMBIGUOUS = "ambiguous"  # the effect may or may not have happened: reconcile first
    LEASE_EXPIRED = "lease_expired"  # the runner vanished mid-run: as ambiguous


class JobError(Exception):
    """Raised by a handler to say how its failure should be treated."""

    error_class = ErrorClass.TRANSIENT

    def __init__(self, message: str, *, retry_after_s: float | None = None) -> None:
        super().__init__(message)
        self.retry_after_s = retry_after_s


class TransientError(JobError):
    error_class = ErrorClass.TRANSIENT


class RateLimited(JobError):
    error_class = ErrorClass.RATE_LIMITED


class AuthFailed(JobError):
    error_class = ErrorClass.AUTH


class PermanentError(JobError):
    error_class = ErrorClass.PERMANENT


class AmbiguousOutcome(JobError):
    error_class = ErrorClass.AMBIGUOUS


@dataclass(frozen=True)
class Rule:
    charge_attempt: bool  # does this failure use up one of max_attempts?
    outcome: str  # retry | hold | fail
    reconcile_first: bool = False


POLICY: dict[ErrorClass, Rule] = {
    ErrorClass.TRANSIENT: Rule(charge_attempt=True, outcome="retry"),
    ErrorClass.RATE_LIMITED: Rule(charge_attempt=False, outcome="retry"),
    ErrorClass.AUTH: Rule(charge_attempt=False, outcome="hold"),
    ErrorClass.PERMANENT: Rule(charge_attempt=True, outcome="fail"),
    ErrorClass.AMBIGUOUS: Rule(charge_attempt=True, outcome="retry", reconcile_first=True),
    ErrorClass.LEASE_EXPIRED: Rule(charge_attempt=True, outcome="retry", reconcile_first=True),
}


def backoff_s(attempt: int, *, rng: random.Random | None = None) -> float:
    """Exponential backoff with full jitter: uniform in [0, min(cap, base·2^(attempt-1))]."""
    ceiling = min(BACKOFF_CAP_S, BACKOFF_BASE_S * 2 ** max(0, attempt - 1))
    return (rng or random).uniform(ceiling / 2, ceiling)  # half-jitter: never retries instantly


def next_run_at(error: JobError, attempt: int, now: datetime) -> datetime:
    """When a job that failed with *error* on *attempt* may run again."""
    if error.error_class is ErrorClass.RATE_LIMITED:
        wait = error.retry_after_s if error.retry_after_s is not None else DEFAULT_RATE_LIMIT_WAIT_S
    elif error.error_class in (ErrorClass.AMBIGUOUS, ErrorClass.LEASE_EXPIRED):
        wait = RECONCILE_DELAY_S
    else:
        wait = backoff_s(attempt)
    return now + timedelta(seconds=max(0.0, wait))


def retry_after_seconds(response: httpx.Response, now: datetime) -> float | None:
    """Seconds to wait from Retry-After (delta or HTTP date) or an X-RateLimit-Reset epoch."""
    value = response.headers.get("retry-after")
    if value:
        if value.strip().isdigit():
            return float(value)
        from email.utils import parsedate_to_datetime

        try:
            return max(0.0, (parsedate_to_datetime(value) - now).total_seconds())
        except (TypeError, ValueError):
            pass
    reset = response.headers.get("x-ratelimit-reset")
    if reset and reset.strip().isdigit():
        return max(0.0, float(reset) - now.timestamp())
    return None


def classify(exc: BaseException, now: datetime, *, creates: bool = True) -> JobError:
    """Map an exception from an outside call to its class. For a call that creates something,
    a lost response or a 5xx means the effect may already exist: that is ambiguous, not transient."""
    if isinstance(exc, JobError):
        return exc
    if isinstance(exc, httpx.HTTPStatusError):
        status = exc.response.status_code
        if status == 429:
            return RateLimited(
                f"HTTP 429 from {exc.request.url.host}", retry_after_s=retry_after_seconds(exc.response, now)
            )
        if status in (401, 403):
            return AuthFailed(f"HTTP {status} from {exc.request.url.host}: reconnect the integration")
        if status >= 500:
            cls: type[JobError] = AmbiguousOutcome if creates else TransientError
            return cls(f"HTTP {status} from {exc.request.url.host}")
        return PermanentError(f"HTTP {status} from {exc.request.url.host}: {exc.response.text[:300]}")
    if isinstance(exc, httpx.ConnectError | httpx.ConnectTimeout | httpx.PoolTimeout):
        return TransientError(f"could not connect: {type(exc).__name__}")  # the request never left
    if isinstance(exc, httpx.TransportError):
        cls = AmbiguousOutcome if creates else TransientError
        return cls(f"no answer: {type(exc).__name__}")
    return TransientError(f"{type(exc).__name__}: {exc}")
