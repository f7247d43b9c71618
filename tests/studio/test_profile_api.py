"""The writer profile API: empty until saved, replaced whole, bounded, one per user, private to its
owner (on SQLite and on PostgreSQL)."""

from __future__ import annotations

import asyncio

import httpx

from tests.support.accounts import Account, make_account

PROFILE = {
    "topics": ["platform engineering", "FinOps", "finops"],
    "about": "I help SaaS teams cut cloud bills.",
    "audience": "CTOs of seed-stage startups",
    "voice_examples": ["We shipped it. 🚀\nIt took three tries.\nWorth it? Yes. 🚀"],
}


async def test_a_profile_is_empty_until_saved_then_read_back_with_its_voice(
    client: httpx.AsyncClient, alice: Account
) -> None:
    empty = await client.get("/api/v1/studio/profile", headers=alice.auth)
    assert empty.status_code == 200, empty.text
    assert empty.json()["topics"] == [] and empty.json()["updated_at"] is None
    saved = await client.put("/api/v1/studio/profile", json=PROFILE, headers=alice.auth)
    assert saved.status_code == 200, saved.text
    body = (await client.get("/api/v1/studio/profile", headers=alice.auth)).json()
    assert body["topics"] == ["platform engineering", "FinOps"]  # "finops" is the same topic
    assert body["about"] == PROFILE["about"] and body["voice_examples"] == PROFILE["voice_examples"]
    assert body["updated_at"] is not None
    assert "Emoji: 🚀" in body["voice"] and "Person: “we”." in body["voice"]


async def test_saving_again_replaces_the_whole_profile(client: httpx.AsyncClient, alice: Account) -> None:
    await client.put("/api/v1/studio/profile", json=PROFILE, headers=alice.auth)
    again = await client.put("/api/v1/studio/profile", json={"topics": ["security"]}, headers=alice.auth)
    assert again.status_code == 200
    body = (await client.get("/api/v1/studio/profile", headers=alice.auth)).json()
    assert body["topics"] == ["security"] and body["about"] == "" and body["voice_examples"] == []


async def test_concurrent_first_saves_keep_one_profile(client: httpx.AsyncClient, alice: Account) -> None:
    answers = await asyncio.gather(
        *(client.put("/api/v1/studio/profile", json={"about": f"version {n}"}, headers=alice.auth) for n in range(5))
    )
    assert [a.status_code for a in answers] == [200] * 5
    body = (await client.get("/api/v1/studio/profile", headers=alice.auth)).json()
    assert body["about"].startswith("version ")


async def test_oversized_or_blank_fields_are_refused_whole(client: httpx.AsyncClient, alice: Account) -> None:
    await client.put("/api/v1/studio/profile", json=PROFILE, headers=alice.auth)
    for bad in (
        {"topics": ["x"] * 11},
        {"topics": ["  "]},
        {"about": "a" * 1001},
        {"audience": "a" * 201},
        {"voice_examples": ["v"] * 6},
        {"voice_examples": ["v" * 3001]},
        {"about": "nul \x00 inside"},
        {"unknown": 1},
    ):
        refused = await client.put("/api/v1/studio/profile", json=bad, headers=alice.auth)
        assert refused.status_code == 422, (bad, refused.text)
        assert refused.headers["content-type"] == "application/problem+json"
        assert refused.json()["detail"].startswith("Invalid input")
    kept = (await client.get("/api/v1/studio/profile", headers=alice.auth)).json()
    assert kept["about"] == PROFILE["about"]  # nothing half-written


async def test_each_user_sees_only_their_own_profile(client: httpx.AsyncClient, alice: Account, bob: Account) -> None:
    await client.put("/api/v1/studio/profile", json=PROFILE, headers=alice.auth)
    assert (await client.get("/api/v1/studio/profile", headers=bob.auth)).json()["about"] == ""
    colleague = await make_account(client, "carol@example.com", "Carol Org")
    assert (await client.get("/api/v1/studio/profile", headers=colleague.auth)).json()["topics"] == []
    assert (await client.get("/api/v1/studio/profile")).status_code == 401
