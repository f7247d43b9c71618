"""The installable app in headless Chromium: Chromium finds nothing missing to install it; a push
in the product's shape shows one notification that collapses by tag and leads into the app; the
phone gets a bottom bar with the waiting count (kept offline), the desktop keeps its top tabs.

The app runs as its own process on SQLite, then on PostgreSQL (the badge counts drafts there)."""

from __future__ import annotations

import asyncio
import json
import re
from collections.abc import Iterator
from pathlib import Path
from typing import Any

import httpx
import pytest
from playwright.async_api import Browser, Page, Playwright, expect

from tests.support.accounts import Account
from tests.support.browser import CHROMIUM_FLAGS, assert_tall_enough, chromium_or_skip
from tests.support.crowd import ServerProcess
from tests.support.pwa import (
    DESKTOP,
    PHONE,
    app_server,
    browser,
    controlled_by_the_worker,
    log_in,
    make_team,
    phone,
    playwright,
    registration_id,
    until,
    waiting_drafts,
)
from tests.support.webpush import PushService

pytestmark = pytest.mark.browser
__all__ = ["app_server", "browser", "playwright"]

BAR = ["Today", "Approvals", "Inbox", "Calendar", "More"]
# The notifications the real service worker is showing, as the test reads them.
SHOWN = (
    "navigator.serviceWorker.ready.then((r) => r.getNotifications()).then((ns) => ns.map((n) => ({"
    "title: n.title, body: n.body, tag: n.tag, renotify: n.renotify, url: n.data.url, count: n.data.count,"
    "icon: n.icon, badge: n.badge})))"
)
APPROVALS_PUSH = {
    "title": "3 posts wait for your approval",
    "body": "The first goes out Tuesday 06:30.",
    "url": "/approvals",
    "tag": "approvals",
    "count": 3,
}


async def test_chromium_finds_the_app_installable_and_reads_its_manifest(
    playwright: Playwright, app_server: ServerProcess, tmp_path: Path
) -> None:
    base = app_server.base_url
    team = await make_team(base)
    # Installability is judged in a real profile only (Playwright's default context is incognito).
    context = await playwright.chromium.launch_persistent_context(
        str(tmp_path / "profile"), executable_path=chromium_or_skip(), headless=True, args=CHROMIUM_FLAGS, **PHONE
    )
    try:
        page = context.pages[0] if context.pages else await context.new_page()
        await log_in(page, base, team.owner)
        await controlled_by_the_worker(page)
        cdp = await context.new_cdp_session(page)
        manifest = await cdp.send("Page.getAppManifest")
        assert manifest["url"] == f"{base}/manifest.webmanifest"
        assert manifest["errors"] == []
        assert json.loads(manifest["data"])["short_name"] == "AutoPilot"
        installable = await cdp.send("Page.getInstallabilityErrors")
        assert installable["installabilityErrors"] == []
        assert (await cdp.send("Page.getAppId"))["appId"] == f"{base}/"
    finally:
        await context.close()


async def test_a_push_in_the_products_shape_shows_one_collapsing_notification_that_leads_into_the_app(
    browser: Browser, app_server: ServerProcess
) -> None:
    base = app_server.base_url
    team = await make_team(base)
    async with phone(browser, base, permissions=("notifications",)) as (context, page, _problems):
        await log_in(page, base, team.owner)
        await controlled_by_the_worker(page)
        cdp = await context.new_cdp_session(page)
        registration = await registration_id(cdp, base)

        async def deliver(payload: object) -> None:
            data = payload if isinstance(payload, str) else json.dumps(payload)
            await cdp.send(
                "ServiceWorker.deliverPushMessage", {"origin": base, "registrationId": registration, "data": data}
            )

        await deliver(APPROVALS_PUSH)
        await until(page, f"{SHOWN}.then((ns) => ns.length === 1)")
        await deliver({**APPROVALS_PUSH, "title": "4 posts wait for your approval", "count": 4})
        [notification] = await until(page, f"{SHOWN}.then((ns) => ns.length === 1 && ns[0].title[0] === '4' && ns)")
        assert notification == {
            "title": "4 posts wait for your approval",
            "body": "The first goes out Tuesday 06:30.",
            "tag": "approvals",
            "renotify": True,
            "url": "/approvals",
            "count": 4,
            "icon": f"{base}/static/icons/icon-192.png",
            "badge": f"{base}/static/icons/badge-96.png",
        }

        # Another kind stands beside it; a payload that is not the product's still says something;
        # a link to another site is not followed.
        await deliver({"title": "A post failed", "body": "LinkedIn refused it.", "url": "https://evil.example/x"})
        await deliver("plain text from somewhere")
        three = "ns.length === 3 && ns.some((n) => n.title === 'A post failed') && ns.some((n) => n.tag === '') && ns"
        others = {n["title"]: n for n in await until(page, f"{SHOWN}.then((ns) => {three})")}
        assert set(others) == {"4 posts wait for your approval", "A post failed", "TechLead AutoPilot"}
        assert others["A post failed"]["url"] == "/" and others["A post failed"]["tag"] == ""
        assert others["TechLead AutoPilot"]["body"] == "plain text from somewhere"


