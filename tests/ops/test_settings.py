"""Settings: embedded mode keeps generated secrets; production refuses weak ones."""

from __future__ import annotations

import os
import subprocess
import sys
from pathlib import Path

import pytest
from sqlalchemy import text

from autopilot.app import create_app
from autopilot.config import ConfigError, Settings
from tests.support import databases


def test_embedded_mode_generates_secrets_once_and_keeps_them(tmp_path: Path) -> None:
    first = Settings(data_dir=tmp_path, secret_key="", encryption_keys="").resolve_secrets()
    second = Settings(data_dir=tmp_path, secret_key="", encryption_keys="").resolve_secrets()
    assert len(first.secret_key) >= 32
    assert (first.secret_key, first.encryption_keys) == (second.secret_key, second.encryption_keys)
    assert oct((tmp_path / "secret_key").stat().st_mode)[-3:] == "600"


@pytest.mark.parametrize("key", ["", "changeme", "short-key"])
def test_production_refuses_a_missing_or_weak_secret_key(tmp_path: Path, key: str) -> None:
    with pytest.raises(ConfigError, match="AUTOPILOT_SECRET_KEY is missing or weak"):
        Settings(env="production", data_dir=tmp_path, secret_key=key, encryption_keys="x").resolve_secrets()


def test_production_refusal_reaches_the_command_line_as_a_readable_message(tmp_path: Path) -> None:
    env = {
        **os.environ,
        "AUTOPILOT_ENV": "production",
        "AUTOPILOT_SECRET_KEY": "changeme",
        "AUTOPILOT_DATA_DIR": str(tmp_path),
    }
    done = subprocess.run(
        [sys.executable, "-m", "autopilot.cli", "migrate"], env=env, capture_output=True, text=True, timeout=60
    )
    assert done.returncode == 2
    assert "AUTOPILOT_SECRET_KEY is missing or weak" in done.stderr
    assert "Traceback" not in done.stderr


def test_database_urls_people_already_have_get_our_async_drivers(tmp_path: Path) -> None:
    pg = Settings(data_dir=tmp_path, database_url="postgresql://u@db:5432/app")
    assert pg.sqlalchemy_url == "postgresql+asyncpg://u@db:5432/app"
    default = Settings(data_dir=tmp_path)
    assert default.sqlalchemy_url.startswith("sqlite+aiosqlite:///") and default.is_sqlite


async def test_the_sqlite_busy_timeout_setting_reaches_the_writer_and_reader_connections(
    tmp_path: Path, sqlite_template: Path
) -> None:
    url = databases.sqlite_copy(sqlite_template, tmp_path)
    settings = Settings(
        env="test", data_dir=tmp_path / "data", database_url=url, run_job_engine=False, sqlite_busy_timeout_ms=1234
    )
    app = create_app(settings)
    async with app.router.lifespan_context(app):
        for sessions in (app.state.sessions, app.state.readers):
            async with sessions() as session:
                assert (await session.execute(text("PRAGMA busy_timeout"))).scalar() == 1234
