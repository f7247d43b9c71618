"""Tokens minted by the control API, for load set-ups that connect thousands of members at once."""

from __future__ import annotations

import httpx

from tests.sandbox.conftest import Token, create_post, sandbox_posts


async def test_minted_tokens_post_as_their_members_like_tokens_from_consent(client: httpx.AsyncClient) -> None:
    minted = await client.post("/_sandbox/tokens/mint", json={"members": ["Ada Lovelace", "Grace Hopper"]})
    assert minted.status_code == 200, minted.text
    ada, grace = minted.json()["elements"]
    assert ada["member"] == "Ada Lovelace" and ada["refresh_token"] and ada["expires_in"] > 0
    for element, text in ((ada, "From Ada"), (grace, "From Grace")):
        token = Token(element["access_token"], element["sub"], element)
        assert (await create_post(client, token, text)).status_code == 201
    me = await client.get("/v2/userinfo", headers={"Authorization": f"Bearer {grace['access_token']}"})
    assert me.json()["sub"] == grace["sub"] and me.json()["name"] == "Grace Hopper"
    posts = await sandbox_posts(client)
    assert {(p["author"], p["displayed_text"]) for p in posts} == {
        (f"urn:li:person:{ada['sub']}", "From Ada"),
        (f"urn:li:person:{grace['sub']}", "From Grace"),
    }


async def test_minting_needs_a_list_of_member_names(client: httpx.AsyncClient) -> None:
    refused = await client.post("/_sandbox/tokens/mint", json={"members": "Ada"})
    assert refused.status_code == 400 and "members" in refused.json()["error"]
