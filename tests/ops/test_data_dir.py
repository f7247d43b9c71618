"""The data dir holds the database and the keys: `autopilot migrate` makes it private (0700, files
0600), and tightens one that an earlier version or a person left open to other accounts."""

from __future__ import annotations

import sqlite3
import stat
from pathlib import Path

from tests.support.cli import autopilot


def mode(path: Path) -> int:
    return stat.S_IMODE(path.stat().st_mode)


def migrate(data_dir: Path, cwd: Path) -> str:
    # The default database: SQLite in the data dir, keys generated there on first run.
    done = autopilot("migrate", env={"AUTOPILOT_DATA_DIR": str(data_dir), "AUTOPILOT_ENV": "development"}, cwd=cwd)
    assert done.returncode == 0, done.stderr
    return done.stderr


def test_migrate_creates_a_private_data_dir_and_database(tmp_path: Path) -> None:
    data = tmp_path / "fresh" / "data"
    migrate(data, tmp_path)
    database = data / "autopilot.db"
    assert mode(data) == 0o700
    assert mode(database) == 0o600
    assert mode(data / "secret_key") == mode(data / "encryption_keys") == 0o600
    # SQLite's journal files, made when the database is next opened, are as private as it is.
    with sqlite3.connect(database) as connection:
        connection.execute("SELECT count(*) FROM alembic_version").fetchall()
        assert mode(Path(f"{database}-wal")) == mode(Path(f"{database}-shm")) == 0o600
    connection.close()


def test_migrate_tightens_a_data_dir_left_open(tmp_path: Path) -> None:
    data = tmp_path / "data"
    data.mkdir(mode=0o755)
    data.chmod(0o755)
    database = data / "autopilot.db"
    database.touch()
    database.chmod(0o644)

    warnings = migrate(data, tmp_path)
    assert mode(data) == 0o700
    assert mode(database) == 0o600
    assert "open to other accounts" in warnings
