"""Every API route that takes an id answers 404 for another organization's id.

Routes are read from the app's own route table, so a new route with a path id is covered
automatically: it fails here until it has a factory below that makes such an id."""

from __future__ import annotations

import re
from collections.abc import Awaitable, Callable

import httpx
from fastapi import FastAPI
from sqlalchemy.ext.asyncio import AsyncSession, async_sessionmaker

import tests.support.jobkinds  # noqa: F401  (registers the job kind used below)
from autopilot.worker import ledger
from tests.support.accounts import Account

Factory = Callable[[httpx.AsyncClient, Account, async_sessionmaker[AsyncSession]], Awaitable[str]]


async def a_token(client: httpx.AsyncClient, owner: Account, _s: async_sessionmaker[AsyncSession]) -> str:
    response = await client.post("/api/v1/tokens", json={"name": "owned"}, headers=owner.auth)
    return str(response.json()["id"])


async def a_membership(client: httpx.AsyncClient, owner: Account, _s: async_sessionmaker[AsyncSession]) -> str:
    return str((await client.get("/api/v1/members", headers=owner.auth)).json()[0]["id"])


async def a_job(_c: httpx.AsyncClient, owner: Account, sessions: async_sessionmaker[AsyncSession]) -> str:
    import uuid

    async with sessions() as session, session.begin():
        job_id = await ledger.enqueue(
            session, kind="test.call", payload={"url": "http://127.0.0.1:9/x"}, org_id=uuid.UUID(owner.org_id)
        )
    return str(job_id)


async def a_linkedin_integration(
    _c: httpx.AsyncClient, owner: Account, sessions: async_sessionmaker[AsyncSession]
) -> str:
    """A connected LinkedIn member, as the OAuth callback stores one (no sandbox needed here)."""
    import uuid
    from datetime import timedelta

    from autopilot.kit.time import utcnow
    from autopilot.linkedin.models import Integration

    async with sessions() as session, session.begin():
        integration = Integration(
            org_id=uuid.UUID(owner.org_id),
            member_id=uuid.uuid4().hex[:10],
            scopes="openid profile w_member_social",
            access_expires_at=utcnow() + timedelta(days=60),
            refresh_expires_at=None,
        )
        session.add(integration)
    return str(integration.id)


async def a_content(client: httpx.AsyncClient, owner: Account, _s: async_sessionmaker[AsyncSession]) -> str:
    response = await client.post("/api/v1/content", json={"text": "owned"}, headers=owner.auth)
    return str(response.json()["id"])


async def a_push_subscription(client: httpx.AsyncClient, owner: Account, _s: async_sessionmaker[AsyncSession]) -> str:
    """One of the owner's browsers subscribed to Web Push (keys as a browser makes them)."""
    import base64
    import os

    from cryptography.hazmat.primitives import serialization
    from cryptography.hazmat.primitives.asymmetric import ec

    point = (
        ec.generate_private_key(ec.SECP256R1())
        .public_key()
        .public_bytes(serialization.Encoding.X962, serialization.PublicFormat.UncompressedPoint)
    )
    raw = {"p256dh": point, "auth": os.urandom(16)}
    keys = {name: base64.urlsafe_b64encode(value).rstrip(b"=").decode() for name, value in raw.items()}
    body = {"endpoint": f"https://push.example.com/send/{os.urandom(8).hex()}", "keys": keys}
    response = await client.post("/api/v1/push/subscriptions", json=body, headers=owner.auth)
    return str(response.json()["id"])


async def a_lead(client: httpx.AsyncClient, owner: Account, _s: async_sessionmaker[AsyncSession]) -> str:
    body = {"name": "Dana Lee", "company": "Acme", "notes": "could we book a call?"}
    response = await client.post("/api/v1/leads", json=body, headers=owner.auth)
    return str(response.json()["id"])


async def a_company_page(client: httpx.AsyncClient, owner: Account, sessions: async_sessionmaker[AsyncSession]) -> str:
    """A LinkedIn Company Page found for one of the owner's connections (as discovery stores one)."""
    import uuid

    from autopilot.analytics.models import CompanyPage

    integration_id = await a_linkedin_integration(client, owner, sessions)
    async with sessions() as session, session.begin():
        page = CompanyPage(
            org_id=uuid.UUID(owner.org_id),
            integration_id=uuid.UUID(integration_id),
            organization_urn="urn:li:organization:2414183",
            name="Owned Page",
        )
        session.add(page)
    return str(page.id)


