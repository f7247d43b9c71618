"""A reviewer on a train (Chromium at a phone's size, offline): the approval queue still opens
from the cache, two approvals and a rejection are kept on the phone, and back online the server
holds exactly those decisions, each applied once — though the first answer was lost on the way,
the page's `online` replay and Background Sync both ran, and the whole outbox was sent again. A
draft edited on the server meanwhile answers 412, and the phone shows its new text.

The app runs as its own process on SQLite, then on PostgreSQL. What the server holds is read
through the content service on the same database, as the audit log records it."""

from __future__ import annotations

import uuid
from pathlib import Path
from typing import Any

import httpx
import pytest
from playwright.async_api import Browser, Page, Route, expect

from autopilot.accounts import service as accounts
from autopilot.content import service as content
from autopilot.kit.db import make_engine, make_sessionmaker
from tests.support.accounts import member
from tests.support.crowd import ServerProcess
from tests.support.pwa import (
    Team,
    app_server,
    browser,
    controlled_by_the_worker,
    log_in,
    make_team,
    phone,
    playwright,
    registration_id,
    screenshots,
    until,
    waiting_drafts,
)

pytestmark = pytest.mark.browser
__all__ = ["app_server", "browser", "playwright"]

TEXTS = (
    "Why our deploys take 20 minutes, not 40.\nThree changes did it.\nThe first one surprised us.\nHere it is.",
    "A checklist for your first on-call week",
    "The contrarian take: fewer dashboards",
    "Lesson learned: write the rollback first",
)


# What the service worker tells the page about each decision it sends (outbox.js `notify`).
LISTEN_TO_THE_WORKER = """() => {
  window.fromTheWorker = [];
  navigator.serviceWorker.addEventListener("message", (event) => window.fromTheWorker.push(event.data));
}"""


async def server_record(database_url: str, team: Team, ids: list[str]) -> list[dict[str, Any]]:
    """Each draft's state and version, and its decisions as the audit log holds them."""
    engine = make_engine(database_url)
    try:
        async with make_sessionmaker(engine)() as session:
            caller = await accounts.authenticate(session, team.owner.token)
            found = []
            for post in ids:
                item = await content.get(session, caller, uuid.UUID(post))
                events = await content.events_of(session, caller, item.id)
                decisions = [(e.action, e.note) for e in events if e.action in ("approved", "rejected")]
                found.append({"state": item.state, "version": item.version, "decisions": decisions})
            return found
    finally:
        await engine.dispose()


async def outbox(page: Page) -> list[dict[str, Any]]:
    entries: list[dict[str, Any]] = await page.evaluate("ApprovalOutbox.waiting()")
    return entries


