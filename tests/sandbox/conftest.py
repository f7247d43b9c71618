"""An in-process LinkedIn sandbox per test, reached through httpx.ASGITransport (no database)."""

from __future__ import annotations

import re
from collections.abc import AsyncIterator
from typing import Any
from urllib.parse import parse_qs, urlsplit

import httpx
import pytest
from fastapi import FastAPI

from autopilot.sandbox.linkedin import SandboxConfig, create_app

BASE = "http://linkedin.test"
REDIRECT = "https://app.example/callback"
SCOPES = ("openid", "profile", "email", "w_member_social", "r_member_social")
VERSION = "202609"


@pytest.fixture
def app() -> FastAPI:
    return create_app(SandboxConfig())


@pytest.fixture
async def client(app: FastAPI) -> AsyncIterator[httpx.AsyncClient]:
    async with httpx.AsyncClient(transport=httpx.ASGITransport(app=app), base_url=BASE) as http:
        yield http


def auth_query(scopes: tuple[str, ...] = SCOPES, **extra: str) -> dict[str, str]:
    query = {
        "response_type": "code",
        "client_id": "sandbox-client-id",
        "redirect_uri": REDIRECT,
        "state": "s1",
        "scope": " ".join(scopes),
    }
    return {**query, **extra}


def redirect_params(response: httpx.Response) -> dict[str, str]:
    assert response.status_code == 302, response.text
    return {k: v[0] for k, v in parse_qs(urlsplit(response.headers["location"]).query).items()}


async def consent(
    client: httpx.AsyncClient, member: str = "Ada Lovelace", decision: str = "allow", scopes: tuple[str, ...] = SCOPES
) -> httpx.Response:
    """Open the consent page and press a button; the redirect back to the app."""
    client.cookies.clear()
    page = await client.get("/oauth/v2/authorization", params=auth_query(scopes))
    assert page.status_code == 200, page.text
    consent_id = re.search(r'name=consent value="([^"]+)"', page.text)
    action = re.search(r'action="([^"]+)"', page.text)
    assert consent_id and action
    return await client.post(
        action.group(1), data={"consent": consent_id.group(1), "member_name": member, "decision": decision}
    )


async def exchange(client: httpx.AsyncClient, code: str, redirect_uri: str = REDIRECT) -> httpx.Response:
    return await client.post(
        "/oauth/v2/accessToken",
        data={
            "grant_type": "authorization_code",
            "code": code,
            "redirect_uri": redirect_uri,
            "client_id": "sandbox-client-id",
            "client_secret": "sandbox-client-secret",
        },
    )


async def login(client: httpx.AsyncClient, member: str = "Ada Lovelace", scopes: tuple[str, ...] = SCOPES) -> Token:
    code = redirect_params(await consent(client, member, scopes=scopes))["code"]
    response = await exchange(client, code)
    assert response.status_code == 200, response.text
    body = response.json()
    userinfo = await client.get("/v2/userinfo", headers={"Authorization": f"Bearer {body['access_token']}"})
    sub = userinfo.json()["sub"] if userinfo.status_code == 200 else ""
    return Token(body["access_token"], sub, body)


class Token:
    """A member's access token, their id and the whole token response."""

    def __init__(self, access_token: str, sub: str, response: dict[str, Any]) -> None:
        self.access_token = access_token
        self.sub = sub
        self.response = response

    @property
    def author(self) -> str:
        return f"urn:li:person:{self.sub}"

    def headers(self, version: str = VERSION, **extra: str) -> dict[str, str]:
        return {
            "Authorization": f"Bearer {self.access_token}",
            "LinkedIn-Version": version,
            "X-Restli-Protocol-Version": "2.0.0",
            **extra,
        }


def post_body(author: str, commentary: str, **extra: Any) -> dict[str, Any]:
    return {
        "author": author,
        "commentary": commentary,
        "visibility": "PUBLIC",
        "distribution": {"feedDistribution": "MAIN_FEED", "targetEntities": [], "thirdPartyDistributionChannels": []},
        "lifecycleState": "PUBLISHED",
        "isReshareDisabledByAuthor": False,
        **extra,
    }


async def create_post(client: httpx.AsyncClient, token: Token, commentary: str, **extra: Any) -> httpx.Response:
    return await client.post("/rest/posts", json=post_body(token.author, commentary, **extra), headers=token.headers())


async def sandbox_posts(client: httpx.AsyncClient, **params: str) -> list[dict[str, Any]]:
    response = await client.get("/_sandbox/posts", params=params)
    elements: list[dict[str, Any]] = response.json()["elements"]
    return elements
