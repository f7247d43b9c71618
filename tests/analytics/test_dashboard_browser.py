"""A consultant on a phone (Chromium, 390x844) reads the analytics dashboard, then one post's
analytics page: the page shows the same figures as `GET /api/v1/content/{id}/analytics`.

The app is its own process (`autopilot serve` on SQLite, started by the LinkedIn journey's fixtures,
which also fail the test on any console error or CSP violation). The figures are stored as the sync
stores them, straight into the server's database file (the sync has its own tests)."""

from __future__ import annotations

import asyncio
import uuid
from concurrent.futures import ThreadPoolExecutor
from datetime import UTC, date, datetime, timedelta
from pathlib import Path
from typing import Any

import httpx
import pytest
from playwright.sync_api import Page, expect

from autopilot.domains import load_models
from autopilot.kit.db import make_engine, make_sessionmaker
from tests.analytics.figures import SYNCED, add_days, add_post
from tests.linkedin.test_browser_journey import page, server
from tests.support.accounts import PASSWORD
from tests.support.browser import assert_fits_width
from tests.support.crowd import ServerProcess

pytestmark = pytest.mark.browser
__all__ = ["page", "server"]


async def _store_figures(database_url: str, org_id: str, content_id: str) -> None:
    load_models()  # every table the analytics rows refer to
    engine = make_engine(database_url)
    sessions = make_sessionmaker(engine)
    try:
        first = datetime(2026, 11, 3, 5, 30, tzinfo=UTC)  # Tuesday 06:30 in Paris
        await add_post(
            sessions, org_id, published_at=first, content_id=content_id, text="Why your architecture review starts "
            "with the on-call rota #architecture", impressions=4210, members_reached=3120, reactions=96,
            comments=23, reposts=7, samples=[(SYNCED - timedelta(days=1), 2900, 70), (SYNCED, 4210, 96)],
        )  # fmt: skip
        for day in range(1, 6):
            await add_post(
                sessions, org_id, published_at=first + timedelta(days=2 * day), impressions=1000 + 150 * day,
                reactions=20 + day, comments=day, reposts=1, media_type="image" if day % 2 else "text",
            )  # fmt: skip
        await add_post(
            sessions, org_id, published_at=first + timedelta(days=12), impressions=None, engagements=None,
            source="export", text=None, sync_state="none",
        )  # fmt: skip
        await add_days(
            sessions, org_id,
            [(date(2026, 11, 1) + timedelta(days=i), 800 + 90 * i, 30 + i, 1200 + 4 * i) for i in range(20)],
        )  # fmt: skip
    finally:
        await engine.dispose()


def store_figures(database_url: str, org_id: str, content_id: str) -> None:
    """In a thread of its own: Playwright's sync API owns this thread's event loop."""
    with ThreadPoolExecutor(1) as pool:
        pool.submit(asyncio.run, _store_figures(database_url, org_id, content_id)).result()


def test_read_the_dashboard_and_a_posts_analytics_on_a_phone(
    page: Page, server: ServerProcess, artifacts: Path
) -> None:
    base = server.base_url
    email = f"analytics-{uuid.uuid4().hex[:10]}@example.com"
    page.goto(f"{base}/signup")
    page.get_by_label("E-mail").fill(email)
    page.get_by_label("Password").fill(PASSWORD)
    page.get_by_label("Your name").fill("Alice Martin")
    page.get_by_label("Organization").fill("Martin Consulting")
    page.get_by_role("button", name="Sign up").click()
    page.get_by_label("Password").fill(PASSWORD)
    page.get_by_role("button", name="Log in").click()
    expect(page).to_have_url(f"{base}/")

    api = httpx.Client(base_url=base, timeout=15)
    token = api.post("/api/v1/auth/login", json={"email": email, "password": PASSWORD}).json()["access_token"]
    auth = {"Authorization": f"Bearer {token}"}
    org_id = api.get("/api/v1/me", headers=auth).json()["organization"]["id"]
    content_id = api.post("/api/v1/content", json={"text": "Why your architecture review…"}, headers=auth).json()["id"]

    page.goto(f"{base}/analytics")
    expect(page.get_by_text("No figures yet")).to_be_visible()
    store_figures(server.database_url, org_id, content_id)

    page.reload()
    expect(page.locator("#posts-count")).to_have_text("7")
    expect(page.locator("#impressions-total")).to_have_text(f"{4210 + sum(1000 + 150 * d for d in range(1, 6)):,}")
    expect(page.locator("#followers")).to_have_text("1,276")
    expect(page.locator("#chart-1 svg")).to_be_visible()
    expect(page.get_by_role("img", name="Impressions per day")).to_be_visible()
    assert_fits_width(page)
    (artifacts / "screenshots").mkdir(exist_ok=True)
    page.screenshot(path=artifacts / "screenshots" / "analytics.png", full_page=True)

    page.get_by_role("link", name="Why your architecture review starts").click()
    expect(page.get_by_role("heading", name="Post analytics")).to_be_visible()
    figures: dict[str, Any] = api.get(f"/api/v1/content/{content_id}/analytics", headers=auth).json()
    for name in ("impressions", "members_reached", "reactions", "comments", "reposts"):
        expect(page.locator(f"#{name}")).to_have_text(f"{figures[name]:,}")
    expect(page.locator("#engagement_rate")).to_have_text(f"{figures['engagement_rate'] * 100:.1f}%")
    expect(page.locator("#freshness")).to_contain_text("last synced 2026-11-24")
    assert len(figures["samples"]) == 2
    expect(page.locator("#samples tbody tr")).to_have_count(2)
    assert_fits_width(page)
    page.screenshot(path=artifacts / "screenshots" / "analytics-post.png", full_page=True)
