"""Content tests schedule through the LinkedIn sandbox server, like the LinkedIn tests, and reach
phones through the Web Push service emulator, like the notification tests."""

from tests.linkedin.conftest import sandbox, sandbox_defaults, sandbox_server, settings
from tests.notifications.conftest import push_service

__all__ = ["push_service", "sandbox", "sandbox_defaults", "sandbox_server", "settings"]
