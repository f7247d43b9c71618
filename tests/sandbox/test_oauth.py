"""The sandbox's OAuth 2.0 / OpenID Connect behaves like www.linkedin.com (contract §1)."""

from __future__ import annotations

import httpx
import jwt
import pytest
from fastapi import FastAPI
from starlette.applications import Starlette
from starlette.routing import Mount

from autopilot.sandbox.linkedin import SandboxConfig, create_app
from tests.sandbox.conftest import (
    BASE,
    REDIRECT,
    auth_query,
    consent,
    exchange,
    login,
    redirect_params,
)


async def test_allow_on_the_consent_page_returns_a_code_and_the_state(client: httpx.AsyncClient) -> None:
    page = await client.get("/oauth/v2/authorization", params=auth_query())
    assert "LinkedIn (Sandbox)" in page.text and "Sign in as" in page.text
    assert 'value="Sandbox Member"' in page.text
    params = redirect_params(await consent(client))
    assert params["state"] == "s1" and params["code"].startswith("AQ")


async def test_cancel_on_the_consent_page_returns_user_cancelled_authorize(client: httpx.AsyncClient) -> None:
    params = redirect_params(await consent(client, decision="cancel"))
    assert params["error"] == "user_cancelled_authorize"
    assert params["error_description"] and params["state"] == "s1" and "code" not in params


async def test_auto_approve_skips_the_page_and_picks_the_named_member(client: httpx.AsyncClient) -> None:
    await client.put("/_sandbox/app", json={"auto_approve": True})
    response = await client.get("/oauth/v2/authorization", params=auth_query(sandbox_member="Grace Hopper"))
    token = (await exchange(client, redirect_params(response)["code"])).json()
    info = await client.get("/v2/userinfo", headers={"Authorization": f"Bearer {token['access_token']}"})
    assert info.json()["name"] == "Grace Hopper" and info.json()["email"] == "grace.hopper@example.com"


async def test_a_returning_member_with_the_same_scopes_skips_consent(client: httpx.AsyncClient) -> None:
    await consent(client, member="Ada Lovelace")  # sets the member cookie
    again = await client.get("/oauth/v2/authorization", params=auth_query())
    assert again.status_code == 302 and "code=" in again.headers["location"]
    wider = await client.get("/oauth/v2/authorization", params=auth_query(scopes=("openid", "r_member_postAnalytics")))
    assert wider.status_code == 200  # a new scope needs consent again


@pytest.mark.parametrize(
    ("change", "message"),
    [
        ({"client_id": "someone-else"}, "Client_id doesn't match"),
        ({"redirect_uri": "ftp://nope"}, "Redirect_uri doesn't match"),
        ({"scope": "openid r_organization_admin"}, "Invalid scope"),
    ],
)
async def test_a_bad_authorization_request_is_rendered_as_a_401_page(
    client: httpx.AsyncClient, change: dict[str, str], message: str
) -> None:
    response = await client.get("/oauth/v2/authorization", params={**auth_query(), **change})
    assert response.status_code == 401 and message in response.text


async def test_registered_redirect_uris_match_exactly_ignoring_the_query(client: httpx.AsyncClient) -> None:
    await client.put("/_sandbox/app", json={"redirect_uris": [REDIRECT]})
    ok = await client.get("/oauth/v2/authorization", params=auth_query(redirect_uri=REDIRECT + "?next=1"))
    other = await client.get("/oauth/v2/authorization", params=auth_query(redirect_uri=REDIRECT + "/x"))
    assert ok.status_code == 200 and other.status_code == 401


async def test_a_code_can_be_exchanged_only_once(client: httpx.AsyncClient) -> None:
    code = redirect_params(await consent(client))["code"]
    first = await exchange(client, code)
    second = await exchange(client, code)
    assert first.status_code == 200
    assert second.status_code == 400 and second.json()["error"] == "invalid_request"
    assert "authorization code" in second.json()["error_description"]


async def test_a_code_older_than_30_minutes_or_for_another_redirect_fails(client: httpx.AsyncClient) -> None:
    code = redirect_params(await consent(client))["code"]
    assert (await exchange(client, code, "https://app.example/other")).status_code == 400
    code = redirect_params(await consent(client))["code"]
    await client.post("/_sandbox/clock", json={"advance_s": 30 * 60 + 1})
    assert (await exchange(client, code)).status_code == 400


