"""The API's input contract holds for every route, present and future.

Read from the app's own OpenAPI document and route table, so the next route that takes an
unbounded integer, a body not built on `kit.inputs.Input`, or leaves an answer undocumented fails
here, before a fuzzer or a user finds the 500."""

from __future__ import annotations

from collections.abc import Iterator
from typing import Any

import annotated_types
import pytest
from fastapi import FastAPI, params
from fastapi.dependencies.utils import get_flat_params
from fastapi.routing import APIRoute
from pydantic import BaseModel

from autopilot.app import create_app
from autopilot.config import Settings
from autopilot.kit.errors import PROBLEM_JSON
from autopilot.kit.inputs import BIGINT_MAX, INPUT_MARK, Input, NulFreeUrlMiddleware

METHODS = {"get", "put", "post", "delete", "patch", "head", "options", "trace"}


class CarelessBody(BaseModel):  # what a route that forgets kit.inputs would take
    note: str


@pytest.fixture(scope="module")
def app(tmp_path_factory: pytest.TempPathFactory) -> FastAPI:
    data = tmp_path_factory.mktemp("contract")
    return create_app(Settings(env="test", data_dir=data, database_url=f"sqlite:///{data / 'unused.db'}"))


@pytest.fixture(scope="module")
def document(app: FastAPI) -> dict[str, Any]:
    return app.openapi()


def operations(document: dict[str, Any]) -> Iterator[tuple[str, dict[str, Any]]]:
    for path, item in document["paths"].items():
        for method, operation in item.items():
            if method in METHODS:
                yield f"{method.upper()} {path}", operation


def resolve(document: dict[str, Any], schema: dict[str, Any]) -> dict[str, Any]:
    while "$ref" in schema:
        name = schema["$ref"].removeprefix("#/components/schemas/")
        schema = document["components"]["schemas"][name]
    return schema


def variants(document: dict[str, Any], schema: dict[str, Any]) -> Iterator[dict[str, Any]]:
    """The schema itself, or each choice of an anyOf/oneOf (as `int | None` is)."""
    schema = resolve(document, schema)
    choices = schema.get("anyOf") or schema.get("oneOf")
    if choices:
        for choice in choices:
            yield from variants(document, choice)
    else:
        yield schema


def unbounded_in_document(document: dict[str, Any]) -> list[str]:
    """Path and query integers of the document without a minimum and a 64-bit maximum."""
    unbounded = []
    for label, operation in operations(document):
        for parameter in operation.get("parameters", []):
            if parameter["in"] not in ("path", "query"):
                continue
            for schema in variants(document, parameter["schema"]):
                if schema.get("type") != "integer":
                    continue
                if "minimum" not in schema or schema.get("maximum", BIGINT_MAX + 1) > BIGINT_MAX:
                    unbounded.append(f"{label} {parameter['name']}")
    return unbounded


def unbounded_in_routes(app: FastAPI) -> list[str]:
    """The same, read from the route table: pages are not in the document, yet reach the same database."""
    unbounded = []
    for route in app.routes:
        if not isinstance(route, APIRoute):
            continue
        for field in get_flat_params(route.dependant):
            if not isinstance(field.field_info, params.Path | params.Query):
                continue
            annotation = field.field_info.annotation
            if int not in (annotation, *getattr(annotation, "__args__", ())):
                continue
            maxima = [m.le for m in field.field_info.metadata if isinstance(m, annotated_types.Le)]
            if not maxima or maxima[0] > BIGINT_MAX:
                unbounded.append(f"{sorted(route.methods)} {route.path} {field.name}")
    return unbounded


def loose_bodies(document: dict[str, Any], app: FastAPI) -> list[str]:
    """Request bodies not built on Input: in the document (no additionalProperties: false or no
    mark), or in the route table (the model is not an Input subclass)."""
    loose = []
    for label, operation in operations(document):
        body = operation.get("requestBody")
        if body is None:
            continue
        for media in body["content"].values():
            for schema in variants(document, media["schema"]):
                if schema.get("additionalProperties") is not False or schema.get(INPUT_MARK) is not True:
                    loose.append(label)
    for route in app.routes:
        if isinstance(route, APIRoute) and route.body_field is not None:
            model = route.body_field.field_info.annotation
            if not (isinstance(model, type) and issubclass(model, Input)):
                loose.append(f"{sorted(route.methods)} {route.path}")
    return loose


def test_every_integer_in_a_path_or_query_is_bounded_to_64_bits(document: dict[str, Any], app: FastAPI) -> None:
    unbounded = unbounded_in_document(document) + unbounded_in_routes(app)
    assert not unbounded, f"declare them with kit.inputs (RowID, Offset, Limit …): {unbounded}"


def test_every_request_body_is_built_on_input(document: dict[str, Any], app: FastAPI) -> None:
    loose = loose_bodies(document, app)
    assert not loose, f"request bodies must derive from kit.inputs.Input (refuses unknown fields and NUL): {loose}"


def test_the_url_is_checked_for_nul_before_any_route(app: FastAPI) -> None:
    assert any(middleware.cls is NulFreeUrlMiddleware for middleware in app.user_middleware)


def test_the_edge_answers_are_documented_on_every_operation(document: dict[str, Any]) -> None:
    missing = []
    for label, operation in operations(document):
        statuses = set(operation["responses"])
        expected = {"422"}
        if "requestBody" in operation:
            expected |= {"400", "413"}
        if operation.get("security"):
            expected.add("401")
        if any(p["in"] == "path" for p in operation.get("parameters", [])):
            expected.add("404")
        if not expected <= statuses:
            missing.append(f"{label}: {sorted(expected - statuses)}")
    assert not missing, missing


def test_every_client_error_is_documented_as_problem_json(document: dict[str, Any]) -> None:
    wrong = [
        f"{label} {status}"
        for label, operation in operations(document)
        for status, response in operation["responses"].items()
        if status.startswith("4") and list(response.get("content", {})) != [PROBLEM_JSON]
    ]
    assert not wrong, wrong


def test_login_documents_its_throttle(document: dict[str, Any]) -> None:
    login = document["paths"]["/api/v1/auth/login"]["post"]["responses"]
    assert "429" in login
    assert "Retry-After" in login["429"]["headers"]


def test_a_route_that_forgets_the_contract_is_caught() -> None:
    """The guard can fail: a bare int id and a plain BaseModel body are both reported."""
    careless = FastAPI()

    @careless.post("/things/{thing_id}")
    async def careless_route(thing_id: int, body: CarelessBody) -> None:
        return None

    assert unbounded_in_document(careless.openapi()) == ["POST /things/{thing_id} thing_id"]
    assert unbounded_in_routes(careless) == ["['POST'] /things/{thing_id} thing_id"]
    assert len(loose_bodies(careless.openapi(), careless)) == 2
