"""Real databases for tests: a migrated SQLite file per test, and a PostgreSQL database per run."""

from __future__ import annotations

import asyncio
import os
import shutil
import uuid
from pathlib import Path

import asyncpg
import pytest
import redis
from sqlalchemy import text
from sqlalchemy.ext.asyncio import AsyncEngine

from autopilot.domains import load_models
from autopilot.kit.migrate import upgrade

PG_SERVER = os.environ.get("AUTOPILOT_TEST_POSTGRES", "postgresql://postgres@127.0.0.1:5432/test")
REDIS_URL = "redis://127.0.0.1:6379/0"
IN_CI = os.environ.get("CI", "").lower() in ("1", "true", "yes")


def asyncpg_dsn(url: str) -> str:
    return url.replace("postgresql+asyncpg://", "postgresql://")


def sa_url(url: str) -> str:
    return url.replace("postgresql://", "postgresql+asyncpg://", 1)


async def postgres_available() -> str | None:
    """None when PostgreSQL answers; otherwise why not."""
    try:
        conn = await asyncio.wait_for(asyncpg.connect(PG_SERVER), timeout=5)
    except Exception as exc:
        return f"{type(exc).__name__}: {exc}"
    await conn.close()
    return None


async def create_postgres_database() -> str:
    """A fresh, migrated database on the test server; returns its SQLAlchemy URL."""
    name = f"autopilot_test_{os.getpid()}_{uuid.uuid4().hex[:6]}"
    conn = await asyncpg.connect(PG_SERVER)
    try:
        await conn.execute(f'CREATE DATABASE "{name}"')
    finally:
        await conn.close()
    base = PG_SERVER.rsplit("/", 1)[0]
    url = sa_url(f"{base}/{name}")
    await asyncio.to_thread(upgrade, url)
    return url


async def drop_postgres_database(url: str) -> None:
    name = url.rsplit("/", 1)[1]
    conn = await asyncpg.connect(PG_SERVER)
    try:
        await conn.execute(f'DROP DATABASE IF EXISTS "{name}" WITH (FORCE)')
    finally:
        await conn.close()


def migrated_sqlite_template(directory: Path) -> Path:
    path = directory / "template.db"
    upgrade(f"sqlite+aiosqlite:///{path}")
    return path


def sqlite_copy(template: Path, directory: Path) -> str:
    target = directory / "autopilot.db"
    shutil.copy(template, target)
    return f"sqlite+aiosqlite:///{target}"


async def truncate_all(engine: AsyncEngine) -> None:
    tables = ", ".join(f'"{t.name}"' for t in load_models().sorted_tables)
    async with engine.begin() as conn:
        await conn.execute(text(f"TRUNCATE {tables} RESTART IDENTITY CASCADE"))


def redis_or_fail(url: str = REDIS_URL) -> None:
    """Redis must answer under CI=true; elsewhere a test that needs it is skipped."""
    try:
        redis.Redis.from_url(url, socket_timeout=3).ping()
    except redis.RedisError as exc:
        if IN_CI:
            pytest.fail(f"Redis is required under CI=true but does not answer: {exc}")
        pytest.skip(f"Redis is not running here: {exc}")
