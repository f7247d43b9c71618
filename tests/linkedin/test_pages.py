"""The Integrations and Posts pages through the real app, as a browser without JavaScript uses them:
log in with the form, press the forms' buttons (with the page's CSRF token), read what is shown."""

from __future__ import annotations

import asyncio
import re
from html import unescape

import httpx
import pytest
from sqlalchemy.ext.asyncio import AsyncSession, async_sessionmaker

from autopilot.config import Settings
from tests.support.accounts import Account, csrf_of, log_in_with_the_form
from tests.support.linkedin import connect, running_engine, through_consent
from tests.support.linkedin_sandbox import SandboxControl


def text_of(page: httpx.Response) -> str:
    """The page's visible text, roughly: tags dropped, entities decoded, spaces squeezed."""
    return re.sub(r"\s+", " ", unescape(re.sub(r"<[^>]+>", " ", page.text)))


def alert_of(page: httpx.Response) -> str:
    found = re.search(r'<p class="alert error" role="alert">(.*?)</p>', page.text, re.S)
    assert found, f"no error message on the page:\n{page.text[:2000]}"
    return unescape(found.group(1))


async def press(client: httpx.AsyncClient, page_path: str, action: str, **fields: str) -> httpx.Response:
    """Submit a form of the page at *page_path* to *action*, with the token the page carries."""
    token = csrf_of(await client.get(page_path))
    return await client.post(action, data={"csrf_token": token, **fields})


async def write(client: httpx.AsyncClient, text: str, first_comment: str = "") -> httpx.Response:
    return await press(client, "/posts", "/posts", text=text, first_comment=first_comment)


def content_ids(page: httpx.Response) -> list[str]:
    return re.findall(r'<article class="post" id="post-([0-9a-f-]{36})"', page.text)


@pytest.fixture
async def web(client: httpx.AsyncClient, alice: Account) -> httpx.AsyncClient:
    """Alice's browser: logged in through the form."""
    await log_in_with_the_form(client, alice)
    return client


@pytest.mark.parametrize("path", ["/posts", "/integrations", "/posts/list"])
async def test_the_pages_send_a_visitor_who_is_not_logged_in_to_log_in(client: httpx.AsyncClient, path: str) -> None:
    answer = await client.get(path)
    assert answer.status_code == 303
    assert answer.headers["location"] == "/login"


async def test_without_a_connection_the_integrations_page_offers_to_connect_in_the_sandbox(
    web: httpx.AsyncClient, sandbox: SandboxControl, settings: Settings
) -> None:
    page = await web.get("/integrations")
    assert page.status_code == 200
    shown = text_of(page)
    assert "No LinkedIn account is connected yet." in shown
    assert re.search(r'<button type="submit">Connect LinkedIn</button>', page.text)
    assert '<span class="badge sandbox">Sandbox</span>' in page.text
    assert f'href="{sandbox.url}/_sandbox/feed">Open the sandbox LinkedIn feed</a>' in page.text
    assert "AUTOPILOT_LINKEDIN_CLIENT_ID" in shown and "AUTOPILOT_LINKEDIN_CLIENT_SECRET" in shown
    assert f"{settings.public_url}/api/v1/integrations/linkedin/callback" in shown
    assert '<a href="/integrations" aria-current="page">Integrations</a>' in page.text
    # "Connect" is redirected to LinkedIn's authorization page: the page's policy lets that form go there.
    assert f"form-action 'self' {sandbox.url}" in page.headers["content-security-policy"]


async def test_connecting_from_the_page_comes_back_to_it_showing_the_connection(
    web: httpx.AsyncClient, sandbox: SandboxControl
) -> None:
    started = await press(web, "/integrations", "/integrations/connect")
    assert started.status_code == 303
    assert started.headers["location"].startswith(f"{sandbox.url}/oauth/v2/authorization?")

    back = await web.get(await through_consent(started.headers["location"], member="Ada Lovelace"))
    assert back.status_code == 303
    assert re.fullmatch(r"/integrations\?connected=[0-9a-f-]{36}", back.headers["location"])

    page = await web.get(back.headers["location"])
    shown = text_of(page)
    assert "LinkedIn connected: Ada Lovelace." in shown
    assert "Ada Lovelace Connected Sandbox" in shown
    # What the default scopes (openid profile email w_member_social) allow, in plain words.
    assert "Can post Cannot read analytics Cannot read comments" in shown
    days = int(re.search(r"expires in (\d+) days", shown).group(1))  # type: ignore[union-attr]
    assert 14 <= days <= 60
    assert 'class="warning">expires in' not in page.text  # far from expiry: no warning
    assert "Health: not checked yet" in shown

    checked = await press(web, "/integrations", re.findall(r'action="(/integrations/[^"]+/check)"', page.text)[0])
    assert (checked.status_code, checked.headers["location"]) == (303, "/integrations?done=checked")
    assert "Health: working — LinkedIn answered" in text_of(await web.get("/integrations"))


