"""The Posts API: what LinkedIn accepts, refuses, stores and shows (contract §3, §8)."""

from __future__ import annotations

import re
from urllib.parse import quote

import httpx

from tests.sandbox.conftest import Token, create_post, login, post_body, sandbox_posts


def enc(urn: str) -> str:
    return quote(urn, safe="")


async def test_a_post_is_created_with_201_and_its_urn_in_x_restli_id(client: httpx.AsyncClient) -> None:
    token = await login(client)
    response = await create_post(client, token, "Hello from the sandbox")
    assert response.status_code == 201 and response.content == b""
    urn = response.headers["x-restli-id"]
    assert re.fullmatch(r"urn:li:share:\d{19}", urn) and response.headers["x-linkedin-id"] == urn
    [stored] = await sandbox_posts(client)
    assert stored["urn"] == urn and stored["author"] == token.author
    assert stored["displayed_text"] == "Hello from the sandbox"
    assert re.fullmatch(r"urn:li:activity:\d{19}", stored["activity"]) and stored["activity"][16:] != urn[13:]


async def test_3000_characters_pass_and_3001_are_refused(client: httpx.AsyncClient) -> None:
    token = await login(client)
    assert (await create_post(client, token, "é" * 3000)).status_code == 201
    response = await create_post(client, token, "a" * 3001)
    assert response.status_code == 400
    body = response.json()
    assert body["status"] == 400 and body["errorDetailType"] == "com.linkedin.common.error.BadRequest"
    assert (
        "ShareCommentary text length (3001 characters) exceeded the maximum allowed (3000 characters)"
        in (body["message"])
    )
    assert body["errorDetails"]["inputErrors"][0]["code"] == "FIELD_ARRAY_SIZE_TOO_HIGH"


async def test_the_limit_counts_the_escaped_text_as_sent(client: httpx.AsyncClient) -> None:
    token = await login(client)
    response = await create_post(client, token, "\\(" * 1501)  # 1501 characters shown, 3002 sent
    assert response.status_code == 400


async def test_an_unescaped_parenthesis_silently_truncates_the_post(client: httpx.AsyncClient) -> None:
    token = await login(client)
    response = await create_post(client, token, "We shipped v2 (finally) after months")
    assert response.status_code == 201
    [stored] = await sandbox_posts(client)
    assert stored["commentary"] == "We shipped v2 " and stored["displayed_text"] == "We shipped v2 "
    assert stored["truncated"] is True


async def test_hashtags_mentions_and_escapes_are_shown_as_members_see_them(client: httpx.AsyncClient) -> None:
    token = await login(client)
    text = "Thanks @[Ada Lovelace](urn:li:person:abc) \\(and team\\)!\n\\* shipped #python {hashtag|\\#|Rust}"
    urn = (await create_post(client, token, text)).headers["x-restli-id"]
    [stored] = await sandbox_posts(client)
    assert stored["displayed_text"] == "Thanks Ada Lovelace (and team)!\n* shipped #python #Rust"
    assert stored["hashtags"] == ["python", "Rust"]
    got = (await client.get(f"/rest/posts/{enc(urn)}", headers=token.headers())).json()
    assert got["commentary"] == text.replace("#python", "{hashtag|\\#|python}")


async def test_an_identical_post_within_the_window_is_a_duplicate_naming_the_first(client: httpx.AsyncClient) -> None:
    token = await login(client)
    first = (await create_post(client, token, "Same  text")).headers["x-restli-id"]
    again = await create_post(client, token, "Same text ")  # whitespace is normalized
    assert again.status_code == 422
    assert again.json() == {
        "errorDetailType": "com.linkedin.common.error.BadRequest",
        "message": "com.linkedin.content.common.exception.BadRequestResponseException: "
        f"Content is a duplicate of {first}",
        "errorDetails": {
            "inputErrors": [{"description": "Duplicate post is detected", "input": {}, "code": "DUPLICATE_POST"}]
        },
        "status": 422,
    }
    other = await login(client, member="Grace Hopper")
    assert (await create_post(client, other, "Same text")).status_code == 201  # per author
    await client.post("/_sandbox/clock", json={"advance_s": 601})
    assert (await create_post(client, token, "Same text")).status_code == 201


