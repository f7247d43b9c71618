"""The real pages in headless Chromium at a phone's size (390x844): sign-up, log-in, settings.

The app runs as its own process (`autopilot migrate` + `autopilot serve`) on SQLite in a temporary
data dir; Chromium is Debian's (Playwright never downloads a browser here). Without Chromium the
tests are skipped, except under CI=true where they fail.
"""

from __future__ import annotations

import os
import re
import subprocess
import sys
import uuid
from collections.abc import Iterator
from pathlib import Path

import httpx
import pytest
from playwright.sync_api import BrowserContext, Page, Playwright, expect, sync_playwright

from tests.support.browser import (
    CHROMIUM_FLAGS,
    HEIGHT,
    IN_CI,
    REPORT_CSP_VIOLATIONS,
    VENDOR_SWAGGER,
    WIDTH,
    Problems,
    assert_fits_width,
    assert_tall_enough,
    chromium_or_skip,
)
from tests.support.recorder import free_port, wait_http

pytestmark = pytest.mark.browser

NAV_LABELS = [
    "Approvals", "Inbox", "Analytics", "Leads", "Posts", "Studio", "Calendar", "Integrations", "Jobs", "Settings",
]  # fmt: skip
PASSWORD = "correct horse battery staple"


@pytest.fixture(scope="module")
def chromium_path() -> str:
    return chromium_or_skip()


def _autopilot_command(*args: str) -> list[str]:
    script = Path(sys.executable).with_name("autopilot")
    if script.exists():
        return [str(script), *args]
    return [sys.executable, "-m", "autopilot.cli", *args]


@pytest.fixture(scope="module")
def server(tmp_path_factory: pytest.TempPathFactory) -> Iterator[str]:
    """The app as a subprocess on a free port; yields its base URL and stops only that process."""
    data_dir = tmp_path_factory.mktemp("browser-data")
    port = free_port()
    env = {
        key: value
        for key, value in os.environ.items()
        if not key.startswith("AUTOPILOT_") or key == "AUTOPILOT_TEST_POSTGRES"
    }
    env.update(AUTOPILOT_DATA_DIR=str(data_dir), AUTOPILOT_PORT=str(port), AUTOPILOT_LOG_JSON="true")
    # Run in the data dir so that no developer's .env is picked up.
    migrated = subprocess.run(
        _autopilot_command("migrate"),
        cwd=data_dir,
        env=env,
        capture_output=True,
        text=True,
        timeout=120,
        check=False,
    )
    assert migrated.returncode == 0, f"autopilot migrate failed:\n{migrated.stdout}\n{migrated.stderr}"
    log_path = data_dir / "server.log"
    with log_path.open("wb") as log:
        process = subprocess.Popen(
            _autopilot_command("serve", "--port", str(port)),
            cwd=data_dir,
            env=env,
            stdout=log,
            stderr=subprocess.STDOUT,
        )
    base = f"http://127.0.0.1:{port}"
    try:
        try:
            wait_http(f"{base}/healthz", timeout=60)
            health = httpx.get(f"{base}/healthz", timeout=10)
            assert health.status_code == 200, health.text
        except (TimeoutError, AssertionError) as exc:
            tail = log_path.read_text(errors="replace")[-4000:]
            pytest.fail(f"the server did not become healthy ({exc}); exit code {process.poll()}; log:\n{tail}")
        yield base
    finally:
        process.terminate()
        try:
            process.wait(15)
        except subprocess.TimeoutExpired:
            process.kill()
            process.wait(5)


@pytest.fixture(scope="module")
def playwright() -> Iterator[Playwright]:
    with sync_playwright() as pw:
        yield pw


@pytest.fixture
def context(playwright: Playwright, chromium_path: str, server: str, tmp_path: Path) -> Iterator[BrowserContext]:
    """A fresh browser profile per test at a phone's size, with the browser clock in Sao Paulo."""
    browser_context = playwright.chromium.launch_persistent_context(
        str(tmp_path / "chromium-profile"),
        executable_path=chromium_path,
        headless=True,
        args=CHROMIUM_FLAGS,
        viewport={"width": WIDTH, "height": HEIGHT},
        timezone_id="America/Sao_Paulo",
        locale="en-US",
    )
    browser_context.set_default_timeout(15_000)
    expect.set_options(timeout=15_000)
    yield browser_context
    browser_context.close()