async def test_decisions_taken_offline_are_applied_once_back_online_and_a_changed_draft_asks_again(
    browser: Browser, app_server: ServerProcess, database_url: str, artifacts: Path
) -> None:
    base = app_server.base_url
    team = await make_team(base)
    ids = await waiting_drafts(base, team.editor, *TEXTS)
    first, second, third, edited = ids
    cards = {post: f"#draft-{post}" for post in ids}

    async with phone(browser, base, permissions=("background-sync",)) as (context, page, _problems):
        await log_in(page, base, team.owner)
        await page.goto(f"{base}/approvals")
        await controlled_by_the_worker(page)  # this load of the queue is the one kept for the train
        await expect(page.locator(".draft")).to_have_count(4)

        # Offline: the queue opens from the worker's cache, as last seen.
        await context.set_offline(True)
        reloaded = await page.reload()
        assert reloaded is not None and reloaded.from_service_worker
        await expect(page.locator("#connection")).to_contain_text("You are offline")
        await expect(page.locator(".draft")).to_have_count(4)
        await expect(page.locator(cards[first]).locator(".post-text")).to_contain_text("Three changes did it.")

        # Two approvals, one rejection with a comment, and an approval of the draft about to change.
        for post in (first, second, edited):
            await page.locator(cards[post]).get_by_role("button", name="Approve").click()
        rejected = page.locator(cards[third])
        await rejected.get_by_text("Reject…").click()
        await rejected.get_by_label("What should change?").fill("Name the three dashboards you kept")
        await rejected.get_by_role("button", name="Reject with this comment").click()
        for post in ids:
            await expect(page.locator(cards[post])).to_have_attribute("data-state", "waiting")
        await expect(rejected.locator(".decision")).to_have_text("Rejected — waiting to send")
        await expect(page.locator(cards[first]).locator(".decision")).to_have_text("Approved — waiting to send")
        await expect(page.locator("#queue-summary")).to_have_text("4 decisions kept on this phone, waiting to send.")
        await expect(page.get_by_role("button", name="Approve all 4")).to_be_hidden()
        kept = await outbox(page)
        assert sorted((e["id"], e["decision"], e["version"]) for e in kept) == sorted(
            [(first, "approve", 1), (second, "approve", 1), (third, "reject", 1), (edited, "approve", 1)]
        )
        assert len({e["key"] for e in kept}) == 4
        await page.screenshot(path=screenshots(artifacts) / "approvals.png", full_page=True)
        before = await server_record(database_url, team, ids)
        assert [r["decisions"] for r in before] == [[], [], [], []]

        # Meanwhile, on the server, the author rewrites the fourth draft.
        async with httpx.AsyncClient(base_url=base, headers=team.editor.auth, timeout=30) as api:
            rewritten = await api.patch(f"/api/v1/content/{edited}", json={"text": "Lesson learned: rollback first"})
            assert rewritten.status_code == 200 and rewritten.json()["version"] == 2

        # Back online, and the answer to the first decision is lost on the way back (applied on the
        # server, a network error on the phone): it must stay in the outbox and be sent again.
        lost: list[str] = []

        async def lose_the_first_answer(route: Route) -> None:
            if lost:
                await route.continue_()
                return
            answered = await route.fetch()
            lost.append(f"{answered.status} {route.request.url}")
            await route.abort("internetdisconnected")

        await context.route("**/approvals/*/decision", lose_the_first_answer)
        await context.set_offline(False)  # fires `online` in the page, and the sync registered offline

        await expect(page.locator(cards[first]).locator(".decision")).to_have_text("Approved")
        await expect(page.locator(cards[second]).locator(".decision")).to_have_text("Approved")
        await expect(rejected.locator(".decision")).to_have_text("Rejected")
        changed = page.locator(cards[edited])
        await expect(changed).to_have_attribute("data-state", "changed")
        await expect(changed.locator(".post-text")).to_have_text("Lesson learned: rollback first")
        await expect(changed.locator(".version")).to_have_text("2")
        await expect(changed.locator(".decision")).to_contain_text("changed while you were away")
        await expect(changed.get_by_role("button", name="Approve")).to_be_enabled()
        assert len(lost) == 1 and lost[0].startswith("200 "), lost
        assert await outbox(page) == []
        notices = await page.evaluate("ApprovalOutbox.notices()")
        assert [(n["id"], n["kind"], n["current"]["version"]) for n in notices] == [(edited, "conflict", 2)]

        after = await server_record(database_url, team, ids)
        assert after == [
            {"state": "approved", "version": 1, "decisions": [("approved", "")]},
            {"state": "approved", "version": 1, "decisions": [("approved", "")]},
            {"state": "draft", "version": 1, "decisions": [("rejected", "Name the three dashboards you kept")]},
            {"state": "pending_approval", "version": 2, "decisions": []},
        ]

        # The same outbox sent once more, by Background Sync this time: the server answers the first
        # outcomes again (same keys) and applies nothing twice.
        await context.unroute_all()
        sent = [entry for entry in kept if entry["id"] != edited]
        await page.evaluate(LISTEN_TO_THE_WORKER)
        await page.evaluate("(entries) => Promise.all(entries.map((e) => ApprovalOutbox.add(e)))", sent)
        cdp = await context.new_cdp_session(page)
        registration = await registration_id(cdp, base)
        sync = {"origin": base, "registrationId": registration, "tag": "approvals", "lastChance": False}
        await cdp.send("ServiceWorker.dispatchSyncEvent", sync)
        told = await until(page, "window.fromTheWorker.length === 3 && window.fromTheWorker")
        assert sorted((m["id"], m["kind"], m["body"]["replayed"]) for m in told) == sorted(
            (post, "decided", True) for post in (first, second, third)
        )
        assert await outbox(page) == []
        assert await server_record(database_url, team, ids) == after

        # The changed draft is decided again, on its new text.
        await changed.get_by_role("button", name="Approve").click()
        await expect(changed.locator(".decision")).to_have_text("Approved")
        final = await server_record(database_url, team, [edited])
        assert final == [{"state": "approved", "version": 2, "decisions": [("approved", "")]}]
        assert await page.evaluate("ApprovalOutbox.notices()") == []


