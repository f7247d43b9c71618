"""Scheduling tests publish through the LinkedIn sandbox server, like the LinkedIn tests."""

from tests.linkedin.conftest import sandbox, sandbox_defaults, sandbox_server, settings

__all__ = ["sandbox", "sandbox_defaults", "sandbox_server", "settings"]
