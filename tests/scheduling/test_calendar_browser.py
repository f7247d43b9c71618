"""A person on a phone (Chromium, 390x844) queues a LinkedIn post and moves it on the Calendar:
by tapping ("Move…", then a free slot) and by dragging it onto a free slot.

The app is its own process (`autopilot serve` on SQLite with the LinkedIn sandbox), started by the
LinkedIn journey's fixtures, which also fail the test on any console error or CSP violation."""

from __future__ import annotations

import re
import uuid
from datetime import date, datetime
from pathlib import Path
from typing import Any
from zoneinfo import ZoneInfo

import httpx
import pytest
from playwright.sync_api import Page, expect

from tests.linkedin.test_browser_journey import page, server
from tests.support.accounts import PASSWORD
from tests.support.browser import assert_fits_width, assert_tall_enough
from tests.support.crowd import ServerProcess

pytestmark = pytest.mark.browser
__all__ = ["page", "server"]

PARIS = ZoneInfo("Europe/Paris")


def tall_enough(page: Page, selector: str) -> None:
    """Each element matching *selector* is a comfortable tap."""
    found = page.locator(selector)
    assert found.count() > 0, f"nothing matches {selector}"
    for index in range(found.count()):
        box = found.nth(index).bounding_box()
        assert_tall_enough(page, f"{selector} #{index}", box["height"] if box else None)


def queue_of(base: str, token: str, content_id: str) -> dict[str, Any]:
    today = date.today()
    answer = httpx.get(
        f"{base}/api/v1/schedule",
        params={"from": str(today), "to": str(date.fromordinal(today.toordinal() + 90))},
        headers={"Authorization": f"Bearer {token}"},
        timeout=10,
    )
    assert answer.status_code == 200, answer.text
    return next(e for e in answer.json() if e["content_id"] == content_id)


