"""Accounts made through the real API, as a user would."""

from __future__ import annotations

from dataclasses import dataclass
from typing import Any

import httpx

PASSWORD = "correct horse battery staple"


@dataclass
class Account:
    email: str
    password: str
    token: str
    org_id: str
    user_id: str

    @property
    def auth(self) -> dict[str, str]:
        return {"Authorization": f"Bearer {self.token}"}


async def make_account(client: httpx.AsyncClient, email: str, org: str = "Acme", **extra: Any) -> Account:
    created = await client.post(
        "/api/v1/auth/signup", json={"email": email, "password": PASSWORD, "organization_name": org, **extra}
    )
    assert created.status_code == 202, created.text
    login = await client.post("/api/v1/auth/login", json={"email": email, "password": PASSWORD})
    assert login.status_code == 200, login.text
    token = login.json()["access_token"]
    me = (await client.get("/api/v1/me", headers={"Authorization": f"Bearer {token}"})).json()
    return Account(email, PASSWORD, token, me["organization"]["id"], me["user"]["id"])


def csrf_of(page: httpx.Response) -> str:
    """The CSRF token of a page's forms."""
    return page.text.split('name="csrf_token" value="')[1].split('"')[0]


async def log_in_with_the_form(client: httpx.AsyncClient, account: Account) -> str:
    """Log in through the web form (the session cookie stays in *client*); the token seen before."""
    before = csrf_of(await client.get("/login"))
    answer = await client.post(
        "/login", data={"email": account.email, "password": account.password, "csrf_token": before}
    )
    assert answer.status_code == 303 and answer.headers["location"] == "/"
    return before


async def member(client: httpx.AsyncClient, owner: Account, email: str, role: str) -> Account:
    """Someone the owner invited into their organization with *role*, logged in through the API."""
    invited = await client.post("/api/v1/invitations", json={"email": email, "role": role}, headers=owner.auth)
    assert invited.status_code == 201, invited.text
    accepted = await client.post(
        "/api/v1/invitations/accept", json={"token": invited.json()["accept_token"], "password": PASSWORD}
    )
    assert accepted.status_code == 201, accepted.text
    login = await client.post("/api/v1/auth/login", json={"email": email, "password": PASSWORD})
    assert login.status_code == 200, login.text
    token = login.json()["access_token"]
    me = (await client.get("/api/v1/me", headers={"Authorization": f"Bearer {token}"})).json()
    return Account(email, PASSWORD, token, me["organization"]["id"], me["user"]["id"])
