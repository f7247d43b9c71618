"""Accounts through the API: sign-up, login, me, tokens, members — as a client sees them."""

from __future__ import annotations

import httpx

from autopilot.app import create_app
from autopilot.config import Settings
from tests.support.accounts import Account, make_account


async def test_signup_login_and_me_return_user_org_role_and_zone(client: httpx.AsyncClient, alice: Account) -> None:
    me = await client.get("/api/v1/me", headers=alice.auth)
    assert me.status_code == 200
    body = me.json()
    assert body["user"]["email"] == "alice@example.com"
    assert body["organization"]["name"] == "Alice Consulting"
    assert body["role"] == "owner"
    assert body["timezone"] == "Europe/Paris"


async def test_signup_without_a_zone_uses_utc(client: httpx.AsyncClient) -> None:
    account = await make_account(client, "zoneless@example.com")
    me = (await client.get("/api/v1/me", headers=account.auth)).json()
    assert me["timezone"] == "UTC"


async def test_wrong_password_is_a_401_problem(client: httpx.AsyncClient, alice: Account) -> None:
    response = await client.post("/api/v1/auth/login", json={"email": alice.email, "password": "not-the-password"})
    assert response.status_code == 401
    assert response.headers["content-type"] == "application/problem+json"
    assert response.json()["detail"] == "wrong e-mail or password"


async def test_unknown_email_answers_exactly_like_a_wrong_password(client: httpx.AsyncClient) -> None:
    response = await client.post("/api/v1/auth/login", json={"email": "nobody@example.com", "password": "whatever1"})
    assert response.status_code == 401
    assert response.json()["detail"] == "wrong e-mail or password"


async def test_eleventh_failed_login_within_a_minute_is_throttled(client: httpx.AsyncClient, alice: Account) -> None:
    for _ in range(10):
        failed = await client.post("/api/v1/auth/login", json={"email": alice.email, "password": "nope-nope-nope"})
        assert failed.status_code == 401
    throttled = await client.post("/api/v1/auth/login", json={"email": alice.email, "password": alice.password})
    assert throttled.status_code == 429
    assert throttled.headers["content-type"] == "application/problem+json"
    assert 1 <= int(throttled.headers["retry-after"]) <= 60


async def test_failed_logins_lock_the_account_not_everyone_behind_the_same_address(
    client: httpx.AsyncClient, alice: Account, bob: Account
) -> None:
    for _ in range(12):
        await client.post("/api/v1/auth/login", json={"email": alice.email, "password": "nope-nope-nope"})
    locked = await client.post("/api/v1/auth/login", json={"email": alice.email, "password": alice.password})
    assert locked.status_code == 429 and 1 <= int(locked.headers["retry-after"]) <= 60
    assert locked.headers["content-type"] == "application/problem+json"
    # Another person in the same office (same client address) logs in as usual.
    colleague = await client.post("/api/v1/auth/login", json={"email": bob.email, "password": bob.password})
    assert colleague.status_code == 200


async def test_a_correct_login_gives_back_the_accounts_budget(client: httpx.AsyncClient, alice: Account) -> None:
    for _round in range(3):  # 27 wrong passwords in all, never 10 in a row
        for _ in range(9):
            wrong = await client.post("/api/v1/auth/login", json={"email": alice.email, "password": "nope-nope-nope"})
            assert wrong.status_code == 401
        right = await client.post("/api/v1/auth/login", json={"email": alice.email, "password": alice.password})
        assert right.status_code == 200


async def test_an_address_trying_many_accounts_is_stopped_by_its_own_larger_budget(
    settings: Settings, alice: Account
) -> None:
    app = create_app(settings.model_copy(update={"login_max_failures_per_address": 15}))
    async with app.router.lifespan_context(app):
        for address, expected in (("198.51.100.1", 429), ("198.51.100.2", 200)):
            transport = httpx.ASGITransport(app=app, client=(address, 4321))
            async with httpx.AsyncClient(transport=transport, base_url="http://testserver") as http:
                if address.endswith(".1"):
                    for i in range(15):
                        await http.post("/api/v1/auth/login", json={"email": f"x{i}@example.com", "password": "w" * 12})
                answer = await http.post("/api/v1/auth/login", json={"email": alice.email, "password": alice.password})
                assert answer.status_code == expected, (address, answer.text)


