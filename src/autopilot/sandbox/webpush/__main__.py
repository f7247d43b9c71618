"""`python -m autopilot.sandbox.webpush --host 127.0.0.1 --port 8030`."""

from __future__ import annotations

import argparse

from autopilot.sandbox.webpush.app import serve


def main(argv: list[str] | None = None) -> None:
    parser = argparse.ArgumentParser(
        prog="python -m autopilot.sandbox.webpush", description="Web Push service emulator"
    )
    parser.add_argument("--host", default="127.0.0.1")
    parser.add_argument("--port", type=int, default=8030)
    args = parser.parse_args(argv)
    serve(args.host, args.port)


if __name__ == "__main__":
    main()
