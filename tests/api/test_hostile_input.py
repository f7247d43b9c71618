"""Hostile input (integers past 64 bits, NUL characters) is a readable 422 on both databases, never a 500,
and nothing of it is stored. SQLite would keep a NUL and PostgreSQL would choke on it: the edge refuses it
before either sees it, so both answer the same."""

from __future__ import annotations

from typing import Any

import httpx
import pytest
from pydantic import ValidationError
from sqlalchemy import func, select
from sqlalchemy.ext.asyncio import AsyncSession, async_sessionmaker

from autopilot.accounts.models import ApiToken, Organization, User
from autopilot.kit.errors import describe_validation
from autopilot.kit.inputs import Input
from tests.support.accounts import PASSWORD, Account

PAST_64_BITS = 2**63  # one more than the largest BIGINT
NUL_REFUSED = "text must not contain NUL characters"


class Label(Input):
    text: str = ""


class Note(Input):  # what a future domain's body might hold: nested lists, dicts and models
    title: str = ""
    tags: list[str] = []
    payload: dict[str, Any] = {}
    labels: list[Label] = []


async def count(sessions: async_sessionmaker[AsyncSession], model: Any) -> int:
    async with sessions() as session:
        return int(await session.scalar(select(func.count()).select_from(model)) or 0)


def assert_refused(response: httpx.Response, *words: str) -> None:
    assert response.status_code == 422, response.text
    assert response.headers["content-type"] == "application/problem+json"
    body = response.json()
    assert body["status"] == 422
    for word in words:
        assert word in body["detail"], body["detail"]


@pytest.mark.parametrize(
    ("method", "url", "field"),
    [
        ("GET", f"/api/v1/jobs/{PAST_64_BITS}", "job_id"),
        ("POST", f"/api/v1/jobs/{PAST_64_BITS}/retry", "job_id"),
        ("POST", f"/api/v1/jobs/{PAST_64_BITS}/cancel", "job_id"),
        ("GET", f"/api/v1/jobs?offset={PAST_64_BITS}", "offset"),
        ("GET", f"/api/v1/jobs/{-PAST_64_BITS - 1}", "job_id"),
    ],
    ids=["get-job", "retry-job", "cancel-job", "list-offset", "negative-job"],
)
async def test_integers_past_64_bits_are_refused_where_declared(
    client: httpx.AsyncClient, alice: Account, method: str, url: str, field: str
) -> None:
    response = await client.request(method, url, headers=alice.auth)
    assert_refused(response, field)


async def test_the_largest_64_bit_id_is_simply_not_found(client: httpx.AsyncClient, alice: Account) -> None:
    response = await client.get(f"/api/v1/jobs/{PAST_64_BITS - 1}", headers=alice.auth)
    assert response.status_code == 404, response.text


async def test_nul_in_the_profile_name_is_refused_and_the_name_kept(client: httpx.AsyncClient, alice: Account) -> None:
    before = (await client.get("/api/v1/me", headers=alice.auth)).json()["user"]["name"]
    response = await client.patch("/api/v1/me", json={"name": "a\u0000b"}, headers=alice.auth)
    assert_refused(response, "name", NUL_REFUSED)
    assert (await client.get("/api/v1/me", headers=alice.auth)).json()["user"]["name"] == before


async def test_nul_in_a_token_name_is_refused_and_no_token_made(
    client: httpx.AsyncClient, sessions: async_sessionmaker[AsyncSession], alice: Account
) -> None:
    before = await count(sessions, ApiToken)
    response = await client.post("/api/v1/tokens", json={"name": "ci\u0000bot"}, headers=alice.auth)
    assert_refused(response, "name", NUL_REFUSED)
    assert await count(sessions, ApiToken) == before


@pytest.mark.parametrize(
    "body",
    [
        {"organization_name": "Evil\u0000 Corp"},
        {"organization_name": "Evil Corp", "name": "\u0000"},
        {"organization_name": "Evil Corp", "email": "nul\u0000@example.com"},
    ],
    ids=["organization-name", "person-name", "email"],
)
async def test_nul_at_sign_up_is_refused_and_nobody_is_created(
    client: httpx.AsyncClient, sessions: async_sessionmaker[AsyncSession], body: dict[str, str]
) -> None:
    before = (await count(sessions, User), await count(sessions, Organization))
    signup = {"email": "nul@example.com", "password": PASSWORD, **body}
    assert_refused(await client.post("/api/v1/auth/signup", json=signup), NUL_REFUSED)
    assert (await count(sessions, User), await count(sessions, Organization)) == before


@pytest.mark.parametrize(
    "url",
    ["/api/v1/jobs?kind=a%00b", "/api/v1/jobs?kind=ok&status=%00", "/api/v1/jobs/1%00"],
    ids=["query-kind", "query-status", "path"],
)
async def test_nul_in_the_url_is_refused(client: httpx.AsyncClient, alice: Account, url: str) -> None:
    assert_refused(await client.get(url, headers=alice.auth), NUL_REFUSED)


async def test_nul_in_a_login_is_refused_without_counting_as_a_failure(
    client: httpx.AsyncClient, alice: Account
) -> None:
    for _ in range(12):  # more than the throttle allows: a refused input is not a failed login
        response = await client.post("/api/v1/auth/login", json={"email": alice.email, "password": "x\u0000"})
        assert_refused(response, "password", NUL_REFUSED)
    again = await client.post("/api/v1/auth/login", json={"email": alice.email, "password": alice.password})
    assert again.status_code == 200, again.text


@pytest.mark.parametrize(
    ("body", "sentence"),
    [
        ({"title": "a\u0000"}, f"title: {NUL_REFUSED}."),
        ({"tags": ["ok", "b\u0000d"]}, f"tags: {NUL_REFUSED} (in [1])."),
        ({"payload": {"a": [{"b": "\u0000"}]}}, f"payload: {NUL_REFUSED} (in a[0].b)."),
        ({"payload": {"k\u0000": 1}}, f"payload: {NUL_REFUSED} (in <key>)."),
        ({"labels": [{"text": "x"}, {"text": "\u0000"}]}, f"labels: {NUL_REFUSED} (in [1].text)."),
    ],
    ids=["text", "list-item", "nested-dict", "dict-key", "nested-model"],
)
def test_any_body_built_on_input_refuses_nul_wherever_it_hides(body: dict[str, Any], sentence: str) -> None:
    with pytest.raises(ValidationError) as refused:
        Note.model_validate(body)
    assert describe_validation(refused.value.errors())[0] == f"Invalid input — {sentence}"


def test_text_without_nul_and_unknown_fields_keep_their_usual_answers() -> None:
    assert Note.model_validate({"title": "fine", "payload": {"a": [1, None, "b"]}}).title == "fine"
    with pytest.raises(ValidationError, match="Extra inputs are not permitted"):
        Note.model_validate({"surprise": 1})
