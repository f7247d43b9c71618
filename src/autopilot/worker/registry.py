"""Job kinds: `@job("kind", payload=Model)` registers a handler with a typed payload."""

from __future__ import annotations

import importlib
import uuid
from collections.abc import Awaitable, Callable, Iterable
from dataclasses import dataclass, field
from datetime import datetime
from typing import Any, Generic, Protocol, TypeVar

from pydantic import BaseModel
from sqlalchemy.ext.asyncio import AsyncSession, async_sessionmaker

from autopilot.config import Settings
from autopilot.kit.crypto import KeyRing
from autopilot.kit.http import ClientPool
from autopilot.kit.time import utcnow

P = TypeVar("P", bound=BaseModel)
T = TypeVar("T")
# Writes that many jobs' successes make together: called with one transaction and the items of
# every job in the batch whose attempt still owned its job (see JobContext.finish_with).
Batch = Callable[[AsyncSession, list[T]], Awaitable[object]]
R = TypeVar("R")
# Writes or reads many jobs make together in the middle of their runs (JobContext.write_together,
# read_together): one result, or one exception, per item, in the items' order.
Together = Callable[[AsyncSession, list[T]], Awaitable[list[R | BaseException]]]


class Groups(Protocol):
    async def submit(self, batch: Together[Any, Any], item: Any) -> Any: ...


@dataclass(frozen=True)
class JobServices:
    """What every handler may use, made once per process and shared by its runs."""

    settings: Settings
    http: ClientPool  # outbound HTTP: one kept-alive client per call in flight
    keyring: KeyRing  # decrypts stored credentials (OAuth tokens, channel secrets)
    clock: Callable[[], datetime] = utcnow  # aware UTC; time-machine moves it in tests
    # Sessions for work that only reads. On SQLite, connections that begin DEFERRED and cannot
    # write (decision 0007): reads then never queue for the one write lock. None: the writer's.
    readers: async_sessionmaker[AsyncSession] | None = None

    @classmethod
    def for_settings(cls, settings: Settings) -> JobServices:
        return cls(settings=settings, http=ClientPool(), keyring=KeyRing(settings.encryption_keys))


@dataclass
class JobContext:
    """What a handler knows about its run. `session` is the run's own transaction: it commits
    together with the job's success, or not at all. It is opened on first use only."""

    job_id: int
    org_id: uuid.UUID | None
    kind: str
    attempt: int
    idempotency_key: str  # stable across attempts: pass it to the outside world
    sessions: async_sessionmaker[AsyncSession]
    services: JobServices
    opened_session: AsyncSession | None = field(default=None, repr=False)
    finish: tuple[Batch[Any], Any] | None = field(default=None, repr=False)
    groups: Groups | None = field(default=None, repr=False)
    read_groups: Groups | None = field(default=None, repr=False)

    @property
    def readers(self) -> async_sessionmaker[AsyncSession]:
        """Sessions for reads only (a write through one fails on SQLite)."""
        return self.services.readers or self.sessions

    def finish_with(self, batch: Batch[T], item: T) -> None:
        """Instead of writing in `session`: the job's own writes are *batch*(session, [item, ...])
        and commit with its success, grouped with other jobs' successes of the same *batch* in one
        transaction (SQLite's one write lock taken once for many jobs; fewer commits on PostgreSQL).
        Like `session`'s writes, they happen only if the attempt still owns its job. A batch that
        fails is applied again job by job, so one job's bad item fails that job only."""
        if self.opened_session is not None and self.opened_session.in_transaction():
            raise RuntimeError("a job writes either in ctx.session or through finish_with, not both")
        self.finish = (batch, item)

    async def write_together(self, batch: Together[T, R], item: T) -> R:
        """A short write transaction of its own (committed when this returns), made together with
        other running jobs' writes of the same *batch*: one transaction, and SQLite's write lock
        taken once, for all of them. *batch* answers one result or exception per item; an exception
        is raised here. A batch that fails as a whole is made again item by item."""
        return await _together(self.groups, self.sessions, batch, item)

    async def read_together(self, batch: Together[T, R], item: T) -> R:
        """A read in a transaction of `readers`, made together with other running jobs' reads of
        the same *batch*: one transaction, and one query per table instead of one per job, when
        many jobs of a kind start at once (a rush of slots). *batch* answers one result or exception
        per item; an exception is raised here. A batch that fails as a whole is read item by item."""
        return await _together(self.read_groups, self.readers, batch, item)

    @property
    def session(self) -> AsyncSession:
        if self.opened_session is None:
            self.opened_session = self.sessions()
        return self.opened_session


async def _together(
    groups: Groups | None, sessions: async_sessionmaker[AsyncSession], batch: Together[T, R], item: T
) -> R:
    """*item* through *groups*, or alone in a transaction of *sessions* (a run outside an engine)."""
    if groups is None:
        async with sessions() as session, session.begin():
            (result,) = await batch(session, [item])
    else:
        result = await groups.submit(batch, item)
    if isinstance(result, BaseException):
        raise result
    return result


Handler = Callable[[JobContext, P], Awaitable[None]]
Reconciler = Callable[[JobContext, P], Awaitable[bool]]


@dataclass
class JobKind(Generic[P]):
    name: str
    payload: type[P]
    handler: Handler[P]
    max_attempts: int = 3
    reconciler: Reconciler[P] | None = None

    def reconcile(self, fn: Reconciler[P]) -> Reconciler[P]:
        """Register the step that asks the outside world whether an ambiguous attempt took effect
        (True: it did, the job is done; False: safe to run again)."""
        self.reconciler = fn
        return fn


REGISTRY: dict[str, JobKind[Any]] = {}


def job(name: str, *, payload: type[P], max_attempts: int = 3) -> Callable[[Handler[P]], JobKind[P]]:
    def register(fn: Handler[P]) -> JobKind[P]:
        kind = JobKind(name=name, payload=payload, handler=fn, max_attempts=max_attempts)
        REGISTRY[name] = kind
        return kind

    return register


class UnknownJobKind(LookupError):
    pass


def get_kind(name: str) -> JobKind[Any]:
    try:
        return REGISTRY[name]
    except KeyError:
        raise UnknownJobKind(f"no job handler is registered for kind {name!r}") from None


def load_handlers(modules: Iterable[str]) -> None:
    """Import the modules that register job kinds (the manifest's, plus AUTOPILOT_JOB_MODULES)."""
    for module in modules:
        if module.strip():
            importlib.import_module(module.strip())
