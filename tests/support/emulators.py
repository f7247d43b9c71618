"""An emulator of an outside service (LinkedIn, an LLM server …) as a real server process on a free
port of 127.0.0.1: started, waited for until it answers, and stopped by its own pid only."""

from __future__ import annotations

import os
import subprocess
import sys
import tempfile
import time
from pathlib import Path
from types import TracebackType
from typing import Self

import httpx

from tests.support.recorder import REPO, free_port

START_ATTEMPTS = 3


class EmulatorProcess:
    """Runs `python <command> --host 127.0.0.1 --port <free port> <args>`; ready once *ready_path* answers 200."""

    name = "emulator"
    command: tuple[str, ...] = ()
    ready_path = "/"

    def __init__(self, *args: str, ready_timeout: float = 30.0) -> None:
        self.args = args
        self.ready_timeout = ready_timeout
        self.process: subprocess.Popen[bytes] | None = None
        self.port = 0
        self.log_path = Path(tempfile.gettempdir()) / f"{self.name}.log"

    @property
    def url(self) -> str:
        return f"http://127.0.0.1:{self.port}"

    def __enter__(self) -> Self:
        for attempt in range(1, START_ATTEMPTS + 1):
            self._spawn()
            if self._wait_ready():
                return self
            self.stop()
            # A free port can be taken between choosing it and binding it: choose again.
            if attempt == START_ATTEMPTS or "address already in use" not in self.log_tail().lower():
                raise RuntimeError(f"the {self.name} did not start; its log:\n{self.log_tail()}")
        raise AssertionError("unreachable")

    def __exit__(
        self, kind: type[BaseException] | None, error: BaseException | None, trace: TracebackType | None
    ) -> None:
        self.stop()

    def _spawn(self) -> None:
        self.port = free_port()
        fd, name = tempfile.mkstemp(prefix=f"{self.name}-{self.port}-", suffix=".log")
        os.close(fd)
        self.log_path = Path(name)
        env = {**os.environ, "PYTHONPATH": os.pathsep.join(p for p in (str(REPO), os.environ.get("PYTHONPATH")) if p)}
        command = [sys.executable, *self.command, "--host", "127.0.0.1", "--port", str(self.port), *self.args]
        with self.log_path.open("wb") as log:
            self.process = subprocess.Popen(command, cwd=REPO, env=env, stdout=log, stderr=subprocess.STDOUT)

    def _wait_ready(self) -> bool:
        assert self.process is not None
        deadline = time.monotonic() + self.ready_timeout
        while time.monotonic() < deadline:
            if self.process.poll() is not None:
                return False
            try:
                if httpx.get(f"{self.url}{self.ready_path}", timeout=1).status_code == 200:
                    return True
            except httpx.HTTPError:
                pass
            time.sleep(0.05)
        return False

    def stop(self) -> None:
        if self.process is not None and self.process.poll() is None:
            self.process.terminate()
            try:
                self.process.wait(10)
            except subprocess.TimeoutExpired:
                self.process.kill()
                self.process.wait(10)

    def log_tail(self, lines: int = 40) -> str:
        try:
            return "\n".join(self.log_path.read_text(errors="replace").splitlines()[-lines:])
        except OSError:
            return ""
