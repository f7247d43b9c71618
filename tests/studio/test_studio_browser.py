"""A person on a phone (Chromium, 390x844) writes a post in the Studio: fills in their writer profile,
generates a checklist post offline, edits it while the LinkedIn preview follows (the "…see more" cut
and the count, through HTMX), saves it as a draft, then asks the LLM engine (the app's own sandbox).

The app is its own process (`autopilot serve` on SQLite), started by the LinkedIn journey's
fixtures, which also fail the test on any console error or CSP violation."""

from __future__ import annotations

import re
import uuid
from pathlib import Path

import httpx
import pytest
from playwright.sync_api import Page, expect

from tests.linkedin.test_browser_journey import page, server
from tests.support.accounts import PASSWORD
from tests.support.browser import assert_fits_width, assert_tall_enough
from tests.support.crowd import ServerProcess

pytestmark = pytest.mark.browser
__all__ = ["page", "server"]

EDITED = "Line one of my post\nLine two\nLine three\nLine four, behind the fold\n\n#Kubernetes"


def tall_enough(page: Page, selector: str) -> None:
    found = page.locator(selector)
    assert found.count() > 0, f"nothing matches {selector}"
    for index in range(found.count()):
        if found.nth(index).is_visible():
            box = found.nth(index).bounding_box()
            assert_tall_enough(page, f"{selector} #{index}", box["height"] if box else None)


def test_generate_edit_with_a_live_preview_and_save_a_draft_on_a_phone(
    page: Page, server: ServerProcess, artifacts: Path
) -> None:
    base = server.base_url
    email = f"studio-{uuid.uuid4().hex[:10]}@example.com"
    page.goto(f"{base}/signup")
    page.get_by_label("E-mail").fill(email)
    page.get_by_label("Password").fill(PASSWORD)
    page.get_by_label("Your name").fill("Noor")
    page.get_by_label("Organization").fill("Noor Cloud Advisory")
    page.get_by_role("button", name="Sign up").click()
    page.get_by_label("Password").fill(PASSWORD)
    page.get_by_role("button", name="Log in").click()
    expect(page).to_have_url(f"{base}/")

    # The Studio tab sits right after Posts.
    tabs = page.get_by_role("navigation", name="Main").get_by_role("link")
    labels = tabs.all_inner_texts()
    assert labels[labels.index("Posts") + 1] == "Studio"
    page.get_by_role("navigation", name="Main").get_by_role("link", name="Studio").click()
    expect(page).to_have_url(f"{base}/studio")

    # The writer profile: what the drafts follow.
    page.locator("#profile summary").click()
    page.get_by_label("Topics").fill("Kubernetes, FinOps")
    page.get_by_label("About you").fill("I help SaaS teams cut cloud bills.")
    page.get_by_label("Who you write for").fill("CTOs of seed-stage startups")
    page.get_by_label("Posts of yours").fill("Shipped it. 🚀\nIt took three tries.\nWorth it? Yes.\n---\nNew week. 🚀")
    page.get_by_role("button", name="Save profile").click()
    expect(page.get_by_role("status")).to_contain_text("Writer profile saved")
    expect(page.locator("ul.voice")).to_contain_text("Emoji: 🚀")

    # Generate a checklist offline.
    page.get_by_label("Structure").select_option("checklist")
    page.get_by_label("Topic", exact=True).fill("Kubernetes costs")
    page.get_by_label("Key points").fill("Tag every namespace with an owner\nReview idle nodes weekly")
    page.get_by_role("button", name="Generate").click()
    post = page.get_by_label("Your post")
    expect(post).to_have_value(re.compile(r"1\. Tag every namespace with an owner\n2\. Review idle nodes weekly"))
    expect(post).to_have_value(re.compile(r"#KubernetesCosts #Kubernetes #FinOps$"))
    expect(page.locator("#hashtags")).to_contain_text("#KubernetesCosts")
    expect(page.locator("#count")).to_contain_text("/ 3,000 characters")
    assert_fits_width(page)
    for selector in ("#generate button", "#save button", "form.again button", "#profile summary", ".engines label"):
        tall_enough(page, selector)

    # Edit: the preview follows as the text changes (HTMX), with the fold after three lines.
    post.fill(EDITED)
    expect(page.locator("#visible")).to_have_text("Line one of my post\nLine two\nLine three…see more")
    expect(page.locator("#count")).to_contain_text(f"{len(EDITED)} / 3,000 characters")
    expect(page.locator("#count")).to_contain_text("behind “…see more”")
    (artifacts / "screenshots").mkdir(exist_ok=True)
    page.screenshot(path=artifacts / "screenshots" / "studio.png", full_page=True)

    page.get_by_role("button", name="Save as draft").click()
    expect(page.get_by_role("status")).to_contain_text("Draft saved")
    token = httpx.post(f"{base}/api/v1/auth/login", json={"email": email, "password": PASSWORD}, timeout=10)
    auth = {"Authorization": f"Bearer {token.json()['access_token']}"}
    [saved] = httpx.get(f"{base}/api/v1/content", headers=auth, timeout=10).json()
    assert saved["text"] == EDITED and saved["state"] == "draft"
    page.get_by_role("link", name="Open Posts").click()
    expect(page.locator("article.post").first).to_contain_text("Line four, behind the fold")

    # The LLM engine: with no LLM server configured, the app's own sandbox answers.
    page.goto(f"{base}/studio")
    expect(page.locator(".engines")).to_contain_text("Sandbox")
    page.get_by_label("Topic", exact=True).fill("Kubernetes costs")
    page.get_by_label("Key points").fill("Review idle nodes weekly")
    page.locator('input[name="engine"][value="llm"]').check()
    page.get_by_role("button", name="Generate").click()
    expect(page.get_by_label("Your post")).to_have_value(re.compile(r"^A few honest words about Kubernetes costs\."))
    expect(page.locator("#draft-facts")).to_contain_text("sandbox-writer")
    assert_fits_width(page)
