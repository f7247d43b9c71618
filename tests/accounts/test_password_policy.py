"""The password policy (NIST SP 800-63B): common, repetitive, sequential and personal passwords are
refused with a reason a person understands, in the API and the sign-up form; a password is kept
exactly as typed, spaces included; a passphrase is welcome."""

from __future__ import annotations

import html

import httpx
import pytest

from autopilot.accounts.passwords import check_password
from autopilot.kit.errors import Unprocessable
from tests.support.accounts import Account

EMAIL = "grace.hopper@example.com"
SIGNUP = {"email": EMAIL, "name": "Grace Hopper", "organization_name": "Cobol Works"}

WEAK = [
    pytest.param("aaaaaaaaaa", "repeats characters", id="repeated"),
    pytest.param("1234567890", "this password is too common", id="common-digits"),
    pytest.param("password1234", "this password is too common", id="common-word"),
    pytest.param("abcdefghij", "is a sequence", id="sequence"),
    pytest.param(EMAIL, "it contains your e-mail address", id="the-email"),
    pytest.param("grace.hopper1", "it contains your e-mail address", id="email-local-part"),
    pytest.param("Hopper Grace 1906", "it contains your name", id="the-name"),
    pytest.param("cobolworks2024", "it contains your organization's name", id="the-organization"),
    pytest.param("autopilot2024!", "it contains the name of this service", id="the-product"),
]


async def signup(client: httpx.AsyncClient, password: str) -> httpx.Response:
    return await client.post("/api/v1/auth/signup", json={**SIGNUP, "password": password})


@pytest.mark.parametrize(("password", "reason"), WEAK)
async def test_a_weak_password_is_refused_by_the_api_with_the_reason(
    client: httpx.AsyncClient, password: str, reason: str
) -> None:
    response = await signup(client, password)
    assert response.status_code == 422, response.text
    assert response.headers["content-type"] == "application/problem+json"
    [error] = response.json()["errors"]
    assert error["field"] == "password"
    assert reason in error["message"]
    # Nothing was created: the same e-mail can still sign up with a good password.
    assert (await signup(client, "seven purple lanterns drift home")).status_code in (201, 202)


async def test_the_sign_up_form_shows_the_same_readable_reason(client: httpx.AsyncClient) -> None:
    form = await client.get("/signup")
    token = form.text.split('name="csrf_token" value="')[1].split('"')[0]
    for password, reason in (("1234567890", "this password is too common"), (EMAIL, "contains your e-mail")):
        page = await client.post(
            "/signup", data={**SIGNUP, "password": password, "timezone": "UTC", "csrf_token": token}
        )
        assert page.status_code == 422
        assert reason in html.unescape(page.text)
        assert 'value="grace.hopper@example.com"' in page.text  # the form is kept, the password is not
        assert password not in html.unescape(page.text).replace(EMAIL, "")


async def test_a_new_member_cannot_accept_an_invitation_with_a_weak_password(
    client: httpx.AsyncClient, alice: Account
) -> None:
    sent = await client.post("/api/v1/invitations", json={"email": "newbie@example.com"}, headers=alice.auth)
    token = sent.json()["accept_token"]
    for weak, reason in (("aaaaaaaaaa", "repeats characters"), ("newbie@example.com", "e-mail")):
        response = await client.post("/api/v1/invitations/accept", json={"token": token, "password": weak})
        assert response.status_code == 422, response.text
        assert reason in response.json()["detail"]
    # Refused whole: the invitation is still there for a good password.
    good = await client.post("/api/v1/invitations/accept", json={"token": token, "password": "quiet orchard at dawn"})
    assert good.status_code == 201, good.text


async def test_spaces_in_a_password_are_kept_exactly(client: httpx.AsyncClient) -> None:
    password = " pass phrase with spaces  "
    assert (await signup(client, password)).status_code in (201, 202)
    exact = await client.post("/api/v1/auth/login", json={"email": EMAIL, "password": password})
    assert exact.status_code == 200, exact.text
    stripped = await client.post("/api/v1/auth/login", json={"email": EMAIL, "password": password.strip()})
    assert stripped.status_code == 401


async def test_a_passphrase_is_accepted(client: httpx.AsyncClient) -> None:
    assert (await signup(client, "correct horse battery staple")).status_code in (201, 202)
    login = await client.post("/api/v1/auth/login", json={"email": EMAIL, "password": "correct horse battery staple"})
    assert login.status_code == 200


def test_the_policy_for_services_is_a_422_that_says_why() -> None:
    with pytest.raises(Unprocessable) as refused:
        check_password("aaaaaaaaaa", email=EMAIL)
    assert "repeats characters" in refused.value.detail
    with pytest.raises(Unprocessable) as personal:
        check_password("Grace Hopper!!", email=EMAIL, name="Grace Hopper", organization="Cobol Works")
    assert "contains your name" in personal.value.detail
    with pytest.raises(Unprocessable, match="at most 1024"):
        check_password("correct horse battery staple " * 40)
    check_password("correct horse battery staple", email=EMAIL, name="Grace Hopper", organization="Cobol Works")
    # A passphrase that mentions the user is fine when the rest is strong on its own.
    check_password("grace walks purple lanterns home", email=EMAIL, name="Grace Hopper")
