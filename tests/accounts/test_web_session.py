"""The web session: its cookie opens pages only (a leaked cookie is no API credential), and the
CSRF token a visitor saw before logging in is worthless after it."""

from __future__ import annotations

import base64
import json
from typing import Any

import httpx
from itsdangerous import TimestampSigner

from autopilot.config import Settings
from tests.support.accounts import Account, csrf_of, log_in_with_the_form


def cookie_contents(client: httpx.AsyncClient) -> dict[str, Any]:
    """What the signed (not encrypted) session cookie carries, as anyone holding it can read."""
    raw = client.cookies["autopilot_session"]
    payload = raw.split(".")[0]
    data: dict[str, Any] = json.loads(base64.b64decode(payload + "=" * (-len(payload) % 4)))
    return data


async def test_the_web_cookie_token_is_refused_by_the_api(client: httpx.AsyncClient, alice: Account) -> None:
    await log_in_with_the_form(client, alice)
    assert (await client.get("/settings")).status_code == 200  # the cookie opens pages
    leaked = cookie_contents(client)["token"]
    answer = await client.get("/api/v1/me", headers={"Authorization": f"Bearer {leaked}"})
    assert answer.status_code == 401
    assert answer.headers["content-type"] == "application/problem+json"


async def test_an_api_token_in_a_session_cookie_does_not_open_pages(
    client: httpx.AsyncClient, settings: Settings, alice: Account
) -> None:
    """The reverse: a cookie signed with the right key but holding an API token is no web session."""
    data = base64.b64encode(json.dumps({"token": alice.token, "csrf": "x"}).encode())
    client.cookies.set("autopilot_session", TimestampSigner(settings.secret_key).sign(data).decode())
    assert (await client.get("/settings")).status_code == 303  # off to the login page


async def test_the_csrf_token_changes_at_login(client: httpx.AsyncClient, alice: Account) -> None:
    before = await log_in_with_the_form(client, alice)
    page = await client.get("/settings")
    after = csrf_of(page)
    assert after != before
    stale = await client.post("/settings", data={"name": "Mallory", "timezone": "UTC", "csrf_token": before})
    assert stale.status_code == 403
    fresh = await client.post("/settings", data={"name": "Alice", "timezone": "UTC", "csrf_token": after})
    assert fresh.status_code == 200
