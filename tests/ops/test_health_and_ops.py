"""Operations: liveness, readiness, metrics, request ids, structured logs without secrets."""

from __future__ import annotations

import json
import logging

import httpx
import pytest

from tests.support.accounts import Account


async def test_liveness_answers_ok(client: httpx.AsyncClient) -> None:
    response = await client.get("/healthz")
    assert response.status_code == 200
    assert response.json() == {"status": "ok"}


async def test_readiness_reports_each_component_and_fails_without_an_executor(client: httpx.AsyncClient) -> None:
    response = await client.get("/readyz")
    body = response.json()
    assert body["components"]["database"] == {"status": "ok"}
    # This app runs no job engine, so no executor heartbeat exists: not ready.
    assert response.status_code == 503
    assert body["components"]["job_engine"]["status"] == "down"


async def test_every_response_carries_a_request_id(client: httpx.AsyncClient) -> None:
    generated = await client.get("/healthz")
    assert len(generated.headers["x-request-id"]) == 32
    kept = await client.get("/healthz", headers={"X-Request-ID": "trace-123"})
    assert kept.headers["x-request-id"] == "trace-123"


async def test_logs_are_json_and_never_contain_passwords_or_tokens(
    client: httpx.AsyncClient, alice: Account, caplog: pytest.LogCaptureFixture, capfd: pytest.CaptureFixture[str]
) -> None:
    caplog.set_level(logging.INFO)
    await client.post("/api/v1/auth/login", json={"email": alice.email, "password": "a-wrong-password-123"})
    await client.get("/api/v1/me", headers=alice.auth)
    from autopilot.kit.logging import log

    log.info("token check", token=alice.token, authorization=f"Bearer {alice.token}", note=f"Bearer {alice.token}")
    out, err = capfd.readouterr()
    lines = [line for line in (out + err).splitlines() if line.startswith("{")]
    assert lines, "expected JSON log lines"
    for line in lines:
        json.loads(line)
    everything = out + err
    assert "a-wrong-password-123" not in everything
    assert alice.token not in everything
    assert alice.password not in everything