async def test_a_deleted_post_still_blocks_its_retry_inside_the_window(client: httpx.AsyncClient) -> None:
    token = await login(client)
    urn = (await create_post(client, token, "ghost")).headers["x-restli-id"]
    await client.delete(f"/rest/posts/{enc(urn)}", headers=token.headers())
    again = await create_post(client, token, "ghost")
    assert again.status_code == 422 and urn in again.json()["message"]
    await client.put("/_sandbox/app", json={"duplicates_survive_delete": False})
    assert (await create_post(client, token, "ghost")).status_code == 201


async def test_get_then_delete_then_404(client: httpx.AsyncClient) -> None:
    token = await login(client)
    urn = (await create_post(client, token, "to be deleted")).headers["x-restli-id"]
    got = await client.get(f"/rest/posts/{enc(urn)}", headers=token.headers())
    assert got.status_code == 200
    entity = got.json()
    assert entity["id"] == urn and entity["author"] == token.author and entity["lifecycleState"] == "PUBLISHED"
    assert isinstance(entity["createdAt"], int) and entity["createdAt"] > 1_600_000_000_000
    delete = await client.delete(f"/rest/posts/{enc(urn)}", headers=token.headers(**{"X-RestLi-Method": "DELETE"}))
    assert delete.status_code == 204
    assert (await client.delete(f"/rest/posts/{enc(urn)}", headers=token.headers())).status_code == 404
    missing = await client.get(f"/rest/posts/{enc(urn)}", headers=token.headers())
    assert missing.status_code == 404 and missing.json()["code"] == "NOT_FOUND"
    assert await sandbox_posts(client) == []
    assert (await sandbox_posts(client, include_deleted="true"))[0]["deleted"] is True


async def test_a_raw_colon_in_the_path_is_a_syntax_error(client: httpx.AsyncClient) -> None:
    token = await login(client)
    urn = (await create_post(client, token, "x")).headers["x-restli-id"]
    response = await client.get(f"/rest/posts/{urn}", headers=token.headers())
    assert response.status_code == 400
    assert response.json() == {
        "status": 400,
        "code": "ILLEGAL_ARGUMENT",
        "message": "Syntax exception in path variables",
    }


async def test_reads_need_r_member_social_unless_switched_off(client: httpx.AsyncClient) -> None:
    token = await login(client, scopes=("openid", "profile", "w_member_social"))
    urn = (await create_post(client, token, "x")).headers["x-restli-id"]
    assert (await client.get(f"/rest/posts/{enc(urn)}", headers=token.headers())).status_code == 403
    assert (await client.delete(f"/rest/posts/{enc(urn)}", headers=token.headers())).status_code == 204
    await client.put("/_sandbox/app", json={"reads_require_r_member_social": False})
    assert (await client.get(f"/rest/posts/{enc(urn)}", headers=token.headers())).status_code == 404


async def test_the_author_finder_lists_newest_first_with_paging(client: httpx.AsyncClient) -> None:
    token = await login(client)
    urns = []
    for i in range(3):
        urns.append((await create_post(client, token, f"post {i}")).headers["x-restli-id"])
        await client.post("/_sandbox/clock", json={"advance_s": 1})
    query = f"q=author&author={enc(token.author)}&count=2&start=0&sortBy=CREATED"
    page = (await client.get(f"/rest/posts?{query}", headers=token.headers())).json()
    assert [e["id"] for e in page["elements"]] == [urns[2], urns[1]]
    assert page["paging"] == {"start": 0, "count": 2, "links": [], "total": 3}
    rest = (await client.get(f"/rest/posts?{query.replace('start=0', 'start=2')}", headers=token.headers())).json()
    assert [e["id"] for e in rest["elements"]] == [urns[0]]


async def test_batch_get_returns_results_and_errors(client: httpx.AsyncClient) -> None:
    token = await login(client)
    urn = (await create_post(client, token, "x")).headers["x-restli-id"]
    missing = "urn:li:share:7000000000000000001"
    response = await client.get(f"/rest/posts?ids=List({enc(urn)},{enc(missing)})", headers=token.headers())
    body = response.json()
    assert list(body["results"]) == [urn] and list(body["errors"]) == [missing]


