"""LinkedIn tests talk to the sandbox as a real server process over HTTP (as the app talks to
LinkedIn); each test starts from a reset sandbox."""

from __future__ import annotations

from collections.abc import Iterator

import pytest

from autopilot.config import Settings
from tests.support.linkedin_sandbox import SandboxControl, SandboxServer


@pytest.fixture(scope="session")
def sandbox_server() -> Iterator[SandboxServer]:
    with SandboxServer() as server:
        yield server


@pytest.fixture
def sandbox(sandbox_server: SandboxServer) -> Iterator[SandboxControl]:
    control = SandboxControl(sandbox_server.url)
    control.reset()
    yield control
    control.reset()


@pytest.fixture
def settings(settings: Settings, sandbox: SandboxControl) -> Settings:
    """The app's settings, pointed at the sandbox server (no LinkedIn credentials: sandbox mode)."""
    return settings.model_copy(update={"linkedin_auth_url": sandbox.url, "linkedin_api_url": sandbox.url})
