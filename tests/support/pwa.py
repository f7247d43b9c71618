"""The installed app in headless Chromium, for the PWA tests: the app as its own process on the
test's database, a phone-sized browser context with the service worker allowed, and the CDP
commands that stand in for what a real phone's browser does by itself (push delivery, a sync).

What works here is recorded in research/pwa-offline-and-push.md: Playwright's default context is
incognito (fine for the service worker, offline and Background Sync; installability needs a
persistent profile); `set_offline` also cuts the worker's own fetches; a real push subscription
cannot be made, so pushes are delivered to the real worker over CDP."""

from __future__ import annotations

import asyncio
import re
from collections.abc import AsyncIterator, Iterator
from contextlib import asynccontextmanager
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

import httpx
import pytest
from playwright.async_api import (
    Browser,
    BrowserContext,
    CDPSession,
    ConsoleMessage,
    Page,
    Playwright,
    Response,
    async_playwright,
    expect,
)

from tests.support.accounts import PASSWORD, Account, make_account, member
from tests.support.browser import CHROMIUM_FLAGS, HEIGHT, REPORT_CSP_VIOLATIONS, WIDTH, chromium_or_skip
from tests.support.crowd import ServerProcess

PHONE: dict[str, Any] = {"viewport": {"width": WIDTH, "height": HEIGHT}, "is_mobile": True, "has_touch": True}
DESKTOP: dict[str, Any] = {"viewport": {"width": 1280, "height": 800}}
TIMEOUT_MS = 15_000
# Where the decisions go: refusals there (412, 409) are answers the page shows, not page problems.
DECISION_URL = re.compile(r"/approvals/[0-9a-f-]{36}/decision$")


@pytest.fixture(scope="module")
async def playwright() -> AsyncIterator[Playwright]:
    async with async_playwright() as driver:
        yield driver


@pytest.fixture(scope="module")
async def browser(playwright: Playwright) -> AsyncIterator[Browser]:
    """Debian's Chromium (Playwright downloads none here); skipped without it, except under CI=true."""
    launched = await playwright.chromium.launch(executable_path=chromium_or_skip(), headless=True, args=CHROMIUM_FLAGS)
    yield launched
    await launched.close()


@pytest.fixture
def app_server(database_url: str, tmp_path: Path) -> Iterator[ServerProcess]:
    """`autopilot serve` on the test's database (SQLite, then PostgreSQL), with its job engine."""
    with ServerProcess(database_url, tmp_path, migrate=False) as server:
        yield server


@dataclass
class Team:
    """An organization with an owner (who approves) and an editor (who writes), made over the API."""

    owner: Account
    editor: Account


async def make_team(base_url: str) -> Team:
    async with httpx.AsyncClient(base_url=base_url, timeout=30) as client:
        owner = await make_account(client, "olivia@example.com", "Olivia Conseil", name="Olivia")
        editor = await member(client, owner, "eddie@example.com", "editor")
    return Team(owner, editor)


async def waiting_drafts(base_url: str, author: Account, *texts: str) -> list[str]:
    """Drafts sent for approval, oldest first; their ids."""
    ids = []
    async with httpx.AsyncClient(base_url=base_url, timeout=30, headers=author.auth) as client:
        for text in texts:
            made = await client.post("/api/v1/content", json={"text": text})
            assert made.status_code == 201, made.text
            asked = await client.post(f"/api/v1/content/{made.json()['id']}/request-approval")
            assert asked.status_code == 200, asked.text
            ids.append(made.json()["id"])
    return ids


@dataclass
class Problems:
    """Script errors, CSP violations and failed loads in the pages, besides the assertions."""

    base: str
    errors: list[str] = field(default_factory=list)

    def watch(self, page: Page) -> None:
        page.on("pageerror", lambda exc: self.errors.append(f"script error: {exc}"))
        page.on("console", self.on_console)
        page.on("response", self.on_response)

    def on_console(self, message: ConsoleMessage) -> None:
        if "Content Security Policy" in message.text or "Refused to" in message.text:
            self.errors.append(f"CSP: {message.text}")

    def on_response(self, response: Response) -> None:
        if not response.url.startswith(self.base) or response.request.resource_type == "document":
            return
        if response.status >= 400 and not DECISION_URL.search(response.url):
            self.errors.append(f"{response.status} {response.url}")


@asynccontextmanager
async def phone(
    browser: Browser, base_url: str, *, permissions: tuple[str, ...] = (), **options: Any
) -> AsyncIterator[tuple[BrowserContext, Page, Problems]]:
    """A fresh phone-sized context (its own worker, caches and IndexedDB) and one page in it."""
    context = await browser.new_context(service_workers="allow", locale="en-US", **{**PHONE, **options})
    context.set_default_timeout(TIMEOUT_MS)
    expect.set_options(timeout=TIMEOUT_MS)
    if permissions:
        await context.grant_permissions(list(permissions), origin=base_url)
    await context.add_init_script(REPORT_CSP_VIOLATIONS)
    page = await context.new_page()
    problems = Problems(base_url)
    problems.watch(page)
    try:
        yield context, page, problems
    finally:
        await context.close()
    assert problems.errors == [], f"the pages had problems: {problems.errors}"


async def log_in(page: Page, base_url: str, account: Account) -> None:
    await page.goto(f"{base_url}/login")
    await page.get_by_label("E-mail").fill(account.email)
    await page.get_by_label("Password").fill(PASSWORD)
    await page.get_by_role("button", name="Log in").click()
    await expect(page).to_have_url(f"{base_url}/")


async def controlled_by_the_worker(page: Page) -> None:
    """Wait until the service worker is active and controls the page (reloaded once: a page is
    controlled by a worker that was active when it loaded); the reload is kept for offline use."""
    await page.evaluate("navigator.serviceWorker.ready.then(() => true)")
    await page.reload()
    await page.wait_for_function("navigator.serviceWorker.controller !== null")


async def registration_id(cdp: CDPSession, base_url: str) -> str:
    """The worker registration of the app's root scope, as CDP names it."""
    found: asyncio.Future[str] = asyncio.get_running_loop().create_future()

    def on_update(event: dict[str, Any]) -> None:
        for registration in event["registrations"]:
            if registration["scopeURL"] == f"{base_url}/" and not registration["isDeleted"] and not found.done():
                found.set_result(str(registration["registrationId"]))

    cdp.on("ServiceWorker.workerRegistrationUpdated", on_update)
    await cdp.send("ServiceWorker.enable")  # reports every registration at once
    return await asyncio.wait_for(found, TIMEOUT_MS / 1000)


async def until(page: Page, expression: str) -> Any:
    """The value of the JavaScript *expression* (a promise is awaited) once it is truthy, evaluated
    again every 50 ms in the page; fails after the usual timeout. (Playwright's wait_for_function
    does not await a promise: a pending one counts as truthy.)"""
    poll = (
        f"async () => {{ for (;;) {{ const value = await ({expression}); if (value) return value;"
        " await new Promise((resolve) => setTimeout(resolve, 50)); } }"
    )
    try:
        return await asyncio.wait_for(page.evaluate(poll), TIMEOUT_MS / 1000)
    except TimeoutError:
        raise AssertionError(f"still falsy after {TIMEOUT_MS} ms: {expression}") from None


def screenshots(artifacts: Path) -> Path:
    folder = artifacts / "screenshots"
    folder.mkdir(exist_ok=True)
    return folder
