"""Headless Chromium at a phone's size for the page tests: Debian's browser (Playwright never
downloads one here), the flags it needs, and what counts as a problem in a page."""

from __future__ import annotations

import os
import shutil
from dataclasses import dataclass, field
from pathlib import Path

import pytest
from playwright.sync_api import ConsoleMessage, Page, Request, Response

from tests.support.recorder import REPO

WIDTH, HEIGHT = 390, 844
MIN_TAP = 44  # px: the smallest comfortable touch target
CHROMIUM_FLAGS = [
    "--headless",
    "--no-sandbox",
    "--disable-gpu",
    "--disable-quic",
    "--no-first-run",
    "--disable-background-networking",
    "--disable-component-update",
    "--disable-sync",
]
# Built by `make assets` (npm); not part of the source tree.
VENDOR_HTMX = REPO / "src" / "autopilot" / "web" / "static" / "vendor" / "htmx.min.js"
VENDOR_SWAGGER = VENDOR_HTMX.with_name("swagger-ui-bundle.js")
# Reports every Content-Security-Policy violation to the console (Chromium logs most of them itself).
REPORT_CSP_VIOLATIONS = """
document.addEventListener("securitypolicyviolation", (e) => {
  console.error(`Content Security Policy violation: ${e.violatedDirective} blocked ${e.blockedURI || "inline"}`);
});
"""
IN_CI = os.environ.get("CI", "").lower() in ("1", "true", "yes")


def find_chromium() -> str | None:
    real = Path("/usr/lib/chromium/chromium")
    if real.exists():
        return str(real)
    return shutil.which("chromium")


def chromium_or_skip() -> str:
    """Chromium's path; the test is skipped without it, except under CI=true where it fails."""
    path = find_chromium()
    if path is None:
        why = "Chromium is not installed (/usr/lib/chromium/chromium or `chromium` on PATH; `make chromium`)"
        if IN_CI:
            pytest.fail(f"{why}: the browser tests are required under CI=true")
        pytest.skip(why)
    return path


@dataclass
class Problems:
    """What went wrong in the page besides the assertions: script errors and failed loads."""

    base: str
    errors: list[str] = field(default_factory=list)

    def on_response(self, response: Response) -> None:
        url = response.url
        if not url.startswith(self.base) or response.request.resource_type == "document":
            return  # pages may answer 4xx on purpose (a wrong password is a 401)
        if response.status >= 400 and not ("/static/vendor/" in url and not VENDOR_HTMX.exists()):
            self.errors.append(f"{response.status} {url}")

    def on_console(self, message: ConsoleMessage) -> None:
        if "Content Security Policy" in message.text or "Refused to" in message.text:
            self.errors.append(f"CSP: {message.text}")

    def on_request(self, request: Request) -> None:
        if not request.url.startswith((self.base, "data:", "blob:")):
            self.errors.append(f"request outside the app: {request.url}")


def assert_fits_width(page: Page) -> None:
    scroll_width = page.evaluate("document.documentElement.scrollWidth")
    assert scroll_width <= WIDTH, f"{page.url} scrolls sideways: {scroll_width}px wide at {WIDTH}px"


def assert_tall_enough(page: Page, locator_name: str, height: float | None) -> None:
    assert height is not None and height >= MIN_TAP, (
        f"{locator_name} on {page.url} is {height}px tall; touch targets need at least {MIN_TAP}px"
    )
