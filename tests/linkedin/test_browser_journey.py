"""A person on a phone (Chromium, 390x844) connects LinkedIn and publishes a post, end to end.

The app is its own process (`autopilot serve` on SQLite, with the in-process job engine and the
LinkedIn sandbox mounted at /sandbox/linkedin, since no LinkedIn credentials are set): the OAuth
consent, the token exchange, the job that publishes and the feed members read are all real. The
test fails on any console error or Content-Security-Policy violation in any page it visits.
"""

from __future__ import annotations

import re
import uuid
from collections.abc import Iterator
from pathlib import Path

import pytest
from playwright.sync_api import ConsoleMessage, Frame, Page, expect, sync_playwright

from tests.support.accounts import PASSWORD
from tests.support.browser import (
    CHROMIUM_FLAGS,
    HEIGHT,
    REPORT_CSP_VIOLATIONS,
    WIDTH,
    Problems,
    assert_fits_width,
    assert_tall_enough,
    chromium_or_skip,
)
from tests.support.crowd import ServerProcess

pytestmark = pytest.mark.browser

POST = "Launch day (finally) #buildinpublic 🚀\nThanks to everyone who tested it."


@pytest.fixture(scope="module")
def server(tmp_path_factory: pytest.TempPathFactory) -> Iterator[ServerProcess]:
    """`autopilot serve` on a SQLite file of its own; AUTOPILOT_BASE_URL is its own address
    (ServerProcess sets it), so the sandbox's consent page sends the browser back to it."""
    directory = tmp_path_factory.mktemp("journey")
    database = f"sqlite+aiosqlite:///{directory / 'autopilot.db'}"
    with ServerProcess(database, directory, {"AUTOPILOT_DISPATCH_INTERVAL_S": "0.2"}) as running:
        yield running


@pytest.fixture
def page(server: ServerProcess, tmp_path: Path) -> Iterator[Page]:
    chromium = chromium_or_skip()
    problems = Problems(server.base_url)

    def on_console(message: ConsoleMessage) -> None:
        problems.on_console(message)
        if message.type == "error" and not message.text.startswith(("Content Security Policy", "Refused to")):
            problems.errors.append(f"console error: {message.text} ({message.location.get('url')})")

    with sync_playwright() as pw:
        context = pw.chromium.launch_persistent_context(
            str(tmp_path / "chromium-profile"),
            executable_path=chromium,
            headless=True,
            args=CHROMIUM_FLAGS,
            viewport={"width": WIDTH, "height": HEIGHT},
            locale="en-US",
        )
        context.set_default_timeout(15_000)
        context.add_init_script(REPORT_CSP_VIOLATIONS)
        tab = context.pages[0] if context.pages else context.new_page()
        tab.on("pageerror", lambda exc: problems.errors.append(f"script error: {exc}"))
        tab.on("response", problems.on_response)
        tab.on("console", on_console)
        tab.on("request", problems.on_request)
        try:
            yield tab
        finally:
            context.close()
    assert problems.errors == [], f"the pages had problems: {problems.errors}"


def fits_a_phone(page: Page, *buttons: str) -> None:
    """No sideways scrolling, and each named button a comfortable tap."""
    assert_fits_width(page)
    for name in buttons:
        box = page.get_by_role("button", name=name).first.bounding_box()
        assert_tall_enough(page, f"the {name!r} button", box["height"] if box else None)


def test_connect_linkedin_then_write_approve_and_publish_a_post_on_a_phone(
    page: Page, server: ServerProcess, artifacts: Path
) -> None:
    base = server.base_url
    email = f"asha-{uuid.uuid4().hex[:10]}@example.com"

    # Sign up, then log in.
    page.goto(f"{base}/signup")
    page.get_by_label("E-mail").fill(email)
    page.get_by_label("Password").fill(PASSWORD)
    page.get_by_label("Your name").fill("Asha")
    page.get_by_label("Organization").fill("Asha Consulting")
    page.get_by_role("button", name="Sign up").click()
    page.get_by_label("Password").fill(PASSWORD)
    page.get_by_role("button", name="Log in").click()
    expect(page).to_have_url(f"{base}/")

    # Integrations: nothing connected yet, in the sandbox.
    page.get_by_role("navigation", name="Main").get_by_role("link", name="Integrations").click()
    expect(page).to_have_url(f"{base}/integrations")
    expect(page.get_by_text("No LinkedIn account is connected yet.")).to_be_visible()
    expect(page.get_by_role("link", name="Open the sandbox LinkedIn feed")).to_have_attribute(
        "href", f"{base}/sandbox/linkedin/_sandbox/feed"
    )
    fits_a_phone(page, "Connect LinkedIn")

    # Connect: the sandbox's consent page (a LinkedIn stand-in), Allow, and back on Integrations.
    page.get_by_role("button", name="Connect LinkedIn").click()
    expect(page).to_have_url(re.compile(rf"^{re.escape(base)}/sandbox/linkedin/oauth/v2/authorization\?"))
    page.get_by_role("button", name="Allow").click()
    expect(page).to_have_url(re.compile(rf"^{re.escape(base)}/integrations\?connected=[0-9a-f-]{{36}}$"))
    expect(page.get_by_role("status")).to_contain_text("LinkedIn connected")
    connection = page.locator("article.connection")
    expect(connection).to_have_count(1)
    expect(connection.get_by_text("Connected", exact=True)).to_be_visible()
    expect(connection.get_by_text("Sandbox", exact=True)).to_be_visible()
    expect(connection).to_contain_text("Can post")
    expect(connection).to_contain_text(re.compile(r"expires in \d+ days"))
    fits_a_phone(page, "Check now", "Connect LinkedIn")
    page.screenshot(path=artifacts / "integrations-connected.png", full_page=True)

    # Posts: write (a parenthesis, a hashtag, an emoji), approve, publish now.
    page.get_by_role("navigation", name="Main").get_by_role("link", name="Posts").click()
    expect(page).to_have_url(f"{base}/posts")
    page.get_by_label("Your post").fill(POST)
    page.get_by_role("button", name="Save draft").click()
    post = page.locator("article.post").first
    expect(post.locator(".badge")).to_have_text("Draft")
    expect(post.locator(".post-text")).to_have_text(POST)
    expect(post).to_contain_text("/ 3,000 characters")
    fits_a_phone(page, "Save draft", "Approve")
    post.get_by_role("button", name="Approve").click()
    expect(post.locator(".badge")).to_have_text("Approved")
    post.get_by_role("button", name="Publish now").click()
    expect(page).to_have_url(f"{base}/posts?done=publishing")

    # The list updates by itself until the post's link arrives: no reload by the test or the page.
    loads: list[str] = []

    def on_navigated(frame: Frame) -> None:
        if frame == page.main_frame:
            loads.append(frame.url)

    page.on("framenavigated", on_navigated)
    link = page.get_by_role("link", name="View on LinkedIn (Sandbox)")
    expect(link).to_be_visible(timeout=60_000)
    expect(page.locator("article.post").first.locator(".badge")).to_have_text("Published")
    assert loads == [], f"the page was reloaded while publishing: {loads}"
    fits_a_phone(page, "Save draft")
    page.screenshot(path=artifacts / "posts-published.png", full_page=True)

    # Members see exactly what was written on the (sandbox) LinkedIn feed.
    link.click()
    expect(page).to_have_url(f"{base}/sandbox/linkedin/_sandbox/feed")
    expect(page.locator("article .text").first).to_have_text(POST)
    assert_fits_width(page)