# Chromium cannot make a real push subscription here (no push service is reachable; research
# §2.2): the page's PushManager answers with a subscription of the push service emulator instead,
# and records the key the page asked it to subscribe with.
STUB_PUSH_MANAGER = """
(() => {
  const device = %s;
  window.__subscribeCalls = [];
  const subscription = () => ({
    endpoint: device.endpoint,
    expirationTime: null,
    options: { userVisibleOnly: true },
    toJSON: () => ({ endpoint: device.endpoint, expirationTime: null, keys: device.keys }),
    unsubscribe: async () => { current = null; localStorage.removeItem("stub-subscribed"); return true; },
  });
  // A browser keeps its subscription across page loads.
  let current = localStorage.getItem("stub-subscribed") ? subscription() : null;
  const b64url = (bytes) =>
    btoa(String.fromCharCode(...bytes)).replace(/\\+/g, "-").replace(/\\//g, "_").replace(/=+$/, "");
  PushManager.prototype.permissionState = async () => "granted";
  PushManager.prototype.getSubscription = async () => current;
  PushManager.prototype.subscribe = async (options) => {
    window.__subscribeCalls.push({
      userVisibleOnly: options.userVisibleOnly,
      key: b64url(new Uint8Array(options.applicationServerKey)),
    });
    localStorage.setItem("stub-subscribed", "1");
    return (current = subscription());
  };
})();
"""


@pytest.fixture(scope="module")
def push_service() -> Iterator[PushService]:
    with PushService() as service:
        yield service


async def subscribe_through_the_page(
    page: Page, push_service: PushService, base: str, owner: Account
) -> dict[str, Any]:
    """The owner taps "Notify me on this device" on the Approvals page; the emulator's subscription."""
    async with httpx.AsyncClient(base_url=base, timeout=30) as api:
        vapid_key = (await api.get("/api/v1/push/key")).json()["key"]
    device = push_service.subscribe(application_server_key=vapid_key)
    await page.context.add_init_script(STUB_PUSH_MANAGER % json.dumps(device))
    await log_in(page, base, owner)
    await page.goto(f"{base}/approvals")
    await controlled_by_the_worker(page)
    await page.get_by_role("button", name="Notify me on this device").click()
    await expect(page.locator("#push-status")).to_have_text("Notifications are on for this device.")
    assert await page.evaluate("window.__subscribeCalls") == [{"userVisibleOnly": True, "key": vapid_key}]
    return device


async def devices(base: str, owner: Account) -> list[str]:
    async with httpx.AsyncClient(base_url=base, timeout=30, headers=owner.auth) as api:
        return [s["endpoint"] for s in (await api.get("/api/v1/push/subscriptions")).json()]


async def test_the_page_subscribes_this_phone_to_push_with_the_servers_key_and_unsubscribes_it(
    browser: Browser, app_server: ServerProcess, push_service: PushService
) -> None:
    base = app_server.base_url
    team = await make_team(base)
    async with phone(browser, base, permissions=("notifications",)) as (_context, page, _problems):
        device = await subscribe_through_the_page(page, push_service, base, team.owner)
        stop = page.get_by_role("button", name="Stop notifications on this device")
        await expect(stop).to_have_attribute("aria-pressed", "true")
        assert await devices(base, team.owner) == [device["endpoint"]]
        await page.reload()  # the page knows this phone is subscribed
        await expect(stop).to_be_visible()

        await stop.click()
        await expect(page.locator("#push-status")).to_have_text("Notifications are off on this device.")
        await expect(page.get_by_role("button", name="Notify me on this device")).to_have_attribute(
            "aria-pressed", "false"
        )
        assert await devices(base, team.owner) == []


