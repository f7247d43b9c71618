"""Every /rest/* call passes LinkedIn's gate in LinkedIn's order, with LinkedIn's bodies (contract §2, §6, §7)."""

from __future__ import annotations

import httpx
import pytest

from tests.sandbox.conftest import create_post, login, post_body


async def test_no_token_is_empty_access_token(client: httpx.AsyncClient) -> None:
    response = await client.get("/rest/posts", params={"q": "author"}, headers={"LinkedIn-Version": "202609"})
    assert response.status_code == 401
    assert response.json() == {
        "status": 401,
        "serviceErrorCode": 65604,
        "code": "EMPTY_ACCESS_TOKEN",
        "message": "Empty oauth2_access_token",
    }


async def test_an_unknown_token_is_invalid(client: httpx.AsyncClient) -> None:
    response = await client.post(
        "/rest/posts", headers={"Authorization": "Bearer AQVnope", "LinkedIn-Version": "202609"}
    )
    assert response.status_code == 401 and response.json()["serviceErrorCode"] == 65600
    assert response.json()["code"] == "INVALID_ACCESS_TOKEN"


async def test_a_revoked_token_is_revoked_even_before_expiry(client: httpx.AsyncClient) -> None:
    token = await login(client)
    await client.post("/_sandbox/tokens/revoke", json={"member": token.sub})
    response = await create_post(client, token, "hello")
    assert response.status_code == 401
    assert response.json()["serviceErrorCode"] == 65601 and response.json()["code"] == "REVOKED_ACCESS_TOKEN"


async def test_an_expired_token_is_expired_and_the_refresh_token_still_works(client: httpx.AsyncClient) -> None:
    token = await login(client)
    await client.post("/_sandbox/tokens/expire", json={"member": token.sub})
    response = await create_post(client, token, "hello")
    assert response.status_code == 401
    assert response.json() == {
        "status": 401,
        "serviceErrorCode": 65602,
        "code": "EXPIRED_ACCESS_TOKEN",
        "message": "The token used in the request has expired",
    }
    refreshed = await client.post(
        "/oauth/v2/accessToken",
        data={
            "grant_type": "refresh_token",
            "refresh_token": token.response["refresh_token"],
            "client_id": "sandbox-client-id",
            "client_secret": "sandbox-client-secret",
        },
    )
    assert refreshed.status_code == 200


async def test_a_missing_version_is_400_with_the_gateway_header(client: httpx.AsyncClient) -> None:
    token = await login(client)
    headers = {"Authorization": f"Bearer {token.access_token}"}
    response = await client.post("/rest/posts", json=post_body(token.author, "x"), headers=headers)
    assert response.status_code == 400 and "x-restli-gateway-error" in response.headers
    assert response.json() == {
        "status": 400,
        "code": "VERSION_MISSING",
        "message": "A version must be present. Please specify a version by adding the LinkedIn-Version header.",
    }


@pytest.mark.parametrize(
    ("sent", "printed"), [("202504", "20250401"), ("202701", "20270101"), ("202409.01", "20240901")]
)
async def test_a_version_outside_the_window_is_426_printed_with_day_01(
    client: httpx.AsyncClient, sent: str, printed: str
) -> None:
    token = await login(client)
    response = await client.post("/rest/posts", json=post_body(token.author, "x"), headers=token.headers(sent))
    assert response.status_code == 426
    assert response.json() == {
        "status": 426,
        "code": "NONEXISTENT_VERSION",
        "message": f"Requested version {printed} is not active",
    }


async def test_a_version_with_a_revision_inside_the_window_is_served(client: httpx.AsyncClient) -> None:
    token = await login(client)
    assert (
        await create_post(
            client,
            token,
            "x",
        )
    ).status_code == 201
    response = await client.post("/rest/posts", json=post_body(token.author, "y"), headers=token.headers("202609.01"))
    assert response.status_code == 201


async def test_the_active_window_can_be_moved_live(client: httpx.AsyncClient) -> None:
    token = await login(client)
    await client.put("/_sandbox/app", json={"active_versions": ["202610", "202612"]})
    assert (await create_post(client, token, "x")).status_code == 426


