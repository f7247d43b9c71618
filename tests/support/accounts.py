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