async def test_the_products_push_for_a_waiting_draft_reaches_the_real_service_worker(
    browser: Browser, app_server: ServerProcess, push_service: PushService
) -> None:
    base = app_server.base_url
    team = await make_team(base)
    async with phone(browser, base, permissions=("notifications",)) as (context, page, _problems):
        device = await subscribe_through_the_page(page, push_service, base, team.owner)
        # A draft now waits: the product pushes to the phone (pywebpush → the emulator, which checks
        # the VAPID JWT and decrypts), and the real service worker shows what arrived.
        await waiting_drafts(base, team.editor, "Ready for your eyes")
        plaintext = await arrived(push_service, device["id"])
        cdp = await context.new_cdp_session(page)
        push = {"origin": base, "registrationId": await registration_id(cdp, base), "data": plaintext}
        await cdp.send("ServiceWorker.deliverPushMessage", push)
        [notification] = await until(page, f"{SHOWN}.then((ns) => ns.length === 1 && ns)")
        assert (notification["title"], notification["body"]) == ("Approvals", "1 draft waits for your approval")
        assert (notification["tag"], notification["url"], notification["count"]) == ("approvals", "/approvals", 1)


async def arrived(push_service: PushService, device_id: str) -> str:
    """The first push the emulator received for *device_id*, decrypted (the app's job engine sends it)."""
    for _ in range(600):
        messages = push_service.messages(device_id)
        if messages:
            return str(messages[0]["payload"])
        await asyncio.sleep(0.05)  # the app's job engine sends on its own schedule
    raise AssertionError(
        "no push reached the emulator within 30 s: is notifications.service.approvals_waiting called when a draft"
        " is sent for approval?"
    )


async def test_the_phone_gets_a_bottom_bar_with_the_waiting_count_kept_offline_and_the_desktop_keeps_its_tabs(
    browser: Browser, app_server: ServerProcess
) -> None:
    base = app_server.base_url
    team = await make_team(base)
    await waiting_drafts(base, team.editor, "One", "Two", "Three")
    async with phone(browser, base) as (context, page, _problems):
        await log_in(page, base, team.owner)
        bar = page.get_by_role("navigation", name="Sections")
        await expect(bar).to_be_visible()
        items = bar.locator(":scope > ul > li > a, :scope > ul > li summary")
        await expect(items).to_have_text(["Today", re.compile(r"^Approvals\s+3$"), "Inbox", "Calendar", "More"])
        await expect(bar.get_by_role("link", name="Approvals 3")).to_have_attribute("href", "/approvals")
        viewport = page.viewport_size
        assert viewport is not None
        box = await bar.bounding_box()
        assert box is not None and box["y"] + box["height"] == viewport["height"]  # at the thumb
        for item in await items.all():
            height = (await item.bounding_box() or {}).get("height")
            assert_tall_enough(page, "a bottom bar item", height)  # type: ignore[arg-type]
        assert await bar.get_by_role("link", name="Settings").count() == 0  # behind "More" until tapped

        # One tap on "More" opens every other section.
        await bar.get_by_text("More").click()
        sheet = bar.locator(".more-sheet")
        sections = await page.get_by_role("navigation", name="Main").get_by_role("link").all_inner_texts()
        others = [label for label in sections if label.split()[0] not in BAR]
        assert {"Leads", "Posts", "Integrations", "Jobs", "Settings"} <= set(others)
        await expect(sheet.get_by_role("link")).to_have_text(others)
        for link in await sheet.get_by_role("link").all():
            assert_tall_enough(page, "a More link", (await link.bounding_box() or {}).get("height"))  # type: ignore[arg-type]
        await sheet.get_by_role("link", name="Settings").click()
        await expect(page).to_have_url(f"{base}/settings")

        # Offline, a page kept by the worker still shows the last count it knew.
        await controlled_by_the_worker(page)
        await context.set_offline(True)
        await page.reload()
        await expect(page.get_by_role("navigation", name="Sections").locator(".count").first).to_have_text("3")
        await page.goto(f"{base}/leads")  # never opened online: the offline page
        await expect(page.get_by_role("heading", name="You are offline")).to_be_visible()
        await context.set_offline(False)

    async with phone(browser, base, **DESKTOP, is_mobile=False, has_touch=False) as (_context, page, _problems):
        await log_in(page, base, team.owner)
        await expect(page.get_by_role("navigation", name="Sections")).to_be_hidden()
        tabs = page.get_by_role("navigation", name="Main")
        await expect(tabs).to_be_visible()
        count = tabs.get_by_role("link", name="Approvals").locator(".count")
        await expect(count).to_have_text("3")

        # "Approve all": every waiting draft in one tap, and the count follows.
        await tabs.get_by_role("link", name="Approvals").click()
        await page.get_by_role("button", name="Approve all 3").click()
        await expect(page.locator(".draft .decision")).to_have_text(["Approved"] * 3)
        await expect(page.get_by_role("button", name="Approve all 3")).to_be_hidden()
        await expect(page.locator("#queue-summary")).to_have_text("Nothing else waits for your approval.")
        await expect(count).to_be_hidden()