async def test_partial_update_changes_the_commentary(client: httpx.AsyncClient) -> None:
    token = await login(client)
    urn = (await create_post(client, token, "before")).headers["x-restli-id"]
    response = await client.post(
        f"/rest/posts/{enc(urn)}",
        json={"patch": {"$set": {"commentary": "after #edit"}}},
        headers=token.headers(**{"X-RestLi-Method": "PARTIAL_UPDATE"}),
    )
    assert response.status_code == 204
    [stored] = await sandbox_posts(client)
    assert stored["displayed_text"] == "after #edit"
    bad = await client.post(
        f"/rest/posts/{enc(urn)}",
        json={"patch": {"$set": {"author": "urn:li:person:x"}}},
        headers=token.headers(**{"X-RestLi-Method": "PARTIAL_UPDATE"}),
    )
    assert bad.status_code == 422 and "/patch/$set/author :: unrecognized field" in bad.json()["message"]


async def test_missing_fields_are_422_in_restli_words(client: httpx.AsyncClient) -> None:
    token = await login(client)
    response = await client.post("/rest/posts", json={}, headers=token.headers())
    assert response.status_code == 422
    assert response.json() == {
        "message": "ERROR :: /author :: field is required but not found and has no default value\n"
        "ERROR :: /commentary :: field is required but not found and has no default value\n"
        "ERROR :: /visibility :: field is required but not found and has no default value\n"
        "ERROR :: /distribution :: field is required but not found and has no default value\n"
        "ERROR :: /lifecycleState :: field is required but not found and has no default value\n",
        "status": 422,
    }


async def test_unknown_fields_and_wrong_types_are_422(client: httpx.AsyncClient) -> None:
    token = await login(client)
    body = {**post_body(token.author, "x"), "foo": 1, "visibility": 19.9, "isReshareDisabledByAuthor": "no"}
    message = (await client.post("/rest/posts", json=body, headers=token.headers())).json()["message"]
    assert "ERROR :: /foo :: unrecognized field found but not allowed\n" in message
    assert "ERROR :: /visibility :: 19.9 cannot be coerced to String\n" in message
    assert 'ERROR :: /isReshareDisabledByAuthor :: "no" cannot be coerced to Boolean\n' in message


async def test_a_body_that_is_not_json_is_illegal_argument(client: httpx.AsyncClient) -> None:
    token = await login(client)
    response = await client.post("/rest/posts", content=b"author=me", headers=token.headers())
    assert response.status_code == 400
    assert response.json() == {
        "status": 400,
        "code": "ILLEGAL_ARGUMENT",
        "message": "Request body could not be converted to data map",
    }


async def test_a_bad_author_urn_is_400_and_someone_elses_is_403(client: httpx.AsyncClient) -> None:
    token = await login(client)
    bad = await client.post("/rest/posts", json=post_body("urn:li:share:1", "x"), headers=token.headers())
    assert bad.status_code == 400 and bad.json()["errorDetails"]["inputErrors"][0]["code"] == "INVALID_URN_TYPE"
    other = await client.post("/rest/posts", json=post_body("urn:li:person:someone", "x"), headers=token.headers())
    assert other.status_code == 403


async def test_only_published_is_accepted_at_creation_unless_drafts_are_switched_on(client: httpx.AsyncClient) -> None:
    token = await login(client)
    draft = post_body(token.author, "draft", lifecycleState="DRAFT")
    assert (await client.post("/rest/posts", json=draft, headers=token.headers())).status_code == 400
    await client.put("/_sandbox/app", json={"accept_draft": True})
    assert (await client.post("/rest/posts", json=draft, headers=token.headers())).status_code == 201


async def test_ids_are_unique_and_the_urn_kind_can_be_forced(client: httpx.AsyncClient) -> None:
    token: Token = await login(client)
    urns = {(await create_post(client, token, f"n{i}")).headers["x-restli-id"] for i in range(20)}
    assert len(urns) == 20
    await client.put("/_sandbox/app", json={"post_urn_kind": "ugcPost"})
    assert (await create_post(client, token, "forced")).headers["x-restli-id"].startswith("urn:li:ugcPost:")


async def test_the_feed_page_shows_what_members_read_escaped(client: httpx.AsyncClient) -> None:
    token = await login(client, member="Ada Lovelace")
    await create_post(client, token, "Line one\nLine two \\<script\\> #tag")
    page = await client.get("/_sandbox/feed")
    assert "<title>LinkedIn (Sandbox) feed</title>" in page.text
    assert "Line one\nLine two &lt;script&gt; #tag" in page.text and "<script>" not in page.text
    assert "Ada Lovelace" in page.text and "0 reactions" in page.text
