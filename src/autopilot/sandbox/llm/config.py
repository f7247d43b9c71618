"""What the LLM sandbox plays: its keys and models."""

from __future__ import annotations

from dataclasses import dataclass

SANDBOX_KEY = "sandbox-llm-key"  # the sandbox's public test key
SANDBOX_MODEL = "sandbox-writer"


@dataclass(frozen=True)
class LLMSandboxConfig:
    api_keys: tuple[str, ...] = (SANDBOX_KEY,)
    models: tuple[str, ...] = (SANDBOX_MODEL,)
    latency_ms: int = 0