async def test_a_missing_scope_is_403_naming_resource_method_and_version(client: httpx.AsyncClient) -> None:
    token = await login(client, scopes=("openid", "profile", "w_member_social"))
    created = await create_post(client, token, "mine")
    urn = created.headers["x-restli-id"].replace(":", "%3A")
    response = await client.get(f"/rest/posts/{urn}", headers=token.headers())
    assert response.status_code == 403
    assert response.json() == {
        "status": 403,
        "serviceErrorCode": 100,
        "code": "ACCESS_DENIED",
        "message": "Not enough permissions to access: partnerApiPostsExternal.GET.20260901",
    }


async def test_the_token_is_checked_before_the_version(client: httpx.AsyncClient) -> None:
    response = await client.post("/rest/posts", headers={"Authorization": "Bearer bad"})
    assert response.status_code == 401


async def test_without_the_protocol_header_the_call_defaults_to_1_0_and_is_served(client: httpx.AsyncClient) -> None:
    token = await login(client)
    headers = {k: v for k, v in token.headers().items() if k != "X-Restli-Protocol-Version"}
    assert (await client.post("/rest/posts", json=post_body(token.author, "a"), headers=headers)).status_code == 201
    await client.put("/_sandbox/app", json={"require_restli_2": True})
    assert (await client.post("/rest/posts", json=post_body(token.author, "b"), headers=headers)).status_code == 400


async def test_the_member_quota_is_daily_and_resets_at_utc_midnight(client: httpx.AsyncClient) -> None:
    await client.post("/_sandbox/clock", json={"now": "2026-09-20T23:58:00+00:00"})
    await client.put("/_sandbox/app", json={"member_daily_quota": 3})
    token = await login(client)
    other = await login(client, member="Grace Hopper")
    assert [(await create_post(client, token, f"post {i}")).status_code for i in range(3)] == [201] * 3
    throttled = await create_post(client, token, "post 4")
    assert throttled.status_code == 429 and "retry-after" not in throttled.headers
    assert throttled.json() == {
        "status": 429,
        "code": "TOO_MANY_REQUESTS",
        "message": "Resource level throttle limit for calls to this resource is reached.",
    }
    assert (await create_post(client, other, "another member")).status_code == 201
    await client.post("/_sandbox/clock", json={"advance_s": 60})  # 23:59 — still the same UTC day
    assert (await create_post(client, token, "post 5")).status_code == 429
    await client.post("/_sandbox/clock", json={"advance_s": 61})  # 00:00:01 the next day
    assert (await create_post(client, token, "post 6")).status_code == 201
    stats = (await client.get("/_sandbox/stats")).json()
    assert stats["served"]["429"] == 2


async def test_the_app_quota_counts_every_member_and_can_send_retry_after(client: httpx.AsyncClient) -> None:
    await client.put("/_sandbox/app", json={"app_daily_quota": 2, "send_retry_after": True})
    first, second = await login(client), await login(client, member="Grace Hopper")
    assert (await create_post(client, first, "a")).status_code == 201
    assert (await create_post(client, second, "b")).status_code == 201
    throttled = await create_post(client, second, "c")
    assert throttled.status_code == 429 and throttled.headers["retry-after"]


async def test_other_endpoints_can_get_a_quota(client: httpx.AsyncClient) -> None:
    await client.put("/_sandbox/app", json={"endpoint_quotas": {"posts.finder": [1, 100]}})
    token = await login(client)
    params = {"q": "author", "author": token.author}
    assert (await client.get("/rest/posts", params=params, headers=token.headers())).status_code == 200
    assert (await client.get("/rest/posts", params=params, headers=token.headers())).status_code == 429


async def test_by_default_a_member_may_create_150_posts_a_day(client: httpx.AsyncClient) -> None:
    token = await login(client)
    statuses = [(await create_post(client, token, f"post number {i}")).status_code for i in range(151)]
    assert statuses == [201] * 150 + [429]