FACTORIES: dict[str, Factory] = {
    "token_id": a_token,
    "membership_id": a_membership,
    "job_id": a_job,
    "integration_id": a_linkedin_integration,
    "content_id": a_content,
    "subscription_id": a_push_subscription,
    "lead_id": a_lead,
    "page_id": a_company_page,
}
BODIES = {"PATCH": {"role": "editor"}, "POST": {}, "PUT": {}}
# Routes whose body must be valid to reach the handler (an invalid one is refused first, with 422).
BODIES_BY_PATH = {
    ("PATCH", "/api/v1/content/{content_id}"): {"text": "changed by someone else"},
    ("PUT", "/api/v1/integrations/{integration_id}/schedule"): {"timezone": "UTC", "slots": []},
    ("POST", "/api/v1/content/{content_id}/schedule"): {"slot": "next"},
    ("POST", "/api/v1/content/{content_id}/comments"): {"body": "a remark from another organization"},
    ("POST", "/api/v1/content/{content_id}/reject"): {"comment": "rejected by someone else"},
    ("PATCH", "/api/v1/leads/{lead_id}"): {"stage": "won", "value_cents": 100},
}


def routes_with_ids(app: FastAPI) -> list[tuple[str, str, list[str]]]:
    """Every (method, path, ids) of the API, from the OpenAPI document FastAPI builds from its
    route table (included routers are not flattened into app.routes in this FastAPI)."""
    found = []
    for path, operations in app.openapi()["paths"].items():
        params = re.findall(r"{(\w+)}", path)
        if path.startswith("/api/") and params:
            found.extend((method.upper(), path, params) for method in sorted(operations))
    return found


async def test_other_organizations_ids_answer_404_on_every_route(
    app: FastAPI, client: httpx.AsyncClient, sessions: async_sessionmaker[AsyncSession], alice: Account, bob: Account
) -> None:
    routes = routes_with_ids(app)
    assert len(routes) >= 6, routes
    missing = {p for _m, _path, params in routes for p in params} - FACTORIES.keys()
    assert not missing, f"add a factory for path ids {missing} so tenant isolation covers them"
    for method, path, params in routes:
        url = path
        for param in params:
            url = url.replace("{" + param + "}", await FACTORIES[param](client, alice, sessions))
        response = await client.request(
            method, url, headers=bob.auth, json=BODIES_BY_PATH.get((method, path), BODIES.get(method))
        )
        assert response.status_code == 404, f"{method} {path} as another organization → {response.status_code}"
        assert response.headers["content-type"] == "application/problem+json"
        # The owner sees the same id: it was a real id, not a made-up one.
        if method == "GET":
            assert (await client.get(url, headers=alice.auth)).status_code == 200, f"GET {path} as its owner"
    # Nothing of Alice's was changed by Bob's attempts.
    me = await client.get("/api/v1/me", headers=alice.auth)
    assert me.json()["role"] == "owner"
    assert len((await client.get("/api/v1/tokens", headers=alice.auth)).json()) >= 1


async def test_the_phones_decision_on_another_organizations_draft_answers_404(
    client: httpx.AsyncClient, sessions: async_sessionmaker[AsyncSession], alice: Account, bob: Account
) -> None:
    """The Approvals page's JSON action (a page route: the web session, not a bearer token)."""
    from tests.support.accounts import log_in_with_the_form

    post = await a_content(client, alice, sessions)
    assert (await client.post(f"/api/v1/content/{post}/request-approval", headers=alice.auth)).status_code == 200
    await log_in_with_the_form(client, bob)
    page = await client.get("/approvals")
    csrf = re.search(r'<meta name="csrf-token" content="([^"]+)">', page.text)
    assert csrf, page.text[:300]
    headers = {"X-CSRF-Token": csrf.group(1), "If-Match": '"1"', "Idempotency-Key": "bobs-key"}
    answer = await client.post(f"/approvals/{post}/decision", json={"decision": "approve"}, headers=headers)
    assert answer.status_code == 404 and answer.headers["content-type"] == "application/problem+json"
    assert (await client.get(f"/api/v1/content/{post}", headers=alice.auth)).json()["state"] == "pending_approval"
