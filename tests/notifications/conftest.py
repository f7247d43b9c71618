"""The Web Push service emulator, one process for the whole run (each test makes its own devices)."""

from __future__ import annotations

from collections.abc import Iterator

import pytest

from tests.support.webpush import PushService


@pytest.fixture(scope="session")
def push_service() -> Iterator[PushService]:
    with PushService() as service:
        yield service
