"""The review of a draft: editors write and ask, approvers decide — once, even when a phone sends
its decision twice — every step lands in the audit log with who and when, and the state machine
refuses what it forbids with 409 and a reason."""

from __future__ import annotations

import asyncio
import json
import uuid
from typing import Any

import httpx
from sqlalchemy.ext.asyncio import AsyncSession, async_sessionmaker

from autopilot.config import Settings
from tests.support.accounts import Account, log_in_with_the_form, member
from tests.support.jobs import job_runner
from tests.support.linkedin import connect
from tests.support.linkedin_sandbox import SandboxControl
from tests.support.scheduling import schedule
from tests.support.webpush import PushService, as_browser_json, run_pushes


async def team(client: httpx.AsyncClient, owner: Account) -> tuple[Account, Account]:
    """An editor and an approver in the owner's organization."""
    return await member(client, owner, "ed@example.com", "editor"), await member(
        client, owner, "ann@example.com", "approver"
    )


async def draft(client: httpx.AsyncClient, author: Account, text: str) -> dict[str, Any]:
    made = await client.post("/api/v1/content", json={"text": text}, headers=author.auth)
    assert made.status_code == 201, made.text
    body: dict[str, Any] = made.json()
    return body


async def act(
    client: httpx.AsyncClient, who: Account, post: str, step: str, headers: dict[str, str] | None = None, **body: Any
) -> httpx.Response:
    return await client.post(
        f"/api/v1/content/{post}/{step}", json=body or None, headers={**who.auth, **(headers or {})}
    )


async def ask(client: httpx.AsyncClient, who: Account, post: str) -> None:
    assert (await act(client, who, post, "request-approval")).status_code == 200


async def events(client: httpx.AsyncClient, who: Account, post: str) -> list[dict[str, Any]]:
    answer = await client.get(f"/api/v1/content/{post}/events", headers=who.auth)
    assert answer.status_code == 200, answer.text
    found: list[dict[str, Any]] = answer.json()
    return found


async def test_every_step_of_a_review_is_in_the_audit_log_with_who_and_when(
    client: httpx.AsyncClient, alice: Account, sandbox: SandboxControl
) -> None:
    editor, approver = await team(client, alice)
    post = (await draft(client, editor, "How we halved our deploy time"))["id"]
    assert (await act(client, editor, post, "request-approval", comment="Ready for a look")).json()["state"] == (
        "pending_approval"
    )
    rejected = await act(client, approver, post, "reject", comment="Add the numbers")
    assert rejected.status_code == 200 and rejected.json()["state"] == "draft"
    await client.patch(f"/api/v1/content/{post}", json={"text": "Deploys: 40 → 20 minutes"}, headers=editor.auth)
    await ask(client, editor, post)
    assert (await act(client, approver, post, "approve")).json()["state"] == "approved"
    edited = await client.patch(f"/api/v1/content/{post}", json={"text": "Deploys: 40 → 19 min"}, headers=editor.auth)
    assert edited.json()["state"] == "draft" and edited.json()["approved_at"] is None
    await ask(client, editor, post)
    await act(client, approver, post, "approve")
    await connect(client, alice)
    assert (await schedule(client, alice, post)).status_code == 200

    log = await events(client, alice, post)
    who = {editor.user_id: "editor", approver.user_id: "approver", alice.user_id: "owner"}
    assert [(e["action"], who[e["actor_id"]], e["from_state"], e["to_state"], e["version"]) for e in log] == [
        ("created", "editor", "", "draft", 1),
        ("approval_requested", "editor", "draft", "pending_approval", 1),
        ("rejected", "approver", "pending_approval", "draft", 1),
        ("edited", "editor", "draft", "draft", 2),
        ("approval_requested", "editor", "draft", "pending_approval", 2),
        ("approved", "approver", "pending_approval", "approved", 2),
        ("edited_after_approval", "editor", "approved", "draft", 3),
        ("approval_requested", "editor", "draft", "pending_approval", 3),
        ("approved", "approver", "pending_approval", "approved", 3),
        ("scheduled", "owner", "approved", "scheduled", 3),
    ]
    assert all(e["created_at"] for e in log)
    assert log[2]["note"] == "Add the numbers" and log[-1]["note"].startswith("for ")
    versions = (await client.get(f"/api/v1/content/{post}/versions", headers=editor.auth)).json()
    assert [(v["version"], v["text"]) for v in versions] == [
        (3, "Deploys: 40 → 19 min"),
        (2, "Deploys: 40 → 20 minutes"),
        (1, "How we halved our deploy time"),
    ]
    comments = (await client.get(f"/api/v1/content/{post}/comments", headers=editor.auth)).json()
    assert [c["body"] for c in comments] == ["Ready for a look", "Add the numbers"]