@pytest.fixture
def page(context: BrowserContext, server: str) -> Iterator[Page]:
    problems = Problems(server)
    tab = context.pages[0] if context.pages else context.new_page()
    tab.on("pageerror", lambda exc: problems.errors.append(f"script error: {exc}"))
    tab.on("response", problems.on_response)
    tab.on("console", problems.on_console)
    tab.on("request", problems.on_request)
    context.add_init_script(REPORT_CSP_VIOLATIONS)
    yield tab
    assert problems.errors == [], f"the pages had problems: {problems.errors}"


def unique_email() -> str:
    return f"asha-{uuid.uuid4().hex[:10]}@example.com"


def log_in(page: Page, server: str, email: str, password: str) -> None:
    page.goto(f"{server}/login")
    page.get_by_label("E-mail").fill(email)
    page.get_by_label("Password").fill(password)
    page.get_by_role("button", name="Log in").click()


def test_welcome_page_fits_a_phone_and_offers_sign_up_and_log_in(page: Page, server: str, artifacts: Path) -> None:
    page.goto(f"{server}/")
    expect(page.get_by_role("heading", level=1)).to_have_text("TechLead AutoPilot")
    signup = page.get_by_role("link", name="Create an account")
    login = page.get_by_role("link", name="Log in")
    expect(signup).to_have_attribute("href", "/signup")
    expect(login).to_have_attribute("href", "/login")
    expect(page.get_by_role("navigation", name="Main")).to_have_count(0)  # no app shell when logged out
    assert_fits_width(page)
    for name, link in (("Create an account", signup), ("Log in", login)):
        box = link.bounding_box()
        assert_tall_enough(page, f"the {name!r} link", box["height"] if box else None)
    page.screenshot(path=artifacts / "welcome.png", full_page=True)

    signup.click()
    expect(page).to_have_url(f"{server}/signup")
    expect(page.get_by_role("heading", name="Create your account")).to_be_visible()


