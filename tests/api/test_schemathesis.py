"""Schemathesis over the app's whole OpenAPI document, on SQLite and on PostgreSQL.

The run is the one `schemathesis run` makes (examples, coverage, fuzzing and stateful phases) over
every operation, sign-up and login included, valid and invalid requests alike, each sent as a real
signed-up user. Every answer must pass the standard checks: not a server error, a documented status
code, the documented content type, a body that matches the documented schema.

The app runs in-process in schemathesis's own event loop (its ASGI transport starts the lifespan),
so the database engine lives where the requests run. Generation is deterministic and keeps no
example database, so CI sees the same cases every run. Each case carries a personal token minted
for it with a login token that no generated request ever sees: a generated logout or revocation
cannot lock the run out (the end of the test checks that it did not).

The engine is driven directly (as the CLI does) rather than through `schema.parametrize()`: the
lazy, fixture-loaded form that a per-database app needs reads `Node._nodeid`, gone in pytest 9.2."""

from __future__ import annotations

from collections import Counter, defaultdict
from collections.abc import Iterator
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

import hypothesis.configuration
import pytest
import schemathesis
from fastapi import FastAPI
from schemathesis.config import OperationConfig
from schemathesis.engine import Status, events
from schemathesis.python import asgi

from autopilot.app import create_app
from autopilot.config import Settings
from tests.support.accounts import PASSWORD

MAX_EXAMPLES = 50  # fuzzed cases per operation; the coverage phase adds its boundary cases
CHECKS = ["not_a_server_error", "status_code_conformance", "content_type_conformance", "response_schema_conformance"]
OWNER = "fuzz-owner@example.com"
pytestmark = pytest.mark.slow  # about a minute for each database


def bearer(token: str) -> dict[str, str]:
    return {"Authorization": f"Bearer {token}"}


@pytest.fixture
def app_under_test(settings: Settings, tmp_path: Path) -> Iterator[FastAPI]:
    # What Hypothesis keeps (constants it read in our code) goes to a temporary folder, not the work tree.
    hypothesis.configuration.set_hypothesis_home_dir(tmp_path / "hypothesis")
    app = create_app(settings)
    try:
        yield app
    finally:
        asgi.shutdown_lifespans()  # the engine is disposed before the database is dropped
        hypothesis.configuration.set_hypothesis_home_dir(None)


def load_schema(app: FastAPI, login_token: str, http: asgi.ASGIClient) -> schemathesis.BaseSchema:
    schema = schemathesis.openapi.from_asgi("/openapi.json", app)
    schema.config.seed = 20260101
    schema.config.cache.enabled = False  # no replay of earlier runs' cases (nor a .schemathesis folder)
    schema.config.generation.update(max_examples=MAX_EXAMPLES, deterministic=True, database="none")
    schema.config.checks.update(included_check_names=CHECKS)
    # Not ready is what /readyz is for: here no job engine runs, so it answers its documented 503.
    readiness = {
        "include-path": "/readyz",
        "checks": {"not_a_server_error": {"expected-statuses": ["2xx", "4xx", 503]}},
    }
    schema.config.operations.operations.append(OperationConfig.from_dict(readiness))
    # The Studio's LLM engine reaches an LLM server that is not running here: its documented 502/503/504.
    llm_drafts = {
        "include-path": "/api/v1/studio/drafts",
        "checks": {"not_a_server_error": {"expected-statuses": ["2xx", "4xx", 502, 503, 504]}},
    }
    schema.config.operations.operations.append(OperationConfig.from_dict(llm_drafts))

    @schema.auth(refresh_interval=None)
    class FreshPersonalToken:
        def get(self, case: schemathesis.Case, ctx: Any) -> str:
            made = http.post("/api/v1/tokens", json={"name": "fuzz"}, headers=bearer(login_token))
            assert made.status_code == 201, made.text
            return str(made.json()["token"])

        def set(self, case: schemathesis.Case, token: str, ctx: Any) -> None:
            case.headers = {**(case.headers or {}), **bearer(token)}

    return schema


@dataclass
class Outcome:
    statuses: dict[str, Counter[int]] = field(default_factory=lambda: defaultdict(Counter))
    failures: list[str] = field(default_factory=list)
    errors: list[str] = field(default_factory=list)

    def record(self, event: events.EngineEvent) -> None:
        if isinstance(event, events.ScenarioFinished):
            recorder = event.recorder
            for case_id, interaction in recorder.interactions.items():
                label = recorder.cases[case_id].value.operation.label
                self.statuses[label][interaction.response.status_code if interaction.response else 0] += 1
            for nodes in recorder.checks.values():
                for node in nodes:
                    if node.status == Status.FAILURE and node.failure_info is not None:
                        failure, curl = node.failure_info.failure, node.failure_info.code_sample
                        self.failures.append(f"{recorder.label}: {failure.title}\n{failure.message}\n{curl}")
        elif isinstance(event, events.NonFatalError):
            self.errors.append(f"{event.label}: {event.info.format()}")
        elif isinstance(event, events.FatalError):
            self.errors.append(repr(event.exception))

    def summary(self) -> str:
        total = sum(sum(seen.values()) for seen in self.statuses.values())
        lines = [f"schemathesis: {total} requests over {len(self.statuses)} operations"]
        for label, seen in sorted(self.statuses.items()):
            answers = ", ".join(f"{status}: {count}" for status, count in sorted(seen.items()))
            lines.append(f"  {sum(seen.values()):5d}  {label}: {answers}")
        return "\n".join(lines)


def test_every_answer_conforms_to_the_document(app_under_test: FastAPI) -> None:
    app = app_under_test
    with asgi.get_client(app) as http:
        signup = {"email": OWNER, "password": PASSWORD, "organization_name": "Fuzz Co"}
        assert http.post("/api/v1/auth/signup", json=signup).status_code == 202
        login = http.post("/api/v1/auth/login", json={"email": OWNER, "password": PASSWORD})
        assert login.status_code == 200, login.text
        login_token = login.json()["access_token"]
        schema = load_schema(app, login_token, http)

        outcome = Outcome()
        for event in schemathesis.engine.from_schema(schema).execute():
            outcome.record(event)
        print("\n" + outcome.summary())

        assert not outcome.errors, "\n\n".join(outcome.errors)
        assert not outcome.failures, f"{len(outcome.failures)} failing checks:\n\n" + "\n\n".join(
            dict.fromkeys(outcome.failures)
        )
        operations = {
            f"{method.upper()} {path}": operation
            for path, item in app.openapi()["paths"].items()
            for method, operation in item.items()
        }
        assert set(operations) <= set(outcome.statuses), "every operation of the document was exercised"
        # The requests were really authenticated: each operation behind a token answered more than 401s
        # (and the 405s of schemathesis's probes with other methods).
        secured = [label for label, operation in operations.items() if operation.get("security")]
        locked_out = [label for label in secured if not set(outcome.statuses[label]) - {401, 405}]
        assert not locked_out, f"only 401 answers for {locked_out}"
        me = http.get("/api/v1/me", headers=bearer(login_token))  # and the run did not lock its user out
        assert me.status_code == 200, me.text
        assert me.json()["role"] == "owner"