def test_queue_a_post_then_move_it_by_tap_and_by_drag_on_a_phone(
    page: Page, server: ServerProcess, artifacts: Path
) -> None:
    base = server.base_url
    email = f"cal-{uuid.uuid4().hex[:10]}@example.com"

    page.goto(f"{base}/signup")
    page.get_by_label("E-mail").fill(email)
    page.get_by_label("Password").fill(PASSWORD)
    page.get_by_label("Your name").fill("Camille")
    page.get_by_label("Organization").fill("Camille Conseil")
    page.get_by_label("Time zone").select_option("Europe/Paris")
    page.get_by_role("button", name="Sign up").click()
    page.get_by_label("Password").fill(PASSWORD)
    page.get_by_role("button", name="Log in").click()
    expect(page).to_have_url(f"{base}/")

    page.goto(f"{base}/integrations")
    page.get_by_role("button", name="Connect LinkedIn").click()
    page.get_by_role("button", name="Allow").click()
    expect(page.get_by_role("status")).to_contain_text("LinkedIn connected")

    page.get_by_role("navigation", name="Main").get_by_role("link", name="Posts").click()
    page.get_by_label("Your post").fill("Why we test at 06:30\nA second line.")
    page.get_by_role("button", name="Save draft").click()
    post = page.locator("article.post").first
    post.get_by_role("button", name="Approve").click()
    expect(post.locator(".badge")).to_have_text("Approved")
    content_id = (post.get_attribute("id") or "").removeprefix("post-")

    # "Add to queue" on the Posts page: the calendar opens on the week of its slot.
    post.get_by_role("button", name="Add to queue").click()
    expect(page.get_by_role("status")).to_contain_text("Added to the queue")
    login = httpx.post(f"{base}/api/v1/auth/login", json={"email": email, "password": PASSWORD}, timeout=10)
    token = login.json()["access_token"]
    local = datetime.fromisoformat(queue_of(base, token, content_id)["due_at"]).astimezone(PARIS)
    assert f"{local:%H:%M}" == "06:30" and local.weekday() in (1, 3)  # Tuesday or Thursday
    expect(page.locator(f"#day-{local.date()} #entry-{content_id}")).to_be_visible()

    # The calendar shows it at 06:30 on its day, in the user's zone.
    page.get_by_role("navigation", name="Main").get_by_role("link", name="Calendar").click()
    expect(page).to_have_url(f"{base}/calendar")
    expect(page.locator("#zone-note")).to_contain_text("Europe/Paris")
    page.goto(f"{base}/calendar?start={local.date()}")
    card = page.locator(f"#day-{local.date()} #entry-{content_id}")
    expect(card.locator("time")).to_have_text("06:30")
    expect(card).to_contain_text("Why we test at 06:30")
    expect(card.locator(".badge")).to_have_text("Queued")
    expect(page.locator("#dst-rule")).to_contain_text("skips (spring forward)")
    assert_fits_width(page)
    for selector in (".pager a", ".entry .actions a", ".entry .actions button", ".account button", "#feed button"):
        tall_enough(page, selector)
    page.screenshot(path=artifacts / "calendar-week.png", full_page=True)

    # Tap: "Move…", then a free Tuesday slot from the list (its Thursday stays free for the drag).
    card.get_by_role("link", name="Move…").click()
    panel = page.locator("#move")
    expect(panel).to_be_visible()
    tall_enough(page, "#move .choices button")
    if page.locator(".slot-button").count() == 0:
        # Run between Tuesday 06:30 and Thursday 06:30 (Paris), the post's week has no free slot left
        # to tap (Tuesday's is past, Thursday's is the post's): the next week has.
        page.goto(
            f"{base}/calendar?view=week&start={date.fromordinal(local.date().toordinal() + 7)}&move={content_id}#move"
        )
        expect(panel).to_be_visible()
    tall_enough(page, ".slot-button")
    assert_fits_width(page)
    choices = panel.locator(".choices button")
    tuesdays = [
        v for v in choices.evaluate_all("bs => bs.map(b => b.value)") if date.fromisoformat(v[:10]).weekday() == 1
    ]
    target = tuesdays[-1]
    panel.locator(f'.choices button[value="{target}"]').click()
    expect(page).to_have_url(re.compile(rf"/calendar\?view=week&start={target[:10]}&done=moved$"))
    expect(page.get_by_role("status")).to_have_text("Moved.")
    assert queue_of(base, token, content_id)["local_at"] == target
    moved = page.locator(f"#day-{target[:10]} #entry-{content_id}")
    expect(moved.locator("time")).to_have_text("06:30")
    assert_fits_width(page)

    # Drag: the post onto the free Thursday slot of the same week.
    thursday = page.locator('li.slot[data-slot-at$="T06:30"]').filter(has_text="Free slot")
    drop = next(v for v in thursday.evaluate_all("ls => ls.map(l => l.dataset.slotAt)") if v > target)
    # Headless Chromium does not turn Playwright's mouse moves into HTML5 drag events reliably, so
    # the test dispatches the drag events themselves; the page's script does the rest.
    carried = page.evaluate_handle("() => new DataTransfer()")
    slot = page.locator(f'li.slot[data-slot-at="{drop}"]')
    moved.dispatch_event("dragstart", {"dataTransfer": carried})
    slot.dispatch_event("dragover", {"dataTransfer": carried})
    slot.dispatch_event("drop", {"dataTransfer": carried})
    expect(page).to_have_url(re.compile(rf"/calendar\?view=week&start={drop[:10]}&done=moved$"))
    assert queue_of(base, token, content_id)["local_at"] == drop
    expect(page.locator(f"#day-{drop[:10]} #entry-{content_id} time")).to_have_text("06:30")
    page.screenshot(path=artifacts / "calendar-moved.png", full_page=True)

    # Month view: a compact list per day that still fits the phone.
    page.get_by_role("link", name="Month").click()
    expect(page.locator(f"#entry-{content_id}")).to_be_visible()
    assert_fits_width(page)

    # The posting schedule: both slots move to 07:15. A post queued in a slot follows them (the one
    # moved by hand keeps its time), and the page says where it went.
    auth = {"Authorization": f"Bearer {token}"}
    follower = httpx.post(f"{base}/api/v1/content", json={"text": "Follows the slots"}, headers=auth, timeout=10)
    follower_id = follower.json()["id"]
    assert httpx.post(f"{base}/api/v1/content/{follower_id}/approve", headers=auth, timeout=10).status_code == 200
    next_slot = httpx.post(
        f"{base}/api/v1/content/{follower_id}/schedule", json={"slot": "next"}, headers=auth, timeout=10
    )
    assert next_slot.status_code == 200, next_slot.text
    page.goto(f"{base}/calendar")
    editor = page.locator("details.schedule-editor")
    editor.locator("summary").click()
    times = editor.locator('input[name="time"]')
    expect(times.nth(0)).to_have_value("06:30")
    times.nth(0).fill("07:15")
    times.nth(1).fill("07:15")
    assert_fits_width(page)
    for selector in (
        ".schedule-editor summary",
        ".slot-row select",
        ".slot-row input[type=time]",
        ".slot-row label.remove",
    ):
        tall_enough(page, selector)
    page.screenshot(path=artifacts / "calendar-schedule-editor.png", full_page=True)
    editor.get_by_role("button", name="Save the schedule").click()
    expect(page.get_by_role("status")).to_contain_text("1 queued post moved to the new times: “Follows the slots”")
    assert queue_of(base, token, follower_id)["local_at"].endswith("T07:15")
    assert queue_of(base, token, content_id)["local_at"] == drop
