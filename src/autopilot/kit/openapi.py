"""Shared OpenAPI declarations: every error is application/problem+json, and every status a route can
answer is in the document (schemathesis checks that answers conform to it).

Answers that come from the shared edge are added to every operation by `install_openapi`, so a new
route is documented without thinking: 422 (the URL may carry a NUL; parameters and bodies are
validated), 400 and 413 for a request body that cannot be read or is over the limit, 401 where a
token is required, 404 where the path names a resource. What only a service knows (403, 409,
429 …) each route declares with `problems()`."""

from __future__ import annotations

from collections.abc import Callable
from typing import Any

from fastapi import FastAPI
from pydantic import BaseModel, Field

from autopilot.kit.errors import PROBLEM_JSON


class Problem(BaseModel):
    """An error, as RFC 9457 describes it."""

    type: str = "about:blank"
    title: str
    status: int
    detail: str = Field(description="A sentence for a person: what is wrong and what to do.")


class FieldProblem(BaseModel):
    field: str = Field(description='The field, dotted for nested ones ("items.0.name"), "body" or "path".')
    message: str


class InvalidInput(Problem):
    errors: list[FieldProblem] = Field(default=[], description="One entry per refused field.")


_RETRY_AFTER = {"Retry-After": {"description": "Seconds to wait before trying again", "schema": {"type": "integer"}}}
_DESCRIPTIONS: dict[int, str] = {
    400: "The request body could not be read (not UTF-8, or a broken form)",
    401: "Not authenticated: the access token is missing, unknown, expired or revoked",
    403: "Forbidden: the caller's role does not allow this",
    404: "Not found (also for another organization's ids)",
    409: "Conflict: the resource is not in a state that allows this (the detail says why)",
    413: "The request body is larger than the limit",
    422: "Invalid input: the detail names each refused field (a NUL character anywhere in the URL included)",
    429: "Too many requests: wait the Retry-After seconds",
}


def _schema_of(model: type[BaseModel]) -> dict[str, Any]:
    return {"$ref": f"#/components/schemas/{model.__name__}"}


def problem_response(status: int, description: str | None = None) -> dict[str, Any]:
    """One `responses=` entry: *status* answered as application/problem+json (the schema's component
    is added to the document by `install_openapi`)."""
    model: type[Problem] = InvalidInput if status == 422 else Problem
    entry: dict[str, Any] = {
        "description": description or _DESCRIPTIONS.get(status, "Error"),
        "content": {PROBLEM_JSON: {"schema": _schema_of(model)}},
    }
    if status == 429:
        entry["headers"] = _RETRY_AFTER
    return entry


def problems(*statuses: int) -> dict[int | str, dict[str, Any]]:
    """`responses=` for a route that can answer these statuses (besides the edge's, added for it)."""
    return {status: problem_response(status) for status in statuses}


PROBLEMS = problems(422)  # every API router's default; install_openapi adds the rest of the edge's answers


def _add(operation: dict[str, Any], status: int) -> None:
    operation.setdefault("responses", {}).setdefault(str(status), problem_response(status))


def document_edge_answers(document: dict[str, Any]) -> dict[str, Any]:
    """Add to each operation of *document* the answers the shared edge gives (see the module's doc)."""
    schemas = document.setdefault("components", {}).setdefault("schemas", {})
    for model in (Problem, InvalidInput):
        if model.__name__ not in schemas:
            schema = model.model_json_schema(ref_template="#/components/schemas/{model}")
            schemas.update(schema.pop("$defs", {}))
            schemas[model.__name__] = schema
    for item in document.get("paths", {}).values():
        for method, operation in item.items():
            if method not in {"get", "put", "post", "delete", "options", "head", "patch", "trace"}:
                continue
            _add(operation, 422)
            if "requestBody" in operation:
                _add(operation, 400)
                _add(operation, 413)
            if operation.get("security"):
                _add(operation, 401)
            if any(p.get("in") == "path" for p in operation.get("parameters", [])):
                _add(operation, 404)
            operation["responses"] = dict(sorted(operation["responses"].items()))
    return document


def install_openapi(app: FastAPI) -> None:
    """Make the app's OpenAPI document carry the edge's answers (built once, on first request)."""
    build: Callable[[], dict[str, Any]] = app.openapi

    def openapi() -> dict[str, Any]:
        if app.openapi_schema is None:
            app.openapi_schema = document_edge_answers(build())
        return app.openapi_schema

    app.openapi = openapi  # type: ignore[method-assign]