async def test_an_unknown_code_is_not_found(client: httpx.AsyncClient) -> None:
    response = await exchange(client, "AQnope")
    assert response.status_code == 401
    assert response.json()["error_description"].endswith("authorization code not found")


async def test_the_token_endpoint_is_form_only(client: httpx.AsyncClient) -> None:
    response = await client.post("/oauth/v2/accessToken", json={"grant_type": "authorization_code"})
    assert response.status_code == 400
    assert response.json() == {
        "error": "invalid_request",
        "error_description": 'A required parameter "grant_type" is missing',
    }


async def test_bad_client_credentials_fail_with_401(client: httpx.AsyncClient) -> None:
    code = redirect_params(await consent(client))["code"]
    response = await client.post(
        "/oauth/v2/accessToken",
        data={
            "grant_type": "authorization_code",
            "code": code,
            "redirect_uri": REDIRECT,
            "client_id": "sandbox-client-id",
            "client_secret": "wrong",
        },
    )
    assert response.status_code == 401


async def test_the_token_response_has_linkedins_fields(client: httpx.AsyncClient) -> None:
    token = await login(client)
    body = token.response
    assert body["expires_in"] == 5183999 and body["token_type"] == "Bearer"
    assert body["scope"] == "email,openid,profile,r_member_social,w_member_social"
    assert body["refresh_token_expires_in"] == 31535999 and body["refresh_token"]
    assert len(body["access_token"]) > 300 and body["id_token"].count(".") == 2


async def test_no_refresh_token_without_programmatic_refresh(client: httpx.AsyncClient) -> None:
    await client.put("/_sandbox/app", json={"refresh_enabled": False})
    token = await login(client)
    assert "refresh_token" not in token.response and "refresh_token_expires_in" not in token.response


async def test_no_id_token_without_openid(client: httpx.AsyncClient) -> None:
    token = await login(client, scopes=("w_member_social",))
    assert "id_token" not in token.response


def refresh_form(refresh_token: str) -> dict[str, str]:
    return {
        "grant_type": "refresh_token",
        "refresh_token": refresh_token,
        "client_id": "sandbox-client-id",
        "client_secret": "sandbox-client-secret",
    }


async def test_refresh_keeps_the_refresh_token_and_its_absolute_expiry(client: httpx.AsyncClient) -> None:
    token = await login(client)
    refresh = token.response["refresh_token"]
    await client.post("/_sandbox/clock", json={"advance_s": 100 * 86400})
    response = await client.post("/oauth/v2/accessToken", data=refresh_form(refresh))
    body = response.json()
    assert response.status_code == 200
    assert body["refresh_token"] == refresh and body["access_token"] != token.access_token
    assert body["expires_in"] == 5183999
    assert 31535999 - 100 * 86400 - 5 <= body["refresh_token_expires_in"] <= 31535999 - 100 * 86400
    await client.post("/_sandbox/clock", json={"advance_s": 260 * 86400})  # day 360: both expire in ~5 days (§1.5)
    late = (await client.post("/oauth/v2/accessToken", data=refresh_form(refresh))).json()
    assert late["expires_in"] == late["refresh_token_expires_in"] < 5183999  # capped by the refresh token
    await client.post("/_sandbox/clock", json={"advance_s": 10 * 86400})
    expired = await client.post("/oauth/v2/accessToken", data=refresh_form(refresh))
    assert expired.status_code == 400 and expired.json()["error"] == "invalid_request"


async def test_refresh_fails_once_the_app_loses_programmatic_refresh(client: httpx.AsyncClient) -> None:
    token = await login(client)
    await client.put("/_sandbox/app", json={"refresh_enabled": False})
    response = await client.post("/oauth/v2/accessToken", data=refresh_form(token.response["refresh_token"]))
    assert response.status_code == 400
    assert response.json()["error_description"].startswith("The provided authorization grant or refresh token")


