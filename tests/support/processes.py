"""Start our own commands as real processes for crash tests; stop only those, by pid."""

from __future__ import annotations

import asyncio
import os
import signal
import subprocess
import sys
from pathlib import Path

from sqlalchemy import func, select

from autopilot.kit.db import make_engine, make_sessionmaker
from autopilot.worker.models import Job

REPO = Path(__file__).resolve().parents[2]


class Processes:
    """The processes one test started; all are killed at the end."""

    def __init__(self, env: dict[str, str], logs: Path) -> None:
        self.env = {**os.environ, "PYTHONPATH": str(REPO), **env}
        self.logs = logs
        self.started: list[subprocess.Popen[bytes]] = []

    def start(self, *args: str, name: str) -> subprocess.Popen[bytes]:
        log = open(self.logs / f"{name}-{len(self.started)}.log", "wb")  # noqa: SIM115
        process = subprocess.Popen(
            [sys.executable, "-m", "autopilot.cli", *args], cwd=REPO, env=self.env, stdout=log, stderr=subprocess.STDOUT
        )
        self.started.append(process)
        return process

    @staticmethod
    def kill(process: subprocess.Popen[bytes]) -> None:
        """SIGKILL: no clean-up, no goodbye, exactly like a crash or an OOM kill."""
        if process.poll() is None:
            process.send_signal(signal.SIGKILL)
            process.wait(10)

    def stop_all(self) -> None:
        for process in self.started:
            self.kill(process)


async def status_counts(url: str) -> dict[str, int]:
    engine = make_engine(url)
    try:
        async with make_sessionmaker(engine)() as session:
            rows = (await session.execute(select(Job.status, func.count()).group_by(Job.status))).all()
            return {status: count for status, count in rows}
    finally:
        await engine.dispose()


async def wait_until_all(url: str, total: int, status: str, timeout: float) -> dict[str, int]:
    counts: dict[str, int] = {}
    async with asyncio.timeout(timeout):
        while counts.get(status, 0) < total:
            await asyncio.sleep(0.5)
            counts = await status_counts(url)
    return counts


def base_env(tmp_path: Path, url: str) -> dict[str, str]:
    """Our commands on *url* with the test job kinds, short leases and quick ticks."""
    return {
        "AUTOPILOT_DATABASE_URL": url,
        "AUTOPILOT_DATA_DIR": str(tmp_path / "data"),
        "AUTOPILOT_ENV": "test",
        "AUTOPILOT_JOB_MODULES": "tests.support.jobkinds",
        "AUTOPILOT_LEASE_S": "4",
        "AUTOPILOT_REAPER_INTERVAL_S": "0.5",
        "AUTOPILOT_HEARTBEAT_INTERVAL_S": "1",
        "AUTOPILOT_DISPATCH_INTERVAL_S": "0.2",
        "AUTOPILOT_LOG_LEVEL": "WARNING",
    }
