"""Bad input gets a clear 4xx problem+json, and nothing is stored."""

from __future__ import annotations

import httpx
import pytest
from sqlalchemy import func, select
from sqlalchemy.ext.asyncio import AsyncSession, async_sessionmaker

from autopilot.accounts.models import Organization, User
from autopilot.accounts.service import SIGNUP_ANSWER
from tests.support.accounts import Account

GOOD = {"email": "new@example.com", "password": "a long enough password", "organization_name": "New Co"}


async def counts(sessions: async_sessionmaker[AsyncSession]) -> tuple[int, int]:
    async with sessions() as session:
        users = await session.scalar(select(func.count()).select_from(User))
        orgs = await session.scalar(select(func.count()).select_from(Organization))
    return int(users or 0), int(orgs or 0)


def assert_problem(response: httpx.Response, status: int, words: str) -> None:
    assert response.status_code == status, response.text
    assert response.headers["content-type"] == "application/problem+json"
    body = response.json()
    assert body["status"] == status
    assert words in body["detail"], body["detail"]


@pytest.mark.parametrize(
    ("body", "status", "words"),
    [
        (b'{"email": "x@example.com", "password": ', 422, "not valid JSON"),
        ({**GOOD, "timezone": "Europe/Atlantis"}, 422, "is not an IANA time zone"),
        ({"email": "new@example.com"}, 422, "password: is required"),
        ({**GOOD, "email": "not-an-email"}, 422, "email"),
        ({**GOOD, "password": "short"}, 422, "password"),
        ({**GOOD, "surprise": 1}, 422, "surprise"),
    ],
    ids=["malformed-json", "unknown-zone", "missing-fields", "bad-email", "short-password", "unknown-field"],
)
async def test_bad_signup_is_refused_whole(
    client: httpx.AsyncClient, sessions: async_sessionmaker[AsyncSession], body: object, status: int, words: str
) -> None:
    before = await counts(sessions)
    if isinstance(body, bytes):
        response = await client.post("/api/v1/auth/signup", content=body, headers={"content-type": "application/json"})
    else:
        response = await client.post("/api/v1/auth/signup", json=body)
    assert_problem(response, status, words)
    assert await counts(sessions) == before


async def test_a_known_email_gets_the_same_answer_as_a_new_one_and_nothing_is_created(
    client: httpx.AsyncClient, sessions: async_sessionmaker[AsyncSession], alice: Account
) -> None:
    before = await counts(sessions)
    known = await client.post("/api/v1/auth/signup", json={**GOOD, "email": "ALICE@example.com"})
    assert await counts(sessions) == before  # no second account or organization
    new = await client.post("/api/v1/auth/signup", json={**GOOD, "email": "newcomer@example.com"})
    assert (known.status_code, known.json()) == (new.status_code, new.json()) == (202, {"detail": SIGNUP_ANSWER})
    # The known e-mail's owner still has their account and password.
    login = await client.post("/api/v1/auth/login", json={"email": alice.email, "password": alice.password})
    assert login.status_code == 200


async def test_oversized_body_is_413_before_anything_is_read(
    client: httpx.AsyncClient, sessions: async_sessionmaker[AsyncSession]
) -> None:
    before = await counts(sessions)
    huge = {**GOOD, "organization_name": "x" * 2_000_000}
    assert_problem(await client.post("/api/v1/auth/signup", json=huge), 413, "larger than the limit")

    async def chunks():  # no Content-Length: the limit still holds
        for _ in range(40):
            yield b"x" * 65_536

    streamed = await client.post("/api/v1/auth/signup", content=chunks(), headers={"content-type": "application/json"})
    assert_problem(streamed, 413, "larger than the limit")
    assert await counts(sessions) == before


async def test_unknown_route_and_wrong_id_type_are_problems(client: httpx.AsyncClient, alice: Account) -> None:
    assert_problem(await client.get("/api/v1/nothing-here", headers=alice.auth), 404, "No such resource")
    assert_problem(await client.delete("/api/v1/tokens/not-a-uuid", headers=alice.auth), 422, "token_id")