async def test_the_state_machine_refuses_what_it_forbids_with_409_and_a_reason(
    client: httpx.AsyncClient, alice: Account
) -> None:
    editor, approver = await team(client, alice)
    post = (await draft(client, editor, "A draft"))["id"]
    refused = await act(client, approver, post, "reject", comment="no")
    assert refused.status_code == 409
    assert refused.headers["content-type"] == "application/problem+json"
    assert "only content waiting for approval (or approved) can be rejected" in refused.json()["detail"]
    await ask(client, editor, post)
    again = await act(client, editor, post, "request-approval")
    assert again.status_code == 409 and "only a draft can be sent for approval" in again.json()["detail"]
    no_reason = await act(client, approver, post, "reject")
    assert no_reason.status_code == 422 and "say why in a comment" in no_reason.json()["detail"]
    assert (await act(client, approver, post, "approve")).status_code == 200
    twice = await act(client, approver, post, "approve")
    assert twice.status_code == 409 and "already approved" in twice.json()["detail"]
    assert [e["action"] for e in await events(client, alice, post)] == ["created", "approval_requested", "approved"]


async def test_an_editor_cannot_approve_and_nobody_publishes_a_draft_that_was_not_approved(
    client: httpx.AsyncClient, alice: Account, sandbox: SandboxControl
) -> None:
    editor, _approver = await team(client, alice)
    post = (await draft(client, editor, "An editor's draft"))["id"]
    await ask(client, editor, post)
    for step, body in (("approve", {}), ("reject", {"comment": "no"})):
        refused = await act(client, editor, post, step, **body)
        assert refused.status_code == 403, refused.text
        assert "only an owner, an admin or an approver can approve content" in refused.json()["detail"]
    bulk = await client.post("/api/v1/content/approve", json={"ids": [post]}, headers=editor.auth)
    assert bulk.status_code == 403
    await connect(client, alice)
    for who in (editor, alice):
        published = await client.post(f"/api/v1/content/{post}/publish", headers=who.auth)
        assert published.status_code == 409
        assert "only approved content can be published or scheduled" in published.json()["detail"]
        assert (await schedule(client, who, post)).status_code == 409
    assert [e["action"] for e in await events(client, alice, post)] == ["created", "approval_requested"]


async def test_a_decision_sent_again_with_its_idempotency_key_is_applied_once(
    client: httpx.AsyncClient, alice: Account
) -> None:
    editor, approver = await team(client, alice)
    post = (await draft(client, editor, "Once only"))["id"]
    await ask(client, editor, post)
    key = {"Idempotency-Key": str(uuid.uuid4()), "If-Match": '"1"'}
    answers = await asyncio.gather(*(act(client, approver, post, "approve", key) for _ in range(5)))
    assert [a.status_code for a in answers] == [200] * 5
    assert sorted(a.headers.get("Idempotent-Replayed", "false") for a in answers) == ["false"] + ["true"] * 4
    later = await act(client, approver, post, "approve", key)
    assert later.status_code == 200 and later.headers["Idempotent-Replayed"] == "true"
    assert [e["action"] for e in await events(client, alice, post)].count("approved") == 1
    other = (await draft(client, editor, "Another"))["id"]
    await ask(client, editor, other)
    reused = await act(client, approver, other, "approve", {"Idempotency-Key": key["Idempotency-Key"]})
    assert reused.status_code == 422 and "already used for another decision" in reused.json()["detail"]
    assert (await client.get(f"/api/v1/content/{other}", headers=alice.auth)).json()["state"] == "pending_approval"


