"""The yardstick for an API call: one empty FastAPI endpoint, served by uvicorn with the same
settings as `autopilot serve` (uvicorn.run, log_config=None, proxy_headers=True, its own process).

    python -m bench._support.empty_app --port N      # GET /empty -> {}
"""

from __future__ import annotations

import argparse
import os
import subprocess
import sys
from pathlib import Path

from fastapi import FastAPI
from tests.support.recorder import REPO, free_port, wait_http

app = FastAPI()


@app.get("/empty")
async def empty() -> dict[str, str]:
    return {}


@app.get("/healthz")
async def healthz() -> dict[str, str]:
    return {"status": "ok"}


class EmptyProcess:
    """The empty app in its own process on a free port, stopped by its pid."""

    def __init__(self, log_path: Path) -> None:
        self.port = free_port()
        self.base_url = f"http://127.0.0.1:{self.port}"
        self.log_path = log_path
        with log_path.open("wb") as log:
            self.process = subprocess.Popen(
                [sys.executable, "-m", "bench._support.empty_app", "--port", str(self.port)],
                cwd=REPO,
                env={**os.environ, "PYTHONPATH": str(REPO)},
                stdout=log,
                stderr=subprocess.STDOUT,
            )
        wait_http(f"{self.base_url}/healthz")

    def stop(self) -> None:
        if self.process.poll() is None:
            self.process.terminate()
            try:
                self.process.wait(15)
            except subprocess.TimeoutExpired:
                self.process.kill()
                self.process.wait(10)


def main() -> None:
    import uvicorn

    parser = argparse.ArgumentParser()
    parser.add_argument("--port", type=int, required=True)
    args = parser.parse_args()
    uvicorn.run(app, host="127.0.0.1", port=args.port, log_config=None, proxy_headers=True)


if __name__ == "__main__":
    main()
