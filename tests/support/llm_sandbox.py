"""The LLM sandbox as a real server process, and a small client for its control API.

    with LLMSandboxServer() as server:
        control = LLMControl(server.url)
        control.faults([{"fault": "rate_limit", "retry_after_s": 7}])

`LLMSandboxServer` runs `python -m autopilot.sandbox.llm` (uvicorn) on a free port of 127.0.0.1,
waits until it answers and, on exit, stops only the process it started (by its pid)."""

from __future__ import annotations

from typing import Any

import httpx

from tests.support.emulators import EmulatorProcess

KEY = "test-llm-key"
MODEL = "test-writer"


class LLMSandboxServer(EmulatorProcess):
    """`python -m autopilot.sandbox.llm --port <free port> --api-key KEY --model MODEL` in its own process."""

    name = "llm-sandbox"
    command = ("-m", "autopilot.sandbox.llm")
    ready_path = "/_sandbox/requests"

    def __init__(self, ready_timeout: float = 30.0) -> None:
        super().__init__("--api-key", KEY, "--model", MODEL, ready_timeout=ready_timeout)

    @property
    def api_url(self) -> str:
        """What AUTOPILOT_LLM_BASE_URL is set to: the OpenAI-style root, /v1."""
        return f"{self.url}/v1"


class LLMControl:
    """The control API (/_sandbox/…) of an LLM sandbox at *url*."""

    def __init__(self, url: str) -> None:
        self.url = url.rstrip("/")
        self.http = httpx.Client(timeout=10)

    def _call(self, method: str, path: str, **kwargs: Any) -> Any:
        response = self.http.request(method, f"{self.url}/_sandbox{path}", **kwargs)
        response.raise_for_status()
        return response.json() if response.content else None

    def faults(self, rules: list[dict[str, Any]]) -> None:
        self._call("POST", "/faults", json={"rules": rules})

    def reply(self, content: str | None, finish_reason: str = "stop") -> None:
        self._call("POST", "/reply", json={"content": content, "finish_reason": finish_reason})

    def requests(self) -> list[dict[str, Any]]:
        received: list[dict[str, Any]] = self._call("GET", "/requests")["requests"]
        return received

    def stats(self) -> dict[str, int]:
        counts: dict[str, int] = self._call("GET", "/stats")["requests"]
        return counts

    def reset(self) -> None:
        self._call("POST", "/reset")
