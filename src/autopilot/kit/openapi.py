"""Shared OpenAPI declarations: every error is application/problem+json."""

from __future__ import annotations

from typing import Any

from pydantic import BaseModel


class Problem(BaseModel):
    type: str = "about:blank"
    title: str
    status: int
    detail: str


_problem = {"model": Problem, "content": {"application/problem+json": {}}}
PROBLEMS: dict[int | str, dict[str, Any]] = {
    400: {**_problem, "description": "Bad request"},
    401: {**_problem, "description": "Not authenticated"},
    404: {**_problem, "description": "Not found (also for another organization's ids)"},
    422: {**_problem, "description": "Invalid input"},
}
