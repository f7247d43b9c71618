"""An unexpected error is logged once, as one JSON line an operator can diagnose: the real
traceback, the exception, the method, path and request id, and no secret from the request."""

from __future__ import annotations

import json
import logging
from typing import Any, NoReturn

import httpx
import pytest
from fastapi import FastAPI
from sqlalchemy import text
from sqlalchemy.ext.asyncio import AsyncSession, async_sessionmaker

SECRET_TOKEN = "ap_pat_do-not-log-me-0123456789"
SECRET_QUERY = "query-secret-0123456789"


def json_lines(stderr: str) -> list[dict[str, Any]]:
    lines = [line for line in stderr.splitlines() if line.startswith("{")]
    return [json.loads(line) for line in lines]


class LedgerOnFireError(RuntimeError):
    pass


async def test_an_unexpected_error_logs_one_line_with_its_traceback_and_request_id(
    app: FastAPI, client: httpx.AsyncClient, capfd: pytest.CaptureFixture[str]
) -> None:
    def explode() -> NoReturn:
        raise LedgerOnFireError("the ledger is on fire")

    app.add_api_route("/test-only/explode", explode, methods=["GET"], response_model=None)
    capfd.readouterr()
    response = await client.get(
        f"/test-only/explode?token={SECRET_QUERY}",
        headers={"Authorization": f"Bearer {SECRET_TOKEN}", "X-Request-ID": "trace-500"},
    )

    assert response.status_code == 500
    assert response.headers["content-type"] == "application/problem+json"
    assert "ledger" not in response.text  # the user sees a sentence, not the exception
    assert response.headers["x-request-id"] == "trace-500"
    _out, err = capfd.readouterr()
    assert "<traceback object" not in err
    assert SECRET_TOKEN not in err and SECRET_QUERY not in err
    errors = [line for line in json_lines(err) if line.get("level") == "error"]
    assert len(errors) == 1, f"expected one error line, got {errors}"
    line = errors[0]
    assert line["method"] == "GET"
    assert line["path"] == "/test-only/explode"
    assert line["request_id"] == "trace-500"
    assert "Traceback (most recent call last)" in line["exception"]
    assert "LedgerOnFireError: the ledger is on fire" in line["exception"]
    assert "in explode" in line["exception"]  # the frame that raised, not only the message
    access = [entry for entry in json_lines(err) if entry.get("event") == "request"]
    assert [entry["status"] for entry in access] == [500]


async def test_a_real_database_error_is_logged_with_its_traceback(
    app: FastAPI,
    client: httpx.AsyncClient,
    sessions: async_sessionmaker[AsyncSession],
    capfd: pytest.CaptureFixture[str],
) -> None:
    async def broken_query() -> dict[str, str]:
        async with sessions() as session:
            await session.execute(text("SELECT * FROM no_such_table_here"))
        return {"status": "unreachable"}

    app.add_api_route("/test-only/broken-query", broken_query, methods=["GET"])
    capfd.readouterr()
    response = await client.get("/test-only/broken-query")

    assert response.status_code == 500
    _out, err = capfd.readouterr()
    assert "<traceback object" not in err
    errors = [line for line in json_lines(err) if line.get("level") == "error"]
    assert len(errors) == 1, errors
    assert errors[0]["path"] == "/test-only/broken-query"
    assert "Traceback (most recent call last)" in errors[0]["exception"]
    assert "no_such_table_here" in errors[0]["exception"]


async def test_the_standard_library_logs_tracebacks_as_text_too(
    app: FastAPI, capfd: pytest.CaptureFixture[str]
) -> None:
    """Libraries (the server, uvicorn, among them) log through the standard library: its exc_info
    is rendered as the traceback's text, not as `<traceback object at 0x…>`. (A logger of our own
    name: another test's uvicorn may have given uvicorn's loggers handlers of their own.)"""
    capfd.readouterr()
    try:
        raise LedgerOnFireError("seen by the server")
    except LedgerOnFireError:
        logging.getLogger("autopilot.tests.a_library").error("Exception in ASGI application", exc_info=True)
    _out, err = capfd.readouterr()
    assert "<traceback object" not in err
    (line,) = [entry for entry in json_lines(err) if entry.get("event") == "Exception in ASGI application"]
    assert "Traceback (most recent call last)" in line["exception"]
    assert "LedgerOnFireError: seen by the server" in line["exception"]
    assert "exc_info" not in line
