"""The Approvals page and the JSON action the phone's outbox sends: who sees which drafts, the
badge count, and what `POST /approvals/{id}/decision` answers — once per Idempotency-Key, 412 with
the new text for a draft that changed, problem+json for every refusal, nothing half-decided."""

from __future__ import annotations

import re
import uuid
from typing import Any

import httpx

from autopilot.content.approvals import FOLD_CHARS, fold
from tests.support.accounts import Account, log_in_with_the_form, member


async def waiting_draft(client: httpx.AsyncClient, author: Account, text: str) -> dict[str, Any]:
    made = await client.post("/api/v1/content", json={"text": text}, headers=author.auth)
    assert made.status_code == 201, made.text
    asked = await client.post(f"/api/v1/content/{made.json()['id']}/request-approval", headers=author.auth)
    assert asked.status_code == 200, asked.text
    body: dict[str, Any] = asked.json()
    return body


def page_csrf(page: httpx.Response) -> str:
    found = re.search(r'<meta name="csrf-token" content="([^"]+)">', page.text)
    assert found, page.text[:500]
    return found.group(1)


async def decide(
    client: httpx.AsyncClient,
    csrf: str,
    post: str,
    decision: str,
    version: int | str | None,
    key: str | None,
    **body: str,
) -> httpx.Response:
    headers = {"X-CSRF-Token": csrf}
    if version is not None:
        headers["If-Match"] = f'"{version}"' if isinstance(version, int) else version
    if key is not None:
        headers["Idempotency-Key"] = key
    return await client.post(f"/approvals/{post}/decision", json={"decision": decision, **body}, headers=headers)


async def audit(client: httpx.AsyncClient, who: Account, post: str) -> list[str]:
    answer = await client.get(f"/api/v1/content/{post}/events", headers=who.auth)
    assert answer.status_code == 200, answer.text
    return [event["action"] for event in answer.json()]


def test_the_see_more_cut_keeps_three_lines_or_about_140_characters_without_splitting_a_word() -> None:
    assert fold("one\ntwo\nthree\nfour\nfive") == ("one\ntwo\nthree", "\nfour\nfive")
    long = "word " * 60
    hook, more = fold(long)
    assert len(hook) <= FOLD_CHARS and hook.endswith("word") and hook + more == long
    assert fold("short") == ("short", "")


async def test_the_queue_shows_each_waiting_draft_with_its_author_version_and_cut_then_the_badge_counts_them(
    client: httpx.AsyncClient, alice: Account
) -> None:
    editor = await member(client, alice, "ed@example.com", "editor")
    long = "A hook that makes you stop scrolling. " * 6 + "\nThe rest of the story."
    first = await waiting_draft(client, editor, long)
    second = await waiting_draft(client, editor, "Short & sweet <b>not bold</b>")
    await client.post("/api/v1/content", json={"text": "Still a draft"}, headers=editor.auth)

    await log_in_with_the_form(client, alice)
    page = await client.get("/approvals")
    assert page.status_code == 200
    ids = re.findall(r'<article class="card draft" id="draft-([0-9a-f-]{36})"', page.text)
    assert ids == [first["id"], second["id"]]  # oldest first; the plain draft is not waiting
    assert 'data-version="1"' in page.text and "ed@example.com" in page.text
    assert "<summary>…see more</summary>" in page.text and "The rest of the story." in page.text
    assert "Short &amp; sweet &lt;b&gt;not bold&lt;/b&gt;" in page.text
    assert "2 drafts waiting for your decision." in page.text and "Approve all 2" in page.text
    assert (await client.get("/approvals/badge")).json() == {"count": 2}
    assert '<span class="count" data-badge-src="/approvals/badge" hidden></span>' in page.text


async def test_an_editor_sees_no_queue_and_may_not_decide(client: httpx.AsyncClient, alice: Account) -> None:
    editor = await member(client, alice, "ed@example.com", "editor")
    post = await waiting_draft(client, editor, "Mine to write, not to approve")
    await log_in_with_the_form(client, editor)
    page = await client.get("/approvals")
    assert "Nothing waits for your approval." in page.text and "draft-" not in page.text
    assert (await client.get("/approvals/badge")).json() == {"count": 0}
    refused = await decide(client, page_csrf(page), post["id"], "approve", 1, str(uuid.uuid4()))
    assert refused.status_code == 403 and refused.headers["content-type"] == "application/problem+json"
    assert (await audit(client, alice, post["id"]))[-1] == "approval_requested"


