"""Invariants under a crowd: real clients hit a real server (its own process) at the same instant.

An organization never loses its last owner, an invitation is used exactly once, and concurrent
wrong passwords never get more password checks than the account's budget. On PostgreSQL these
failed before the fix (two 200s leaving no owner; a 500 and two 201s for one invitation; 13
checks for a budget of 10); SQLite serialises its writers and must give the same answers."""

from __future__ import annotations

from collections import Counter
from pathlib import Path

import httpx
from sqlalchemy import func, select

from autopilot.accounts.models import Membership, Role, User
from autopilot.kit.db import make_engine, make_sessionmaker
from tests.support.accounts import PASSWORD, Account, make_account
from tests.support.crowd import Call, ServerProcess, crowd


async def count(database_url: str, query: object) -> int:
    engine = make_engine(database_url)
    try:
        async with make_sessionmaker(engine)() as session:
            return int(await session.scalar(query) or 0)  # type: ignore[call-overload]
    finally:
        await engine.dispose()


async def invite(http: httpx.AsyncClient, owner: Account, email: str, role: str) -> str:
    sent = await http.post("/api/v1/invitations", json={"email": email, "role": role}, headers=owner.auth)
    assert sent.status_code == 201, sent.text
    return str(sent.json()["accept_token"])


async def membership_ids(http: httpx.AsyncClient, owner: Account) -> dict[str, str]:
    members = (await http.get("/api/v1/members", headers=owner.auth)).json()
    return {m["user"]["email"]: m["id"] for m in members}


async def test_two_owners_demoting_themselves_at_once_leave_the_organization_one_owner(
    database_url: str, tmp_path: Path
) -> None:
    with ServerProcess(database_url, tmp_path) as server:
        async with httpx.AsyncClient(base_url=server.base_url, timeout=60) as http:
            alice = await make_account(http, "alice@example.com", "Alice Consulting")
            token = await invite(http, alice, "carol@example.com", "owner")
            accepted = await http.post("/api/v1/invitations/accept", json={"token": token, "password": PASSWORD})
            assert accepted.status_code == 201, accepted.text
            login = await http.post("/api/v1/auth/login", json={"email": "carol@example.com", "password": PASSWORD})
            carol_auth = {"Authorization": f"Bearer {login.json()['access_token']}"}
            ids = await membership_ids(http, alice)
            for _round in range(3):
                answers = await crowd(
                    server.base_url,
                    [
                        Call("PATCH", f"/api/v1/members/{ids[alice.email]}", {"role": "admin"}, alice.auth),
                        Call("PATCH", f"/api/v1/members/{ids['carol@example.com']}", {"role": "admin"}, carol_auth),
                    ],
                )
                assert sorted(a.status_code for a in answers) == [200, 409], [a.text for a in answers]
                refused = next(a for a in answers if a.status_code == 409)
                assert "at least one owner" in refused.json()["detail"]
                owners = select(func.count()).select_from(Membership).where(Membership.role == Role.OWNER)
                assert await count(database_url, owners) == 1
                # The one still owner makes the other owner again, for the next round.
                winner = carol_auth if answers[0].status_code == 200 else alice.auth
                loser_id = ids[alice.email] if answers[0].status_code == 200 else ids["carol@example.com"]
                restored = await http.patch(f"/api/v1/members/{loser_id}", json={"role": "owner"}, headers=winner)
                assert restored.status_code == 200, restored.text


async def test_ten_accepts_of_one_invitation_at_once_join_exactly_once(database_url: str, tmp_path: Path) -> None:
    with ServerProcess(database_url, tmp_path) as server:
        async with httpx.AsyncClient(base_url=server.base_url, timeout=60) as http:
            alice = await make_account(http, "alice@example.com", "Alice Consulting")
            bob = await make_account(http, "bob@example.com", "Bob Advisory")
            for_existing = await invite(http, alice, bob.email, "editor")
            for_new = await invite(http, alice, "dana@example.com", "approver")
        body = {"password": PASSWORD, "name": "Dana"}
        existing = await crowd(
            server.base_url, [Call("POST", "/api/v1/invitations/accept", {**body, "token": for_existing})] * 10
        )
        new = await crowd(
            server.base_url, [Call("POST", "/api/v1/invitations/accept", {**body, "token": for_new})] * 10
        )
    for answers in (existing, new):
        statuses = Counter(a.status_code for a in answers)
        assert statuses[201] == 1 and statuses[409] + statuses[404] == 9, [a.text for a in answers]
        assert all(a.headers["content-type"] == "application/problem+json" for a in answers if a.status_code != 201)
    bob_memberships = select(func.count()).select_from(Membership).join(User).where(User.email == bob.email)
    assert await count(database_url, bob_memberships) == 2  # his own organization and Alice's, once
    assert (
        await count(database_url, select(func.count()).select_from(User).where(User.email == "dana@example.com")) == 1
    )


async def test_forty_wrong_passwords_at_once_get_no_more_checks_than_the_budget(
    database_url: str, tmp_path: Path
) -> None:
    with ServerProcess(database_url, tmp_path) as server:
        async with httpx.AsyncClient(base_url=server.base_url, timeout=60) as http:
            alice = await make_account(http, "alice@example.com", "Alice Consulting")
        wrong = Call("POST", "/api/v1/auth/login", {"email": alice.email, "password": "not the password at all"})
        answers = await crowd(server.base_url, [wrong] * 40)
    statuses = Counter(a.status_code for a in answers)
    # Every 401 is a password that was checked; every 429 was refused before any check.
    assert statuses == Counter({401: 10, 429: 30}), statuses
    assert all(int(a.headers["retry-after"]) >= 1 for a in answers if a.status_code == 429)


async def test_x_forwarded_for_counts_only_from_a_listed_proxy(database_url: str, tmp_path: Path) -> None:
    """With a small per-address budget, wrong logins for different accounts from one address are
    stopped even when each claims another address, unless the server is told to trust the proxy."""

    def wrong(i: int) -> Call:
        return Call(
            "POST",
            "/api/v1/auth/login",
            {"email": f"nobody{i}@example.com", "password": "not the password at all"},
            {"X-Forwarded-For": f"198.51.100.{i + 1}"},
        )

    small_budget = {"AUTOPILOT_LOGIN_MAX_FAILURES_PER_ADDRESS": "5"}
    with ServerProcess(database_url, tmp_path / "untrusted", small_budget) as server:
        untrusted = [(await crowd(server.base_url, [wrong(i)]))[0].status_code for i in range(7)]
    with ServerProcess(
        database_url, tmp_path / "trusted", {**small_budget, "AUTOPILOT_TRUSTED_PROXIES": "127.0.0.1"}
    ) as server:
        trusted = [(await crowd(server.base_url, [wrong(i + 10)]))[0].status_code for i in range(7)]
    assert untrusted == [401] * 5 + [429] * 2  # the header was ignored: all from 127.0.0.1
    assert trusted == [401] * 7  # each from its own forwarded address
