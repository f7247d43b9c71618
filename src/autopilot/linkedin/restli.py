"""Rest.li 2.0 encoding of path keys and query strings (research/linkedin-api-contract.md §2.3).

Values are percent-encoded; the Rest.li syntax around them stays literal: lists `List(a,b)`,
records `(k:v,k2:v2)` with sorted keys, the empty string `''`, booleans `true`/`false`. Keys of
the query are sorted, as LinkedIn's own clients do; `fields` projections pass through unencoded."""

from __future__ import annotations

from collections.abc import Mapping, Sequence
from typing import Any
from urllib.parse import quote

RestliValue = str | int | float | bool | Sequence[Any] | Mapping[str, Any] | None


def encode(value: RestliValue) -> str:
    if value is None:
        return ""
    if isinstance(value, bool):
        return "true" if value else "false"
    if isinstance(value, int | float):
        return str(value)
    if isinstance(value, str):
        return quote(value, safe="") if value else "''"
    if isinstance(value, Mapping):
        return "(" + ",".join(f"{quote(str(k), safe='')}:{encode(value[k])}" for k in sorted(value)) + ")"
    return "List(" + ",".join(encode(v) for v in value) + ")"


def path_key(urn: str) -> str:
    """A URN as a path segment: every reserved character encoded (`:` → %3A, `(` → %28 …)."""
    return quote(urn, safe="")


def query(params: Mapping[str, RestliValue]) -> str:
    parts = []
    for key in sorted(params):
        value = params[key]
        if value is None:
            continue
        encoded = ",".join(str(v) for v in value) if key == "fields" and isinstance(value, list) else value
        parts.append(f"{key}={encoded}" if key == "fields" else f"{quote(key, safe='')}={encode(value)}")
    return "&".join(parts)