async def test_the_id_token_verifies_with_the_published_keys(client: httpx.AsyncClient) -> None:
    token = await login(client, member="Ada Lovelace")
    discovery = (await client.get("/.well-known/openid-configuration")).json()
    assert discovery["issuer"] == BASE and discovery["jwks_uri"] == f"{BASE}/oauth/openid/jwks"
    keys = (await client.get(discovery["jwks_uri"])).json()["keys"]
    header = jwt.get_unverified_header(token.response["id_token"])
    key = next(k for k in keys if k["kid"] == header["kid"])
    claims = jwt.decode(
        token.response["id_token"],
        jwt.PyJWK(key).key,
        algorithms=["RS256"],
        audience="sandbox-client-id",
        issuer=discovery["issuer"],
    )
    assert claims["sub"] == token.sub and claims["name"] == "Ada Lovelace"
    assert claims["given_name"] == "Ada" and claims["family_name"] == "Lovelace"
    assert claims["email"] == "ada.lovelace@example.com" and claims["email_verified"] is True
    assert claims["exp"] - claims["iat"] == 3600


async def test_userinfo_gives_the_member_and_locale_as_an_object(client: httpx.AsyncClient) -> None:
    token = await login(client, member="Ada Lovelace")
    info = (await client.get("/v2/userinfo", headers={"Authorization": f"Bearer {token.access_token}"})).json()
    assert info["sub"] == token.sub and len(token.sub) == 10
    assert info["locale"] == {"country": "US", "language": "en"}
    assert info["email"] == "ada.lovelace@example.com"
    # the same display name is the same member, every time
    assert (await login(client, member="Ada Lovelace")).sub == token.sub


async def test_userinfo_without_openid_or_profile_is_403(client: httpx.AsyncClient) -> None:
    token = await login(client, scopes=("w_member_social",))
    response = await client.get("/v2/userinfo", headers={"Authorization": f"Bearer {token.access_token}"})
    assert response.status_code == 403
    assert response.json()["message"] == "Not enough permissions to access: userinfo.GET.NO_VERSION"


async def test_introspection_reports_active_then_revoked(client: httpx.AsyncClient) -> None:
    token = await login(client)
    form = {"client_id": "sandbox-client-id", "client_secret": "sandbox-client-secret", "token": token.access_token}
    active = (await client.post("/oauth/v2/introspectToken", data=form)).json()
    assert active["active"] is True and active["status"] == "active" and active["auth_type"] == "3L"
    assert active["expires_at"] - active["created_at"] == 5183999
    assert (await client.post("/oauth/v2/revoke", data=form)).status_code == 200
    revoked = (await client.post("/oauth/v2/introspectToken", data=form)).json()
    assert revoked["active"] is False and revoked["status"] == "revoked"
    assert (await client.post("/oauth/v2/introspectToken", data={**form, "client_secret": "x"})).status_code == 401
    assert (await client.post("/oauth/v2/introspectToken", data={**form, "token": "nope"})).status_code == 400


async def test_a_different_scope_set_invalidates_the_members_earlier_tokens(client: httpx.AsyncClient) -> None:
    first = await login(client, member="Ada Lovelace")
    await login(client, member="Ada Lovelace", scopes=("openid", "profile", "w_member_social"))
    response = await client.get("/v2/userinfo", headers={"Authorization": f"Bearer {first.access_token}"})
    assert response.status_code == 401 and response.json()["serviceErrorCode"] == 65601


async def test_urls_are_built_from_the_mount_prefix() -> None:
    sandbox: FastAPI = create_app(SandboxConfig())
    outer = Starlette(routes=[Mount("/sandbox/linkedin", app=sandbox)])
    transport = httpx.ASGITransport(app=outer)
    async with httpx.AsyncClient(transport=transport, base_url="http://product.test") as http:
        discovery = (await http.get("/sandbox/linkedin/.well-known/openid-configuration")).json()
        assert discovery["issuer"] == "http://product.test/sandbox/linkedin"
        assert discovery["jwks_uri"] == "http://product.test/sandbox/linkedin/oauth/openid/jwks"
        page = await http.get("/sandbox/linkedin/oauth/v2/authorization", params=auth_query())
        assert 'action="http://product.test/sandbox/linkedin/oauth/v2/authorization/consent"' in page.text
