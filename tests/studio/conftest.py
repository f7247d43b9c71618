"""Studio tests reach the LLM as the app does in production: over HTTP, through the official
`openai` SDK, to the LLM sandbox running as a server process of its own; each test starts from a
reset sandbox."""

from __future__ import annotations

from collections.abc import Iterator

import pytest

from autopilot.config import Settings
from tests.support.llm_sandbox import KEY, MODEL, LLMControl, LLMSandboxServer


@pytest.fixture(scope="session")
def llm_server() -> Iterator[LLMSandboxServer]:
    with LLMSandboxServer() as server:
        yield server


@pytest.fixture
def llm(llm_server: LLMSandboxServer) -> Iterator[LLMControl]:
    control = LLMControl(llm_server.url)
    control.reset()
    yield control
    control.reset()


@pytest.fixture
def settings(settings: Settings, llm_server: LLMSandboxServer) -> Settings:
    """The app's settings pointed at the LLM sandbox server; no retries, so a fault is seen at once."""
    update = {
        "llm_base_url": llm_server.api_url,
        "llm_api_key": KEY,
        "llm_model": MODEL,
        "llm_timeout_s": 5.0,
        "llm_max_retries": 0,
    }
    return settings.model_copy(update=update)