async def test_a_decision_is_applied_once_per_key_and_answers_the_first_outcome_again(
    client: httpx.AsyncClient, alice: Account
) -> None:
    editor = await member(client, alice, "ed@example.com", "editor")
    post = (await waiting_draft(client, editor, "Approve me once"))["id"]
    await log_in_with_the_form(client, alice)
    csrf = page_csrf(await client.get("/approvals"))
    key = str(uuid.uuid4())

    first = await decide(client, csrf, post, "approve", 1, key)
    assert first.status_code == 200, first.text
    assert first.json() == {"state": "approved", "version": 1, "replayed": False}
    again = await decide(client, csrf, post, "approve", 1, key)
    assert again.status_code == 200 and again.json() == {"state": "approved", "version": 1, "replayed": True}
    assert again.headers["idempotent-replayed"] == "true"
    assert (await audit(client, alice, post)).count("approved") == 1
    # A new decision (a new key) on a draft that no longer waits is a state conflict, said in JSON.
    late = await decide(client, csrf, post, "approve", 1, str(uuid.uuid4()))
    assert late.status_code == 409 and late.headers["content-type"] == "application/problem+json"
    assert "already approved" in late.json()["detail"]
    assert (await client.get("/approvals/badge")).json() == {"count": 0}


async def test_a_draft_edited_since_the_phone_read_it_answers_412_with_its_new_text_and_nothing_is_decided(
    client: httpx.AsyncClient, alice: Account
) -> None:
    editor = await member(client, alice, "ed@example.com", "editor")
    post = (await waiting_draft(client, editor, "Version one"))["id"]
    await log_in_with_the_form(client, alice)
    csrf = page_csrf(await client.get("/approvals"))
    edited = await client.patch(f"/api/v1/content/{post}", json={"text": "Version two"}, headers=editor.auth)
    assert edited.status_code == 200 and edited.json()["state"] == "pending_approval"

    key = str(uuid.uuid4())
    stale = await decide(client, csrf, post, "approve", 1, key)
    assert stale.status_code == 412 and stale.headers["content-type"] == "application/problem+json"
    assert stale.json()["current"] == {"id": post, "version": 2, "text": "Version two", "state": "pending_approval"}
    assert "approved" not in await audit(client, alice, post)
    # The same key once more is not a replay of a decision (none was taken): still 412.
    assert (await decide(client, csrf, post, "approve", 1, key)).status_code == 412
    fresh = await decide(client, csrf, post, "reject", 2, str(uuid.uuid4()), comment="Say it in one line")
    assert fresh.status_code == 200 and fresh.json()["state"] == "draft"


async def test_a_decision_without_its_headers_or_with_bad_input_is_refused_whole(
    client: httpx.AsyncClient, alice: Account
) -> None:
    editor = await member(client, alice, "ed@example.com", "editor")
    post = (await waiting_draft(client, editor, "Refuse the bad requests"))["id"]
    await log_in_with_the_form(client, alice)
    csrf = page_csrf(await client.get("/approvals"))
    key = str(uuid.uuid4())
    cases = {
        403: await decide(client, "not-the-token", post, "approve", 1, key),
        428: await decide(client, csrf, post, "approve", None, key),
        400: await decide(client, csrf, post, "approve", "yesterday", key),
    }
    cases[422] = await decide(client, csrf, post, "maybe", 1, key)
    no_key = await decide(client, csrf, post, "approve", 1, None)
    no_reason = await decide(client, csrf, post, "reject", 1, key)
    for status, answer in [*cases.items(), (400, no_key), (422, no_reason)]:
        assert answer.status_code == status, (status, answer.text)
        assert answer.headers["content-type"] == "application/problem+json", answer.text
        assert answer.json()["detail"]
    assert "Idempotency-Key" in no_key.json()["detail"] and "If-Match" in cases[428].json()["detail"]
    assert "say why in a comment" in no_reason.json()["detail"]
    assert await audit(client, alice, post) == ["created", "approval_requested"]
    # The key was not used up by the refusals: it still decides.
    assert (await decide(client, csrf, post, "approve", 1, key)).json()["replayed"] is False


async def test_logged_out_the_page_and_its_actions_lead_to_log_in(client: httpx.AsyncClient, alice: Account) -> None:
    editor = await member(client, alice, "ed@example.com", "editor")
    post = (await waiting_draft(client, editor, "Nobody is logged in"))["id"]
    for answer in (
        await client.get("/approvals"),
        await client.get("/approvals/badge"),
        await decide(client, "x", post, "approve", 1, "k"),
    ):
        assert answer.status_code == 303 and answer.headers["location"] == "/login"
