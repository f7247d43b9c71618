"""A consultant on a phone (Chromium, 390x844) imports their LinkedIn archive on the Leads page,
reads who is worth a call and why, and marks a deal won: the won total follows.

The app is its own process (`autopilot serve` on SQLite), started by the LinkedIn journey's
fixtures, which also fail the test on any console error or CSP violation."""

from __future__ import annotations

import uuid
from pathlib import Path

import pytest
from playwright.sync_api import Page, expect

from tests.leads.archive import scenario_files, zipped
from tests.linkedin.test_browser_journey import page, server
from tests.support.accounts import PASSWORD
from tests.support.browser import assert_fits_width
from tests.support.crowd import ServerProcess

pytestmark = pytest.mark.browser
__all__ = ["page", "server"]


def test_import_an_archive_and_win_a_deal_on_a_phone(page: Page, server: ServerProcess, tmp_path: Path) -> None:
    base = server.base_url
    page.goto(f"{base}/signup")
    page.get_by_label("E-mail").fill(f"leads-{uuid.uuid4().hex[:10]}@example.com")
    page.get_by_label("Password").fill(PASSWORD)
    page.get_by_label("Your name").fill("Alice Martin")
    page.get_by_label("Organization").fill("Martin Consulting")
    page.get_by_role("button", name="Sign up").click()
    page.get_by_label("Password").fill(PASSWORD)
    page.get_by_role("button", name="Log in").click()
    expect(page).to_have_url(f"{base}/")

    page.goto(f"{base}/leads")
    expect(page.get_by_text("No leads yet")).to_be_visible()
    archive = tmp_path / "Basic_LinkedInDataExport_11-24-2026.zip"
    archive.write_bytes(zipped(scenario_files()))
    page.get_by_label("Archive or CSV file").set_input_files(str(archive))
    page.get_by_role("button", name="Import").click()

    expect(page.get_by_role("status")).to_contain_text("2 new leads")
    dana = page.locator("article.post", has_text="Dana Lee")
    expect(dana).to_contain_text("asks for a call")
    expect(dana).to_contain_text("could we book a call about an architecture review next week?")
    assert_fits_width(page)

    dana.get_by_label("Stage").select_option("won")
    dana.get_by_label("Deal value").fill("12000")
    dana.get_by_role("button", name="Save").click()

    expect(page.locator("#won-value")).to_have_text("12,000.00 EUR")
    assert_fits_width(page)
