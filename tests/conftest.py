"""Fixtures: every database test runs on SQLite and again on PostgreSQL (required under CI=true)."""

from __future__ import annotations

import os
from collections.abc import AsyncIterator, Iterator
from pathlib import Path
from typing import Any

import httpx
import pytest
from cryptography.fernet import Fernet
from fastapi import FastAPI
from sqlalchemy.ext.asyncio import AsyncEngine, AsyncSession, async_sessionmaker

from autopilot.app import create_app
from autopilot.config import Settings
from autopilot.kit.db import make_engine, make_sessionmaker
from tests.support import databases
from tests.support.accounts import Account, make_account

REPO = Path(__file__).resolve().parent.parent
ARTIFACTS = REPO / "test-artifacts"


@pytest.fixture(scope="session")
def sqlite_template(tmp_path_factory: pytest.TempPathFactory) -> Path:
    return databases.migrated_sqlite_template(tmp_path_factory.mktemp("template"))


@pytest.fixture(scope="session")
async def postgres_url() -> AsyncIterator[str | None]:
    why = await databases.postgres_available()
    if why is not None:
        if databases.IN_CI:
            pytest.fail(f"PostgreSQL is required under CI=true but does not answer: {why}")
        yield None
        return
    url = await databases.create_postgres_database()
    yield url
    await databases.drop_postgres_database(url)


@pytest.fixture(params=["sqlite", "postgresql"])
async def database_url(
    request: pytest.FixtureRequest, sqlite_template: Path, postgres_url: str | None, tmp_path: Path
) -> AsyncIterator[str]:
    """A migrated, empty database of each kind."""
    if request.param == "sqlite":
        yield databases.sqlite_copy(sqlite_template, tmp_path)
        return
    url = postgres_url
    if url is None:
        pytest.skip("PostgreSQL is not running here (it is required under CI=true)")
    yield url
    engine = make_engine(url)
    await databases.truncate_all(engine)
    await engine.dispose()


@pytest.fixture
async def postgres(postgres_url: str | None) -> AsyncIterator[str]:
    """The run's PostgreSQL database only (emptied before and after), for tests of real processes."""
    if postgres_url is None:
        pytest.skip("PostgreSQL is not running here (it is required under CI=true)")
    engine = make_engine(postgres_url)
    await databases.truncate_all(engine)
    yield postgres_url
    await databases.truncate_all(engine)
    await engine.dispose()


@pytest.fixture
def settings(database_url: str, tmp_path: Path) -> Settings:
    return Settings(
        env="test",
        data_dir=tmp_path / "data",
        database_url=database_url,
        secret_key="t" * 48,
        encryption_keys=Fernet.generate_key().decode(),
        run_job_engine=False,
        log_json=True,
        lease_s=5,
        reaper_interval_s=0.5,
        heartbeat_interval_s=0.5,
        dispatch_interval_s=0.2,
        job_modules="tests.support.jobkinds",
    )


@pytest.fixture
async def engine(settings: Settings) -> AsyncIterator[AsyncEngine]:
    engine = make_engine(settings.sqlalchemy_url)
    yield engine
    await engine.dispose()


@pytest.fixture
def sessions(engine: AsyncEngine) -> async_sessionmaker[AsyncSession]:
    return make_sessionmaker(engine)


@pytest.fixture
async def app(settings: Settings) -> AsyncIterator[FastAPI]:
    application = create_app(settings)
    async with application.router.lifespan_context(application):
        yield application


@pytest.fixture
async def client(app: FastAPI) -> AsyncIterator[httpx.AsyncClient]:
    transport = httpx.ASGITransport(app=app, client=("203.0.113.7", 4321))
    async with httpx.AsyncClient(transport=transport, base_url="http://testserver") as http:
        yield http


@pytest.fixture
async def alice(client: httpx.AsyncClient) -> Account:
    return await make_account(client, "alice@example.com", "Alice Consulting", timezone="Europe/Paris")


@pytest.fixture
async def bob(client: httpx.AsyncClient) -> Account:
    return await make_account(client, "bob@example.com", "Bob Advisory", timezone="America/New_York")


@pytest.fixture(scope="session")
def artifacts() -> Iterator[Path]:
    ARTIFACTS.mkdir(exist_ok=True)
    yield ARTIFACTS


def pytest_collection_modifyitems(items: list[pytest.Item]) -> None:
    """Files with a slow test first, otherwise in the usual order. Under xdist (`--dist loadfile
    --no-loadscope-reorder`, see pyproject.toml) the longest files start at once and the short ones
    fill in around them, rather than one worker running a five-minute file alone at the end."""
    slow_files = {item.path for item in items if item.get_closest_marker("slow")}
    items.sort(key=lambda item: item.path not in slow_files)


def pytest_report_header(config: pytest.Config) -> str:
    return f"CI={os.environ.get('CI', '')!r}: PostgreSQL and Redis are {'required' if databases.IN_CI else 'optional'}"


@pytest.fixture(scope="session")
def recorder_process() -> Iterator[Any]:
    from tests.support.recorder import RecorderProcess

    process = RecorderProcess()
    yield process
    process.stop()


@pytest.fixture
def recorder(recorder_process: Any) -> Any:
    """The local stand-in for the outside world, emptied for each test."""
    httpx.post(f"{recorder_process.base}/reset", timeout=10)
    return recorder_process
