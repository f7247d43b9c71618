"""LinkedIn tests talk to the sandbox as a real server process over HTTP (as the app talks to
LinkedIn); each test starts from a reset sandbox."""

from __future__ import annotations

from collections.abc import Iterator
from typing import Any

import pytest

from autopilot.config import Settings
from tests.support.linkedin_sandbox import SandboxControl, SandboxServer


@pytest.fixture(scope="session")
def sandbox_server() -> Iterator[SandboxServer]:
    with SandboxServer() as server:
        yield server


@pytest.fixture(scope="session")
def sandbox_defaults(sandbox_server: SandboxServer) -> dict[str, Any]:
    return SandboxControl(sandbox_server.url).app()


@pytest.fixture
def sandbox(sandbox_server: SandboxServer, sandbox_defaults: dict[str, Any]) -> Iterator[SandboxControl]:
    """The sandbox as LinkedIn is by default: its settings restored, its memory and faults cleared."""
    control = SandboxControl(sandbox_server.url)
    control.reset()
    control.set_app(**sandbox_defaults)
    yield control
    control.reset()


@pytest.fixture
def settings(settings: Settings, sandbox: SandboxControl) -> Settings:
    """The app's settings, pointed at the sandbox server (no LinkedIn credentials: sandbox mode)."""
    return settings.model_copy(update={"linkedin_auth_url": sandbox.url, "linkedin_api_url": sandbox.url})