async def test_without_background_sync_the_online_event_sends_what_was_kept(
    browser: Browser, app_server: ServerProcess, database_url: str
) -> None:
    """Safari and Firefox have no Background Sync: the page itself sends the outbox when the network is back."""
    base = app_server.base_url
    team = await make_team(base)
    [post] = await waiting_drafts(base, team.editor, "Sent by the page itself")
    async with phone(browser, base) as (context, page, _problems):
        # As in Safari: the page sees no Background Sync, so nothing but the page can send the outbox.
        await context.add_init_script("delete ServiceWorkerRegistration.prototype.sync; delete self.SyncManager;")
        await log_in(page, base, team.owner)
        await page.goto(f"{base}/approvals")
        await controlled_by_the_worker(page)
        await context.set_offline(True)
        await page.get_by_role("button", name="Approve").click()
        await expect(page.locator(".draft .decision")).to_have_text("Approved — waiting to send")
        assert await page.evaluate("navigator.serviceWorker.ready.then((r) => r.sync)") is None
        await context.set_offline(False)
        await expect(page.locator(".draft .decision")).to_have_text("Approved")
        assert await server_record(database_url, team, [post]) == [
            {"state": "approved", "version": 1, "decisions": [("approved", "")]}
        ]


async def test_a_decision_kept_from_an_ended_session_is_not_sent_in_someone_elses_name(
    browser: Browser, app_server: ServerProcess, database_url: str
) -> None:
    base = app_server.base_url
    team = await make_team(base)
    async with httpx.AsyncClient(base_url=base, timeout=30) as api:
        ann = await member(api, team.owner, "ann@example.com", "approver")
    [post] = await waiting_drafts(base, team.editor, "Whose approval is this?")
    async with phone(browser, base) as (context, page, _problems):
        await log_in(page, base, team.owner)
        await page.goto(f"{base}/approvals")
        await controlled_by_the_worker(page)
        await context.route("**/approvals/*/decision", lambda route: route.abort("internetdisconnected"))
        await page.get_by_role("button", name="Approve").click()
        await expect(page.locator(".draft .decision")).to_have_text("Approved — waiting to send")

        # The session ends (its cookie expires) and someone else logs in on this phone; only then
        # does the network come back. Whether the page or Background Sync sends what the outbox
        # holds, it is refused, and the page says so.
        await context.clear_cookies()
        await log_in(page, base, ann)
        await context.unroute_all()
        await page.goto(f"{base}/approvals")
        await expect(page.locator(".draft .decision")).to_contain_text("Not sent:")
        assert await outbox(page) == []
        assert await server_record(database_url, team, [post]) == [
            {"state": "pending_approval", "version": 1, "decisions": []}
        ]

        # Logging out forgets what this phone kept for the person: pages, counts, the outbox.
        await page.get_by_role("button", name="Approve").click()  # ann's own decision goes through
        await expect(page.locator(".draft .decision")).to_have_text("Approved")
        kept_pages = (
            "caches.open('pages-v1').then((c) => c.keys()).then((ks) => ks.map((k) => new URL(k.url).pathname))"
        )
        assert "/approvals" in await page.evaluate(kept_pages)
        await page.get_by_role("button", name="Log out").click()
        await expect(page).to_have_url(f"{base}/login")
        assert await page.evaluate(kept_pages) == ["/login"]  # only what was opened since
        assert "autopilot-outbox" not in await page.evaluate("indexedDB.databases().then((d) => d.map((x) => x.name))")
