"""Run the real `autopilot` command in a process of its own, as an operator types it."""

from __future__ import annotations

import os
import subprocess
import sys
from pathlib import Path

REPO = Path(__file__).resolve().parents[2]


def autopilot(*args: str, env: dict[str, str], cwd: Path = REPO) -> subprocess.CompletedProcess[str]:
    """`autopilot ARGS` with *env* over the environment (AUTOPILOT_* settings); output captured."""
    inherited = {k: v for k, v in os.environ.items() if not k.startswith("AUTOPILOT_")}
    return subprocess.run(
        [sys.executable, "-m", "autopilot.cli", *args],
        env={**inherited, "PYTHONPATH": str(REPO), **env},
        cwd=cwd,
        capture_output=True,
        text=True,
        timeout=120,
        stdin=subprocess.DEVNULL,
    )