async def test_a_connection_close_to_expiry_and_one_that_needs_reconnecting_say_so(
    web: httpx.AsyncClient, alice: Account, sandbox: SandboxControl
) -> None:
    sandbox.set_app(access_ttl_s=5 * 86400, refresh_enabled=False)
    member = (await connect(web, alice))["member_urn"].rpartition(":")[2]
    page = await web.get("/integrations")
    assert re.search(r'<span class="warning">expires in [45] days</span>', page.text), text_of(page)

    sandbox.revoke(member)  # as if revoked on linkedin.com
    await press(web, "/integrations", re.findall(r'action="(/integrations/[^"]+/check)"', page.text)[0])
    page = await web.get("/integrations")
    shown = text_of(page)
    assert "Needs reconnect" in shown
    assert re.search(r'<p class="alert error">LinkedIn refused the access token: [^<]*revoked', page.text)  # why
    assert "Reconnect LinkedIn" in shown  # the main button, since none is connected any more


async def test_the_callbacks_error_is_shown_escaped(web: httpx.AsyncClient) -> None:
    page = await web.get("/integrations", params={"error": "you cancelled <script>alert(1)</script>"})
    assert page.status_code == 200
    assert alert_of(page) == "you cancelled <script>alert(1)</script>"
    assert "<script>alert(1)" not in page.text


async def test_disconnecting_from_the_page(web: httpx.AsyncClient, alice: Account) -> None:
    await connect(web, alice)
    page = await web.get("/integrations")
    action = re.findall(r'action="(/integrations/[^"]+/disconnect)"', page.text)[0]
    answer = await press(web, "/integrations", action)
    assert (answer.status_code, answer.headers["location"]) == (303, "/integrations?done=disconnected")
    shown = text_of(await web.get("/integrations?done=disconnected"))
    assert "Disconnected. Its tokens were deleted." in shown
    assert "Ada Lovelace Disconnected" in shown


async def test_an_empty_post_shows_a_readable_error_and_keeps_nothing(web: httpx.AsyncClient) -> None:
    answer = await write(web, "   \n  ")
    assert answer.status_code == 422
    assert answer.headers["content-type"].startswith("text/html")
    assert alert_of(answer) == "The post has no text: write something before publishing."
    assert content_ids(await web.get("/posts")) == []


async def test_a_post_over_3000_characters_is_refused_with_how_much_to_cut_and_the_text_kept(
    web: httpx.AsyncClient,
) -> None:
    text = "a" * 2995 + "(12345)"  # 3,002 written; LinkedIn gets the parentheses escaped: 3,004
    answer = await write(web, text)
    assert answer.status_code == 422
    assert "The post is 3,004 characters as LinkedIn counts them" in alert_of(answer)
    assert "shorten it by 4" in alert_of(answer)
    assert f"\n{text}</textarea>" in answer.text


async def test_write_approve_and_publish_from_the_page_until_the_link_shows(
    web: httpx.AsyncClient,
    alice: Account,
    settings: Settings,
    sessions: async_sessionmaker[AsyncSession],
    sandbox: SandboxControl,
) -> None:
    await connect(web, alice)
    text = "Shipping (finally) #python 🚀\n\n<b>not bold</b> & more"
    created = await write(web, text, first_comment="Details in the thread")
    assert (created.status_code, created.headers["location"]) == (303, "/posts?done=created")

    page = await web.get("/posts?done=created")
    assert "Draft saved." in text_of(page)
    [content_id] = content_ids(page)
    assert (
        '<p class="post-text">Shipping (finally) #python 🚀\n\n&lt;b&gt;not bold&lt;/b&gt; &amp; more</p>' in page.text
    )
    assert "58 / 3,000 characters" in text_of(page)  # 52 written; ( ) < > < > are sent escaped
    assert '<span class="badge neutral">Draft</span>' in page.text

    approved = await press(web, "/posts", f"/posts/{content_id}/approve")
    assert (approved.status_code, approved.headers["location"]) == (303, "/posts?done=approved")
    page = await web.get("/posts")
    assert "Approved" in text_of(page) and "Publish now" in text_of(page)

    queued = await press(web, "/posts", f"/posts/{content_id}/publish")
    assert (queued.status_code, queued.headers["location"]) == (303, "/posts?done=publishing")
    listing = await web.get("/posts/list")
    assert 'hx-get="/posts/list" hx-trigger="every 2s"' in listing.text  # it refreshes itself meanwhile
    assert "Queued to publish" in text_of(listing)

    async with running_engine(settings, sessions):
        for _ in range(150):
            listing = await web.get("/posts/list")
            if "Published" in text_of(listing):
                break
            await asyncio.sleep(0.2)
    assert '<span class="badge good">Published</span>' in listing.text, text_of(listing)
    assert f'href="{sandbox.url}/_sandbox/feed">View on LinkedIn (Sandbox)</a>' in listing.text
    assert "hx-get" not in listing.text  # nothing in flight: the polling stops
    [post] = sandbox.posts()
    assert "Shipping" in str(post)


