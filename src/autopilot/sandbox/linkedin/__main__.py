"""`python -m autopilot.sandbox.linkedin --host 127.0.0.1 --port 8765 [--auto-approve] [--no-refresh]`."""

from __future__ import annotations

import argparse

from autopilot.sandbox.linkedin.app import serve
from autopilot.sandbox.linkedin.config import SandboxConfig


def main(argv: list[str] | None = None) -> None:
    parser = argparse.ArgumentParser(prog="python -m autopilot.sandbox.linkedin", description="LinkedIn sandbox")
    parser.add_argument("--host", default="127.0.0.1")
    parser.add_argument("--port", type=int, default=8765)
    parser.add_argument("--auto-approve", action="store_true", help="skip the consent page")
    parser.add_argument("--no-refresh", action="store_true", help="a self-serve app: no refresh tokens")
    parser.add_argument("--latency-ms", type=int, default=0)
    args = parser.parse_args(argv)
    config = SandboxConfig(
        auto_approve=args.auto_approve, refresh_enabled=not args.no_refresh, latency_ms=args.latency_ms
    )
    serve(args.host, args.port, config)


if __name__ == "__main__":
    main()
