"""Database engine and sessions: one AsyncSession per request or job, committed at the edge."""

from __future__ import annotations

import uuid
from datetime import datetime
from typing import Any

from sqlalchemy import DateTime, Executable, MetaData, TypeDecorator, event
from sqlalchemy.dialects import postgresql, sqlite
from sqlalchemy.engine import Dialect
from sqlalchemy.ext.asyncio import AsyncEngine, AsyncSession, async_sessionmaker, create_async_engine
from sqlalchemy.orm import DeclarativeBase, Mapped, mapped_column

from autopilot.kit.time import as_utc, utcnow

NAMING = {
    "ix": "ix_%(column_0_label)s",
    "uq": "uq_%(table_name)s_%(column_0_name)s",
    "ck": "ck_%(table_name)s_%(constraint_name)s",
    "fk": "fk_%(table_name)s_%(column_0_name)s_%(referred_table_name)s",
    "pk": "pk_%(table_name)s",
}


class UTCDateTime(TypeDecorator[datetime]):
    """A timestamp that is always written and read as aware UTC, on SQLite as on PostgreSQL."""

    impl = DateTime(timezone=True)
    cache_ok = True

    def process_bind_param(self, value: datetime | None, dialect: Dialect) -> datetime | None:
        if value is None:
            return None
        if value.tzinfo is None:
            raise ValueError("naive datetimes are not stored; use kit.time.utcnow()")
        value = as_utc(value)
        return value.replace(tzinfo=None) if dialect.name == "sqlite" else value

    def process_result_value(self, value: datetime | None, dialect: Dialect) -> datetime | None:
        return None if value is None else as_utc(value)


class Base(DeclarativeBase):
    metadata = MetaData(naming_convention=NAMING)
    type_annotation_map = {datetime: UTCDateTime()}


class IdMixin:
    id: Mapped[uuid.UUID] = mapped_column(primary_key=True, default=uuid.uuid4)


class TimestampMixin:
    created_at: Mapped[datetime] = mapped_column(default=utcnow)
    updated_at: Mapped[datetime] = mapped_column(default=utcnow, onupdate=utcnow)


BUSY_TIMEOUT_MS = 30_000  # how long a SQLite writer waits for the write lock before "database is locked"


def _sqlite_pragmas(dbapi_connection: Any, busy_timeout_ms: int) -> None:
    cursor = dbapi_connection.cursor()
    cursor.execute("PRAGMA journal_mode=WAL")
    cursor.execute("PRAGMA synchronous=NORMAL")
    cursor.execute("PRAGMA foreign_keys=ON")
    cursor.execute(f"PRAGMA busy_timeout={int(busy_timeout_ms)}")
    # 64 MiB of page cache per connection (default 2 MiB): a ledger of a million rows keeps its
    # index pages in memory instead of re-reading them through the OS on every claim.
    cursor.execute("PRAGMA cache_size=-65536")
    cursor.close()


def _sqlite_begin_immediate(conn: Any) -> None:
    # SQLite upgrades a read transaction to a write lazily, which fails with SQLITE_BUSY
    # mid-transaction under concurrency; taking the write lock up front lets busy_timeout wait.
    conn.exec_driver_sql("BEGIN IMMEDIATE")


def _sqlite_begin_deferred(conn: Any) -> None:
    conn.exec_driver_sql("BEGIN")


def _sqlite_engine(url: str, *, pool_size: int, busy_timeout_ms: int, read_only: bool) -> AsyncEngine:
    # hide_parameters: SQL errors (and the tracebacks we log) never carry the values, e.g. a digest.
    engine = create_async_engine(
        url, pool_size=pool_size, max_overflow=pool_size, pool_timeout=120, hide_parameters=True
    )
    sync = engine.sync_engine

    @event.listens_for(sync, "connect")
    def _on_connect(dbapi_connection: Any, _record: Any) -> None:
        dbapi_connection.isolation_level = None  # SQLAlchemy emits BEGIN itself (the "begin" event)
        _sqlite_pragmas(dbapi_connection, busy_timeout_ms)
        if read_only:
            cursor = dbapi_connection.cursor()
            cursor.execute("PRAGMA query_only=ON")
            cursor.close()

    event.listen(sync, "begin", _sqlite_begin_deferred if read_only else _sqlite_begin_immediate)
    return engine


def make_reader_engine(url: str, *, busy_timeout_ms: int = BUSY_TIMEOUT_MS) -> AsyncEngine | None:
    """SQLite only: an engine for read-only work. In WAL mode readers do not block the writer nor
    each other, but only if they do not take the write lock: these connections begin DEFERRED
    and refuse writes (query_only), so a GET never queues behind a write (decision 0007).
    None for PostgreSQL, whose MVCC needs no such split."""
    if not url.startswith("sqlite"):
        return None
    return _sqlite_engine(url, pool_size=10, busy_timeout_ms=busy_timeout_ms, read_only=True)


def make_engine(url: str, *, connections: int = 15, busy_timeout_ms: int = BUSY_TIMEOUT_MS) -> AsyncEngine:
    """Create the engine for *url* with our dialect settings (SQLite: WAL, FKs on, busy wait). On
    PostgreSQL the process opens at most *connections*: a burst waits for a free one (up to the
    pool's 30 s) instead of opening more than the server allows and being refused."""
    if url.startswith("sqlite"):
        # A small pool: SQLite has one writer anyway, and reusing connections saves the connect
        # and pragma round trips on every transaction.
        return _sqlite_engine(url, pool_size=5, busy_timeout_ms=busy_timeout_ms, read_only=False)
    # hide_parameters: SQL errors (and the tracebacks we log) never carry the values, e.g. a digest.
    kept = max(1, connections * 2 // 3)  # held open; the rest are opened for bursts and closed after
    return create_async_engine(
        url, pool_size=kept, max_overflow=max(0, connections - kept), pool_pre_ping=True, hide_parameters=True
    )


def upsert_insert(session: AsyncSession, table: Any) -> Any:
    """An INSERT of *table* with the dialect's ON CONFLICT clauses (PostgreSQL's or SQLite's)."""
    dialect = session.get_bind().dialect.name
    return (postgresql.insert if dialect == "postgresql" else sqlite.insert)(table)


def make_sessionmaker(engine: AsyncEngine) -> async_sessionmaker[AsyncSession]:
    return async_sessionmaker(engine, expire_on_commit=False, autoflush=False)


async def write_beside(session: AsyncSession, statement: Executable) -> None:
    """A small write that does not belong to the caller's business (a last-used timestamp). On a
    read-only session it runs in its own short write transaction; otherwise it joins the session."""
    writer: async_sessionmaker[AsyncSession] | None = session.info.get("writer")
    if writer is None:
        await session.execute(statement)
        return
    async with writer() as side, side.begin():
        await side.execute(statement)
