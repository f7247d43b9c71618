"""Schemathesis over the app's whole OpenAPI document, on SQLite and on PostgreSQL.

The run is the one `schemathesis run` makes (examples, coverage, fuzzing and stateful phases) over
every operation, sign-up and login included, valid and invalid requests alike, each sent as a real
signed-up user. Every answer must pass the standard checks: not a server error, a documented status
code, the documented content type, a body that matches the documented schema.

The app runs in-process in schemathesis's own event loop (its ASGI transport starts the lifespan),
so the database engine lives where the requests run. Generation is deterministic and keeps no
example database, so CI sees the same cases every run. Each case carries a personal token minted
for it with a login token that no generated request ever sees: a generated logout or revocation
cannot lock the run out (the end of the test checks that it did not)."""

from __future__ import annotations

from collections import Counter
from collections.abc import Iterator
from pathlib import Path
from typing import Any

import hypothesis.configuration
import pytest
import schemathesis
from schemathesis.config import OperationConfig
from schemathesis.engine import Status, events
from schemathesis.python import asgi

from autopilot.app import create_app
from autopilot.config import Settings
from tests.support.accounts import PASSWORD

MAX_EXAMPLES = 30  # fuzzed cases per operation; the coverage phase adds its boundary cases
CHECKS = ["not_a_server_error", "status_code_conformance", "content_type_conformance", "response_schema_conformance"]
OWNER = "fuzz-owner@example.com"


def bearer(token: str) -> dict[str, str]:
    return {"Authorization": f"Bearer {token}"}


@pytest.fixture
def app_under_test(settings: Settings, tmp_path: Path) -> Iterator[Any]:
    # Hypothesis keeps what it learns (constants it found in our code) out of the work tree.
    hypothesis.configuration.set_hypothesis_home_dir(tmp_path / "hypothesis")
    app = create_app(settings)
    try:
        yield app
    finally:
        asgi.shutdown_lifespans()  # the engine is disposed before the database is dropped


def load_schema(app: Any, login_token: str, http: asgi.ASGIClient) -> schemathesis.BaseSchema:
    schema = schemathesis.openapi.from_asgi("/openapi.json", app)
    schema.config.seed = 20260101
    schema.config.generation.update(max_examples=MAX_EXAMPLES, deterministic=True, database="none")
    schema.config.checks.update(included_check_names=CHECKS)
    # Not ready is what /readyz is for: here no job engine runs, so it answers its documented 503.
    readiness = {
        "include-path": "/readyz",
        "checks": {"not_a_server_error": {"expected-statuses": ["2xx", "4xx", 503]}},
    }
    schema.config.operations.operations.append(OperationConfig.from_dict(readiness))

    @schema.auth(refresh_interval=None)
    class FreshPersonalToken:
        def get(self, case: schemathesis.Case, ctx: Any) -> str:
            made = http.post("/api/v1/tokens", json={"name": "fuzz"}, headers=bearer(login_token))
            assert made.status_code == 201, made.text
            return str(made.json()["token"])

        def set(self, case: schemathesis.Case, token: str, ctx: Any) -> None:
            case.headers = {**(case.headers or {}), **bearer(token)}

    return schema


def failures_of(event: events.ScenarioFinished) -> list[str]:
    found = []
    for nodes in event.recorder.checks.values():
        for node in nodes:
            if node.status == Status.FAILURE and node.failure_info is not None:
                failure = node.failure_info.failure
                found.append(
                    f"{event.recorder.label}: {failure.title}\n{failure.message}\n{node.failure_info.code_sample}"
                )
    return found


def test_every_answer_conforms_to_the_document(app_under_test: Any) -> None:
    app = app_under_test
    with asgi.get_client(app) as http:
        signup = {"email": OWNER, "password": PASSWORD, "organization_name": "Fuzz Co"}
        assert http.post("/api/v1/auth/signup", json=signup).status_code == 202
        login = http.post("/api/v1/auth/login", json={"email": OWNER, "password": PASSWORD})
        assert login.status_code == 200, login.text
        login_token = login.json()["access_token"]
        schema = load_schema(app, login_token, http)

        cases: Counter[str] = Counter()
        problems: list[str] = []
        errors: list[str] = []
        for event in schemathesis.engine.from_schema(schema).execute():
            if isinstance(event, events.ScenarioFinished):
                cases[event.recorder.label] += len(event.recorder.interactions)
                problems.extend(failures_of(event))
            elif isinstance(event, events.NonFatalError | events.FatalError):
                errors.append(
                    f"{getattr(event, 'label', '')}: {event.info.format() if hasattr(event, 'info') else event}"
                )

        print(f"\nschemathesis: {sum(cases.values())} requests over {len(cases)} operations")
        for label, count in sorted(cases.items()):
            print(f"  {count:5d}  {label}")
        assert not errors, "\n\n".join(errors)
        assert not problems, f"{len(problems)} failing checks:\n\n" + "\n\n".join(dict.fromkeys(problems))

        me = http.get("/api/v1/me", headers=bearer(login_token))  # the run did not lock its user out
        assert me.status_code == 200, me.text
        assert me.json()["role"] == "owner"