def test_sign_up_log_out_log_in_and_the_time_zone_setting_sticks(page: Page, server: str, artifacts: Path) -> None:
    email = unique_email()

    # Sign up. The form pre-selects the browser's own zone; this user picks UTC instead.
    page.goto(f"{server}/signup")
    zone = page.get_by_label("Time zone")
    expect(zone).to_have_value("America/Sao_Paulo")
    assert_fits_width(page)
    page.screenshot(path=artifacts / "signup.png", full_page=True)
    page.get_by_label("E-mail").fill(email)
    page.get_by_label("Password").fill(PASSWORD)
    page.get_by_label("Your name").fill("Asha")
    page.get_by_label("Organization").fill("Asha Consulting")
    zone.select_option("UTC")
    page.get_by_role("button", name="Sign up").click()

    # The same answer whether or not the e-mail had an account; the new owner logs in next.
    expect(page.get_by_role("status")).to_contain_text("If this e-mail is new, the account is ready")
    expect(page.get_by_label("E-mail")).to_have_value(email)
    page.get_by_label("Password").fill(PASSWORD)
    page.get_by_role("button", name="Log in").click()
    expect(page).to_have_url(f"{server}/")
    expect(page.get_by_role("heading", level=1)).to_have_text("Hello, Asha")
    expect(page.locator("main")).to_contain_text("Your time zone is UTC")
    expect(page.get_by_label("Organization")).to_have_text("Asha Consulting")

    # The app shell: every section is one comfortable tap away, and nothing scrolls sideways.
    nav = page.get_by_role("navigation", name="Main")
    expect(nav.get_by_role("link")).to_have_text(NAV_LABELS)
    for label in NAV_LABELS:
        link = nav.get_by_role("link", name=label, exact=True)
        expect(link).to_have_attribute("href", f"/{label.lower()}")
        box = link.bounding_box()
        assert_tall_enough(page, f"the {label!r} nav link", box["height"] if box else None)
    assert_fits_width(page)

    # Log out, then the welcome page is back.
    page.get_by_role("button", name="Log out").click()
    expect(page).to_have_url(f"{server}/login")
    page.goto(f"{server}/")
    expect(page.get_by_role("link", name="Create an account")).to_be_visible()

    # Log in again.
    log_in(page, server, email, PASSWORD)
    expect(page).to_have_url(f"{server}/")
    expect(page.get_by_role("heading", level=1)).to_have_text("Hello, Asha")

    # Settings: change the time zone and save.
    page.get_by_role("navigation", name="Main").get_by_role("link", name="Settings").click()
    expect(page).to_have_url(f"{server}/settings")
    expect(page.get_by_role("link", name="Settings")).to_have_attribute("aria-current", "page")
    expect(page.get_by_label("Time zone")).to_have_value("UTC")
    page.get_by_label("Time zone").select_option("Asia/Kolkata")
    page.get_by_role("button", name="Save").click()
    expect(page.get_by_role("status")).to_have_text("Settings saved.")
    expect(page.get_by_role("alert")).to_have_count(0)

    # Load the page afresh (a GET: the save answered the POST directly) and the choice is still there.
    page.goto(f"{server}/settings")
    expect(page.get_by_label("Time zone")).to_have_value("Asia/Kolkata")
    expect(page.locator("#timezone option:checked")).to_have_text("Asia/Kolkata")
    expect(page.get_by_role("status")).to_have_count(0)
    assert_fits_width(page)
    page.screenshot(path=artifacts / "settings.png", full_page=True)

    page.goto(f"{server}/")
    expect(page.locator("main p").filter(has_text="Your time zone is")).to_contain_text(
        "Your time zone is Asia/Kolkata"
    )
    expect(page.locator("main strong")).to_have_text("Asia/Kolkata")


def test_a_wrong_password_shows_a_readable_error(page: Page, server: str) -> None:
    email = unique_email()
    created = httpx.post(
        f"{server}/api/v1/auth/signup",
        timeout=30,
        json={"email": email, "password": PASSWORD, "organization_name": "Asha Consulting"},
    )
    assert created.status_code == 202, created.text

    log_in(page, server, email, "not the right password")

    alert = page.get_by_role("alert")
    expect(alert).to_be_visible()
    expect(alert).to_have_text(re.compile(r"wrong e-mail or password", re.IGNORECASE))
    expect(alert).not_to_contain_text(re.compile(r"traceback|exception|internal server error", re.IGNORECASE))
    # Still the log-in form, still logged out, the e-mail kept and the password not echoed back.
    expect(page).to_have_url(f"{server}/login")
    expect(page.get_by_role("heading", name="Log in")).to_be_visible()
    expect(page.get_by_label("E-mail")).to_have_value(email)
    expect(page.get_by_label("Password")).to_have_value("")
    expect(page.get_by_role("navigation", name="Main")).to_have_count(0)
    assert_fits_width(page)

    # The right password still works afterwards.
    log_in(page, server, email, PASSWORD)
    expect(page).to_have_url(f"{server}/")
    expect(page.get_by_role("heading", level=1)).to_have_text(re.compile(r"^Hello"))


def test_api_docs_render_from_our_own_files(page: Page, server: str) -> None:
    """Swagger UI at /docs comes from /static/vendor (no CDN) and runs under the strict CSP."""
    if not VENDOR_SWAGGER.exists() and not IN_CI:
        pytest.skip("Swagger UI is not built here (`make assets`)")
    page.goto(f"{server}/docs")
    expect(page.locator(".swagger-ui .info .title")).to_contain_text("TechLead AutoPilot")
    operation = page.locator(".opblock-summary-path", has_text="/api/v1/auth/signup").first
    expect(operation).to_be_visible()
    operation.click()  # opening an operation renders its request body schema, still under the CSP
    expect(page.get_by_text("Request body").first).to_be_visible()
