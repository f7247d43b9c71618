"""What the edge accepts, declared once: ids, offsets and limits that fit a 64-bit column, and text
without NUL characters (PostgreSQL refuses them, SQLite keeps them: both must answer alike).

A route declares its path and query integers with these types and its request body with `Input`;
the URL itself (path and query string) is checked for NUL by `NulFreeUrlMiddleware`, so a new
route is covered without thinking about it. tests/architecture/test_api_contract.py fails when a
route forgets."""

from __future__ import annotations

from collections.abc import Iterable
from typing import Annotated, Any
from urllib.parse import parse_qsl

from fastapi import Path, Query
from pydantic import BaseModel, ConfigDict, field_validator
from starlette.types import ASGIApp, Receive, Scope, Send

from autopilot.kit.errors import BadRequest, problem

BIGINT_MAX = 2**63 - 1  # the largest id, offset or count a BIGINT (and SQLite's INTEGER) holds
PAGE_MAX = 500
NUL_REFUSED = "text must not contain NUL characters"
INPUT_MARK = "x-refuses-nul"  # set on the JSON schema of every Input, so the API contract test can see the base

# Path and query integers. Out of range is a 422 that names the parameter, never a database overflow.
RowID = Annotated[int, Path(ge=1, le=BIGINT_MAX, description="A row id (a positive 64-bit integer)")]
JobID = Annotated[int, Path(ge=1, le=BIGINT_MAX, description="The job's id")]
Offset = Annotated[int, Query(ge=0, le=BIGINT_MAX, description="How many items to skip")]
Limit = Annotated[int, Query(ge=1, le=PAGE_MAX, description=f"How many items to return, at most {PAGE_MAX}")]


def find_nul(value: Any) -> str | None:
    """Where *value* holds a NUL character: "" for itself, "[2].name" for nested text or a dict key;
    None when it holds none."""
    pending: list[tuple[str, Any]] = [("", value)]
    while pending:  # iterative: a deeply nested body cannot exhaust the stack
        where, item = pending.pop()
        if isinstance(item, str):
            if "\x00" in item:
                return where
        elif isinstance(item, bytes | bytearray):
            if b"\x00" in item:
                return where
        elif isinstance(item, dict):
            for key, nested in item.items():
                name = key if isinstance(key, str) else repr(key)
                if "\x00" in name:
                    return f"{where}.<key>" if where else "<key>"
                pending.append((f"{where}.{name}" if where else name, nested))
        elif isinstance(item, list | tuple | set | frozenset):
            pending.extend((f"{where}[{index}]", nested) for index, nested in enumerate(item))
    return None


class Input(BaseModel):
    """Base of every request body: unknown fields are refused, and so is a NUL character in any of its
    text, nested lists and dicts included (a readable 422 naming the field, on every database)."""

    model_config = ConfigDict(extra="forbid", json_schema_extra={INPUT_MARK: True})

    @field_validator("*", mode="before")
    @classmethod
    def _refuse_nul(cls, value: Any) -> Any:
        where = find_nul(value)
        if where is not None:
            raise ValueError(f"{NUL_REFUSED} (in {where})" if where else NUL_REFUSED)
        return value


def _nul_fields(path: str, query_string: bytes) -> list[str]:
    """The URL's parts that carry a NUL: "path", or the query parameters' names (decoded as Starlette does)."""
    fields = ["path"] if "\x00" in path else []
    pairs: Iterable[tuple[str, str]] = parse_qsl(query_string.decode("latin-1"), keep_blank_values=True)
    fields.extend(key.replace("\x00", "\\0") or "query" for key, value in pairs if "\x00" in key + value)
    return fields


class NulFreeUrlMiddleware:
    """Refuse a NUL character (raw or %00) in the path or query string with 422 problem+json, before
    any route, dependency or query sees it: every query and path parameter is covered at once."""

    def __init__(self, app: ASGIApp) -> None:
        self.app = app

    async def __call__(self, scope: Scope, receive: Receive, send: Send) -> None:
        if scope["type"] == "http":
            fields = _nul_fields(scope.get("path", ""), scope.get("query_string", b""))
            if fields:
                errors = [{"field": field, "message": NUL_REFUSED} for field in fields]
                sentence = "; ".join(f"{field}: {NUL_REFUSED}" for field in fields)
                await problem(422, f"Invalid input — {sentence}.", errors=errors)(scope, receive, send)
                return
        await self.app(scope, receive, send)


def version_from(if_match: str | None) -> int | None:
    """The version named by an If-Match header (`"3"`, `W/"3"` or `3`); None when absent or `*`."""
    if if_match is None or if_match.strip() == "*":
        return None
    raw = if_match.strip().removeprefix("W/").strip('"')
    if not raw.isdigit() or len(raw) > 9:
        raise BadRequest('If-Match must be the ETag of the version you read, like "3"')
    return int(raw)