async def test_a_draft_edited_since_the_reviewer_read_it_answers_412_with_the_new_text(
    client: httpx.AsyncClient, alice: Account
) -> None:
    editor, approver = await team(client, alice)
    post = (await draft(client, editor, "Version one"))["id"]
    await ask(client, editor, post)
    read = await client.get(f"/api/v1/content/{post}", headers=approver.auth)
    assert read.headers["etag"] == '"1"'
    await client.patch(f"/api/v1/content/{post}", json={"text": "Version two"}, headers=editor.auth)
    stale = await act(client, approver, post, "approve", {"If-Match": read.headers["etag"], "Idempotency-Key": "k1"})
    assert stale.status_code == 412
    assert stale.json()["current"] == {"id": post, "version": 2, "text": "Version two", "state": "pending_approval"}
    assert "changed since you read it" in stale.json()["detail"]
    assert (await client.get(f"/api/v1/content/{post}", headers=alice.auth)).json()["state"] == "pending_approval"
    fresh = await act(client, approver, post, "approve", {"If-Match": '"2"', "Idempotency-Key": "k2"})
    assert fresh.status_code == 200 and fresh.json()["version"] == 2
    bad = await act(client, approver, post, "approve", {"If-Match": "yesterday"})
    assert bad.status_code == 400


async def test_bulk_approve_approves_each_waiting_draft_and_says_why_one_was_refused(
    client: httpx.AsyncClient, alice: Account
) -> None:
    editor, approver = await team(client, alice)
    waiting = [(await draft(client, editor, f"Draft {n}"))["id"] for n in range(3)]
    for post in waiting:
        await ask(client, editor, post)
    published_elsewhere = (await draft(client, editor, "Already approved"))["id"]
    await act(client, approver, published_elsewhere, "approve")
    answer = await client.post(
        "/api/v1/content/approve", json={"ids": [*waiting, published_elsewhere]}, headers=approver.auth
    )
    assert answer.status_code == 200, answer.text
    results = answer.json()["results"]
    assert [results[p] for p in waiting] == ["approved"] * 3
    assert results[published_elsewhere].startswith("refused: this content is approved")


async def test_asking_for_approval_tells_each_approvers_phone_once_with_the_count(
    client: httpx.AsyncClient,
    alice: Account,
    push_service: PushService,
    sessions: async_sessionmaker[AsyncSession],
    settings: Settings,
) -> None:
    editor, approver = await team(client, alice)
    phone = push_service.subscribe()
    subscribed = await client.post("/api/v1/push/subscriptions", json=as_browser_json(phone), headers=approver.auth)
    assert subscribed.status_code == 201, subscribed.text
    for text in ("First", "Second"):
        await ask(client, editor, (await draft(client, editor, text))["id"])
    assert set(await run_pushes(sessions, job_runner(sessions, settings))) == {"succeeded"}
    (message,) = push_service.messages(phone["id"])  # one Topic: the second count replaced the first
    assert message["topic"] == "approvals" and json.loads(message["payload"])["count"] == 2


async def test_the_author_reads_why_a_draft_came_back_on_the_posts_page(
    client: httpx.AsyncClient, alice: Account
) -> None:
    editor, approver = await team(client, alice)
    post = (await draft(client, editor, "Microservices for a team of three"))["id"]
    await ask(client, editor, post)
    await act(client, approver, post, "reject", comment="Say who it is for & why")
    await log_in_with_the_form(client, editor)
    page = await client.get("/posts")
    assert "Say who it is for &amp; why" in page.text
    assert ">Send for approval</button>" in page.text
