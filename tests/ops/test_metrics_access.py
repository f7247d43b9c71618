"""/metrics counts jobs across every tenant: it answers an operator's bearer token only, or, with
AUTOPILOT_METRICS_BIND, on a listener of its own (and not at all on the main app)."""

from __future__ import annotations

import httpx
import pytest
from pydantic import ValidationError
from sqlalchemy.ext.asyncio import AsyncSession, async_sessionmaker

from autopilot.accounts.service import set_operator
from autopilot.app import create_app
from autopilot.config import Settings
from tests.support.accounts import Account


async def test_metrics_need_a_token(client: httpx.AsyncClient) -> None:
    response = await client.get("/metrics")
    assert response.status_code == 401
    assert response.headers["content-type"] == "application/problem+json"
    assert "autopilot_jobs_due" not in response.text


async def test_a_member_who_is_no_operator_is_refused(client: httpx.AsyncClient, alice: Account) -> None:
    response = await client.get("/metrics", headers=alice.auth)
    assert response.status_code == 403
    assert response.headers["content-type"] == "application/problem+json"
    assert "operator" in response.json()["detail"]
    assert "autopilot_jobs_due" not in response.text


async def test_an_operator_reads_the_metrics(
    client: httpx.AsyncClient, alice: Account, sessions: async_sessionmaker[AsyncSession]
) -> None:
    async with sessions() as session, session.begin():
        await set_operator(session, alice.email, operator=True)
    await client.get("/healthz")
    response = await client.get("/metrics", headers=alice.auth)
    assert response.status_code == 200
    assert "autopilot_http_requests_total" in response.text
    assert "autopilot_jobs_due" in response.text


async def test_with_a_metrics_bind_they_are_served_there_and_not_on_the_app(settings: Settings) -> None:
    app = create_app(settings.model_copy(update={"metrics_bind": "127.0.0.1:0"}))
    async with app.router.lifespan_context(app):
        host, port = app.state.metrics_address
        assert host == "127.0.0.1" and port > 0
        transport = httpx.ASGITransport(app=app)
        async with httpx.AsyncClient(transport=transport, base_url="http://testserver") as main:
            assert (await main.get("/metrics")).status_code == 404
        async with httpx.AsyncClient(base_url=f"http://{host}:{port}", timeout=10) as scraper:
            scraped = await scraper.get("/metrics")
        assert scraped.status_code == 200
        assert "autopilot_jobs_due" in scraped.text
    with pytest.raises(httpx.ConnectError):  # the listener stops with the app
        async with httpx.AsyncClient(base_url=f"http://{host}:{port}", timeout=10) as scraper:
            await scraper.get("/metrics")


def test_a_metrics_bind_that_is_not_host_and_port_is_refused() -> None:
    for bad in ("9100", "localhost:", "127.0.0.1:99999"):
        with pytest.raises(ValidationError, match="HOST:PORT"):
            Settings(metrics_bind=bad)
    assert Settings(metrics_bind="[::1]:9100").metrics_address == ("::1", 9100)