async def test_publishing_a_draft_is_a_readable_conflict(web: httpx.AsyncClient, alice: Account) -> None:
    await connect(web, alice)
    await write(web, "Not approved yet")
    [content_id] = content_ids(await web.get("/posts"))
    answer = await press(web, "/posts", f"/posts/{content_id}/publish")
    assert answer.status_code == 409
    assert alert_of(answer) == "This content is draft: only approved content can be published or scheduled."


async def test_an_editor_sees_no_approve_button_and_sends_the_draft_for_approval(
    client: httpx.AsyncClient, alice: Account
) -> None:
    invited = await client.post(
        "/api/v1/invitations", json={"email": "ed@example.com", "role": "editor"}, headers=alice.auth
    )
    password = "ed's long enough password"
    accepted = await client.post(
        "/api/v1/invitations/accept", json={"token": invited.json()["accept_token"], "password": password}
    )
    assert accepted.status_code == 201, accepted.text
    editor = Account("ed@example.com", password, "", alice.org_id, "")
    await log_in_with_the_form(client, editor)
    await write(client, "An editor's draft")
    page = await client.get("/posts")
    assert "An editor&#39;s draft" in page.text
    assert ">Approve</button>" not in page.text
    [content_id] = content_ids(page)
    refused = await press(client, "/posts", f"/posts/{content_id}/approve")
    assert refused.status_code == 403
    assert "only an owner, an admin or an approver can approve content" in alert_of(refused).lower()
    sent = await press(client, "/posts", f"/posts/{content_id}/request-approval")
    assert sent.status_code == 303
    page = await client.get(sent.headers["location"])
    assert "Sent for approval" in page.text and "Waiting for approval" in page.text
    assert ">Send for approval</button>" not in page.text


async def test_another_organizations_ids_answer_404_and_change_nothing(web: httpx.AsyncClient, bob: Account) -> None:
    bobs_integration = (await connect(web, bob))["id"]
    created = await web.post("/api/v1/content", json={"text": "Bob's draft"}, headers=bob.auth)
    bobs_content = created.json()["id"]
    for action in (
        f"/posts/{bobs_content}/approve",
        f"/posts/{bobs_content}/publish",
        f"/integrations/{bobs_integration}/check",
        f"/integrations/{bobs_integration}/disconnect",
    ):
        answer = await press(web, "/posts", action)
        assert answer.status_code == 404, action
        assert answer.headers["content-type"].startswith("text/html")
        assert "no " in alert_of(answer).lower() and "with id" in alert_of(answer)
    assert (await web.get(f"/api/v1/content/{bobs_content}", headers=bob.auth)).json()["state"] == "draft"
    integration = (await web.get(f"/api/v1/integrations/{bobs_integration}", headers=bob.auth)).json()
    assert (integration["status"], integration["checked_at"]) == ("connected", None)
    assert "Bob" not in text_of(await web.get("/posts")) + text_of(await web.get("/integrations"))


async def test_every_form_refuses_a_post_without_the_csrf_token(web: httpx.AsyncClient, alice: Account) -> None:
    integration_id = (await connect(web, alice))["id"]
    created = await web.post("/api/v1/content", json={"text": "A draft"}, headers=alice.auth)
    content_id = created.json()["id"]
    for action, fields in (
        ("/posts", {"text": "Sneaky post"}),
        (f"/posts/{content_id}/approve", {}),
        (f"/posts/{content_id}/publish", {}),
        ("/integrations/connect", {}),
        (f"/integrations/{integration_id}/check", {}),
        (f"/integrations/{integration_id}/disconnect", {}),
    ):
        for token in ("", "not-the-token"):
            answer = await web.post(action, data={**fields, "csrf_token": token})
            assert answer.status_code == 403, (action, token, answer.text)
    assert content_ids(await web.get("/posts")) == [content_id]
    assert (await web.get(f"/api/v1/content/{content_id}", headers=alice.auth)).json()["state"] == "draft"
    integration = (await web.get(f"/api/v1/integrations/{integration_id}", headers=alice.auth)).json()
    assert (integration["status"], integration["checked_at"]) == ("connected", None)