async def test_no_token_or_a_bad_token_is_401(client: httpx.AsyncClient) -> None:
    assert (await client.get("/api/v1/me")).status_code == 401
    bad = await client.get("/api/v1/me", headers={"Authorization": "Bearer ap_s_nonsense"})
    assert bad.status_code == 401
    assert bad.headers["www-authenticate"] == "Bearer"


async def test_logout_revokes_the_login_token(client: httpx.AsyncClient, alice: Account) -> None:
    assert (await client.post("/api/v1/auth/logout", headers=alice.auth)).status_code == 204
    assert (await client.get("/api/v1/me", headers=alice.auth)).status_code == 401


async def test_profile_time_zone_is_validated_and_kept(client: httpx.AsyncClient, alice: Account) -> None:
    bad = await client.patch("/api/v1/me", json={"timezone": "Mars/Olympus_Mons"}, headers=alice.auth)
    assert bad.status_code == 422
    assert "IANA time zone" in bad.json()["detail"]
    ok = await client.patch("/api/v1/me", json={"timezone": "Australia/Lord_Howe", "name": "Alice"}, headers=alice.auth)
    assert ok.status_code == 200
    me = (await client.get("/api/v1/me", headers=alice.auth)).json()
    assert (me["timezone"], me["user"]["name"]) == ("Australia/Lord_Howe", "Alice")


async def test_personal_tokens_are_shown_once_listed_and_revocable(client: httpx.AsyncClient, alice: Account) -> None:
    created = await client.post("/api/v1/tokens", json={"name": "ci script"}, headers=alice.auth)
    assert created.status_code == 201
    token = created.json()["token"]
    assert token.startswith("ap_pat_")
    pat = {"Authorization": f"Bearer {token}"}
    assert (await client.get("/api/v1/me", headers=pat)).status_code == 200
    listed = (await client.get("/api/v1/tokens", headers=alice.auth)).json()
    assert [(t["name"], t["hint"]) for t in listed] == [("ci script", token[-4:])]
    assert "token" not in listed[0]
    revoked = await client.delete(f"/api/v1/tokens/{created.json()['id']}", headers=alice.auth)
    assert revoked.status_code == 204
    assert (await client.get("/api/v1/me", headers=pat)).status_code == 401


async def test_owner_invites_a_member_who_joins_with_the_given_role(client: httpx.AsyncClient, alice: Account) -> None:
    invited = await client.post(
        "/api/v1/invitations", json={"email": "carol@example.com", "role": "approver"}, headers=alice.auth
    )
    assert invited.status_code == 201
    accepted = await client.post(
        "/api/v1/invitations/accept",
        json={"token": invited.json()["accept_token"], "password": "carol's long password", "timezone": "Asia/Tokyo"},
    )
    assert accepted.status_code == 201
    login = await client.post(
        "/api/v1/auth/login", json={"email": "carol@example.com", "password": "carol's long password"}
    )
    carol = {"Authorization": f"Bearer {login.json()['access_token']}"}
    me = (await client.get("/api/v1/me", headers=carol)).json()
    assert (me["organization"]["id"], me["role"], me["timezone"]) == (alice.org_id, "approver", "Asia/Tokyo")
    # An approver cannot invite.
    refused = await client.post("/api/v1/invitations", json={"email": "dan@example.com"}, headers=carol)
    assert refused.status_code == 403
    # The invitation is single-use.
    again = await client.post(
        "/api/v1/invitations/accept",
        json={"token": invited.json()["accept_token"], "password": "carol's long password"},
    )
    assert again.status_code == 404


async def test_the_last_owner_cannot_be_demoted(client: httpx.AsyncClient, alice: Account) -> None:
    members = (await client.get("/api/v1/members", headers=alice.auth)).json()
    assert [m["role"] for m in members] == ["owner"]
    response = await client.patch(f"/api/v1/members/{members[0]['id']}", json={"role": "editor"}, headers=alice.auth)
    assert response.status_code == 409
    assert "at least one owner" in response.json()["detail"]
