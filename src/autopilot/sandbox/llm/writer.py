"""The sandbox's deterministic answer: built from the prompt, so a test can say what it must contain."""

from __future__ import annotations

import hashlib
import json
import math
import re
from collections.abc import Sequence
from typing import Any

MAX_BULLETS = 8
CHARS_PER_TOKEN = 4  # the usual rough rule for English text
_BULLET = re.compile(r"^\s*[-*•]\s+(.+?)\s*$")
_TOPIC = re.compile(r"^\s*topic\s*:\s*(.+?)\s*$", re.IGNORECASE)


def text_of(content: Any) -> str:
    """A message's content: a string, or OpenAI's list of parts ({"type": "text", "text": …})."""
    if isinstance(content, str):
        return content
    if isinstance(content, list):
        return "\n".join(str(p.get("text", "")) for p in content if isinstance(p, dict))
    return ""


def digest(messages: Sequence[dict[str, Any]]) -> str:
    raw = json.dumps([[m.get("role"), text_of(m.get("content"))] for m in messages], ensure_ascii=False)
    return hashlib.sha256(raw.encode()).hexdigest()[:12]


def tokens(text: str) -> int:
    return max(math.ceil(len(text) / CHARS_PER_TOKEN), 1) if text else 0


def compose(messages: Sequence[dict[str, Any]], model: str) -> str:
    """The post the sandbox "writes" for these messages."""
    user = next((text_of(m.get("content")) for m in reversed(messages) if m.get("role") == "user"), "")
    lines = user.splitlines()
    topic = next((m.group(1) for line in lines if (m := _TOPIC.match(line))), "")
    topic = topic or next((line.strip() for line in lines if line.strip()), "your topic")
    bullets = [m.group(1) for line in lines if (m := _BULLET.match(line))][:MAX_BULLETS]
    words = len(" ".join(text_of(m.get("content")) for m in messages).split())
    parts = [f"A few honest words about {topic[:120]}."]
    if bullets:
        parts.append("\n".join(f"→ {b}" for b in bullets))
    parts.append(f"Written by {model} from a prompt of {words} words (digest {digest(messages)}).")
    return "\n\n".join(parts)


def limit(text: str, max_tokens: int | None) -> tuple[str, str]:
    """(*text* cut to *max_tokens*, the finish reason): "length" when it had to stop early."""
    if max_tokens is None or tokens(text) <= max_tokens:
        return text, "stop"
    return text[: max_tokens * CHARS_PER_TOKEN], "length"
