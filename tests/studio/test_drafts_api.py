"""Drafts through the API with the offline engine: the structures are listed, the same seed gives the
same post, `save` creates a content draft, and bad input is refused whole with nothing stored."""

from __future__ import annotations

import uuid

import httpx
from sqlalchemy.ext.asyncio import AsyncSession, async_sessionmaker

from tests.api.test_tenant_isolation import a_linkedin_integration
from tests.support.accounts import Account

DRAFT = {"structure": "how_to", "topic": "data contracts", "key_points": ["Name an owner", "Version the schema"]}


async def contents(client: httpx.AsyncClient, account: Account) -> list[dict[str, object]]:
    listed = await client.get("/api/v1/content", headers=account.auth)
    assert listed.status_code == 200, listed.text
    found: list[dict[str, object]] = listed.json()
    return found


async def test_the_structures_are_listed_with_their_parts(client: httpx.AsyncClient, alice: Account) -> None:
    answer = await client.get("/api/v1/studio/structures", headers=alice.auth)
    assert answer.status_code == 200
    listed = {s["key"]: s for s in answer.json()}
    assert len(listed) >= 10 and {"story", "lesson", "contrarian", "checklist", "myth_vs_fact"} <= set(listed)
    parts = {p["name"]: p["phrasings"] for p in listed["story"]["parts"]}
    assert list(parts) == ["hook", "context", "body", "turn", "takeaway", "cta"]
    assert all(len(phrasings) >= 3 for phrasings in parts.values())


async def test_an_offline_draft_is_deterministic_and_not_saved_unless_asked(
    client: httpx.AsyncClient, alice: Account
) -> None:
    first = await client.post("/api/v1/studio/drafts", json={**DRAFT, "seed": 11}, headers=alice.auth)
    assert first.status_code == 200, first.text
    body = first.json()
    assert body["engine"] == "offline" and body["seed"] == 11 and body["content_id"] is None
    assert "Step 1: Name an owner" in body["text"] and "Step 2: Version the schema" in body["text"]
    assert body["preview"]["characters"] <= 3000 and body["preview"]["fits"] is True
    again = await client.post("/api/v1/studio/drafts", json={**DRAFT, "seed": 11}, headers=alice.auth)
    assert again.json()["text"] == body["text"]
    other = await client.post("/api/v1/studio/drafts", json={**DRAFT, "seed": 12}, headers=alice.auth)
    assert other.json()["text"] != body["text"]
    unseeded = await client.post("/api/v1/studio/drafts", json=DRAFT, headers=alice.auth)
    assert isinstance(unseeded.json()["seed"], int)  # returned, so the post can be made again
    assert await contents(client, alice) == []


async def test_saving_creates_a_content_draft_with_the_generated_text(
    client: httpx.AsyncClient, alice: Account
) -> None:
    answer = await client.post("/api/v1/studio/drafts", json={**DRAFT, "seed": 3, "save": True}, headers=alice.auth)
    assert answer.status_code == 200, answer.text
    content_id = answer.json()["content_id"]
    saved = await client.get(f"/api/v1/content/{content_id}", headers=alice.auth)
    assert saved.status_code == 200
    assert saved.json()["state"] == "draft" and saved.json()["text"] == answer.json()["text"]


async def test_the_profile_shapes_the_draft(client: httpx.AsyncClient, alice: Account) -> None:
    profile = {
        "topics": ["data platforms"],
        "about": "We are a two-person data consultancy.",
        "audience": "heads of data",
        "voice_examples": ["Our team shipped it. 🚀\nWe learned a lot.\nWould you do it again? 🚀"],
    }
    assert (await client.put("/api/v1/studio/profile", json=profile, headers=alice.auth)).status_code == 200
    answer = await client.post("/api/v1/studio/drafts", json={**DRAFT, "seed": 5}, headers=alice.auth)
    text = answer.json()["text"]
    assert "🚀" in text and "We are a two-person data consultancy." in text
    assert "Person: “we”." in answer.json()["voice"]
    assert [h["tag"] for h in answer.json()["hashtags"]] == ["#DataContracts", "#DataPlatforms"]


async def test_bad_input_is_refused_whole_and_nothing_is_saved(
    client: httpx.AsyncClient, alice: Account, bob: Account, sessions: async_sessionmaker[AsyncSession]
) -> None:
    for bad in (
        {**DRAFT, "structure": "sonnet"},
        {**DRAFT, "topic": "  "},
        {**DRAFT, "key_points": ["x"] * 11},
        {**DRAFT, "key_points": ["x" * 281]},
        {**DRAFT, "engine": "gpt"},
        {**DRAFT, "seed": -1},
        {**DRAFT, "hashtags": 6},
    ):
        refused = await client.post("/api/v1/studio/drafts", json={**bad, "save": True}, headers=alice.auth)
        assert refused.status_code == 422, (bad, refused.text)
        assert refused.headers["content-type"] == "application/problem+json"
    unknown = await client.post("/api/v1/studio/drafts", json={**DRAFT, "structure": "sonnet"}, headers=alice.auth)
    assert "choose one of: story" in unknown.json()["detail"]
    bobs_account = await a_linkedin_integration(client, bob, sessions)
    foreign = {**DRAFT, "save": True, "integration_id": bobs_account}
    refused = await client.post("/api/v1/studio/drafts", json=foreign, headers=alice.auth)
    assert refused.status_code == 404, refused.text
    missing = {**DRAFT, "save": True, "integration_id": str(uuid.uuid4())}
    assert (await client.post("/api/v1/studio/drafts", json=missing, headers=alice.auth)).status_code == 404
    assert await contents(client, alice) == []
    own_account = await a_linkedin_integration(client, alice, sessions)
    kept = await client.post(
        "/api/v1/studio/drafts", json={**foreign, "integration_id": own_account}, headers=alice.auth
    )
    assert kept.status_code == 200, kept.text
    saved = await client.get(f"/api/v1/content/{kept.json()['content_id']}", headers=alice.auth)
    assert saved.json()["integration_id"] == own_account
