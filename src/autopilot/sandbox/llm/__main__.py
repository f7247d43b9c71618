"""`python -m autopilot.sandbox.llm --host 127.0.0.1 --port 8020 [--api-key KEY] [--model NAME]`."""

from __future__ import annotations

import argparse

from autopilot.sandbox.llm.app import serve
from autopilot.sandbox.llm.config import SANDBOX_KEY, SANDBOX_MODEL, LLMSandboxConfig


def main(argv: list[str] | None = None) -> None:
    parser = argparse.ArgumentParser(prog="python -m autopilot.sandbox.llm", description="OpenAI-compatible sandbox")
    parser.add_argument("--host", default="127.0.0.1")
    parser.add_argument("--port", type=int, default=8020)
    parser.add_argument("--api-key", action="append", help=f"a key it accepts (repeatable; default {SANDBOX_KEY})")
    parser.add_argument("--model", action="append", help=f"a model it serves (repeatable; default {SANDBOX_MODEL})")
    parser.add_argument("--latency-ms", type=int, default=0)
    args = parser.parse_args(argv)
    config = LLMSandboxConfig(
        api_keys=tuple(args.api_key or (SANDBOX_KEY,)),
        models=tuple(args.model or (SANDBOX_MODEL,)),
        latency_ms=args.latency_ms,
    )
    serve(args.host, args.port, config)


if __name__ == "__main__":
    main()
