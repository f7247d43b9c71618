"""The Calendar page through the real app, as a browser without JavaScript uses it: log in with the
form, read the week, press the forms' buttons (with the page's CSRF token)."""

from __future__ import annotations

import re
from datetime import date, datetime, timedelta
from html import unescape
from typing import Any
from urllib.parse import urlsplit
from zoneinfo import ZoneInfo

import httpx
import pytest

from tests.linkedin.test_pages import alert_of, press, text_of
from tests.support.accounts import Account, csrf_of, log_in_with_the_form
from tests.support.linkedin import approved, connect
from tests.support.linkedin_sandbox import SandboxControl
from tests.support.scheduling import lasting, schedule

NEW_YORK = ZoneInfo("America/New_York")


@pytest.fixture
async def web(client: httpx.AsyncClient, alice: Account, sandbox: SandboxControl) -> httpx.AsyncClient:
    """Alice's browser, logged in through the form, with her LinkedIn connected (Europe/Paris)."""
    await log_in_with_the_form(client, alice)
    await connect(client, alice)
    return client


async def queued(client: httpx.AsyncClient, account: Account, text: str, **where: Any) -> dict[str, Any]:
    post = await approved(client, account, text)
    answer = await schedule(client, account, post["id"], **where)
    assert answer.status_code == 200, answer.text
    body: dict[str, Any] = answer.json()
    return body


async def queue_of(client: httpx.AsyncClient, account: Account) -> dict[str, dict[str, Any]]:
    today = date.today()
    answer = await client.get(
        "/api/v1/schedule",
        params={"from": str(today - timedelta(days=2)), "to": str(today + timedelta(days=120))},
        headers=account.auth,
    )
    assert answer.status_code == 200, answer.text
    return {e["content_id"]: e for e in answer.json()}


def entry_on(page: httpx.Response, day: date, content_id: str) -> str:
    """The visible text of a post's card in the day's column of the calendar."""
    section = re.search(rf'<section class="day[^"]*" id="day-{day.isoformat()}">(.*?)</section>', page.text, re.S)
    assert section, f"no day {day} on the page:\n{text_of(page)[:3000]}"
    card = re.search(rf'<li class="entry[^"]*" id="entry-{content_id}"[^>]*>(.*?)</li>', section.group(1), re.S)
    assert card, f"post {content_id} is not on {day}:\n{text_of(page)[:3000]}"
    return re.sub(r"\s+", " ", unescape(re.sub(r"<[^>]+>", " ", card.group(1)))).strip()


WEDNESDAY_SEVEN = {"timezone": "Europe/Paris", "day": "wed", "time": "07:00"}


async def integration_of(web: httpx.AsyncClient) -> str:
    """The id in the action of the (only) account's posting-schedule editor on the Calendar page."""
    (found,) = re.findall(r'action="/calendar/accounts/([0-9a-f-]{36})/schedule"', (await web.get("/calendar")).text)
    return str(found)


async def send_editor(web: httpx.AsyncClient, action: str, **fields: str | list[str]) -> httpx.Response:
    """Submit the schedule editor, whose slot rows repeat `day` and `time`, with the page's token."""
    return await web.post(action, data={"csrf_token": csrf_of(await web.get("/calendar")), **fields})


def said(label: str) -> str:
    """ "2027-03-30T06:30" as the page says it: "Tue 30 Mar 06:30"."""
    return f"{datetime.fromisoformat(label):%a %d %b %H:%M}"


def slot_choices(page: httpx.Response) -> list[str]:
    """The free slots the move panel offers (their local time in the schedule's zone)."""
    return re.findall(r'<button type="submit" name="at" value="([0-9T:-]{16})"', page.text)


async def test_a_queued_post_shows_at_its_time_in_the_users_own_zone(web: httpx.AsyncClient, alice: Account) -> None:
    entry = await queued(web, alice, "Tuesday thoughts on testing\nThe second line stays off the calendar.")
    assert entry["timezone"] == "Europe/Paris" and entry["local_at"].endswith("T06:30")
    alice = await lasting(web, alice, timezone="America/New_York")  # she travels; the schedule stays in Paris
    there = datetime.fromisoformat(entry["due_at"]).astimezone(NEW_YORK)

    page = await web.get("/calendar", params={"start": there.date().isoformat()})
    assert page.status_code == 200
    assert "Times are in America/New_York, your time zone" in text_of(page)
    card = entry_on(page, there.date(), entry["content_id"])
    assert card.startswith(f"{there:%H:%M} Queued (06:30 Europe/Paris) Tuesday thoughts on testing"), card
    assert "second line" not in card
    assert "Daylight saving: A slot time that a daylight-saving change skips" in text_of(page)

    month = await web.get("/calendar", params={"view": "month", "start": there.date().isoformat()})
    assert entry_on(month, there.date(), entry["content_id"]).startswith(f"{there:%H:%M} Queued")


async def test_tapping_a_free_slot_or_typing_a_time_moves_the_post(web: httpx.AsyncClient, alice: Account) -> None:
    entry = await queued(web, alice, "Move me")
    content_id = entry["content_id"]
    panel = await web.get("/calendar", params={"move": content_id})
    assert "Move “Move me”" in unescape(panel.text)
    choices = slot_choices(panel)
    assert entry["local_at"] not in choices and len(choices) >= 3, choices  # only free slots are offered
    target = choices[1]

    moved = await press(web, "/calendar", "/calendar/move", content_id=content_id, at=target, timezone="Europe/Paris")
    assert moved.status_code == 303, moved.text
    assert moved.headers["location"] == f"/calendar?view=week&start={target[:10]}&done=moved"
    assert (await queue_of(web, alice))[content_id]["local_at"] == target
    page = await web.get(moved.headers["location"])
    assert "Moved." in text_of(page)
    assert entry_on(page, date.fromisoformat(target[:10]), content_id).startswith(f"{target[11:]} Queued")

    # A typed local time (the date-time field) is read in the user's own zone.
    typed = f"{date.today() + timedelta(days=20)}T09:15"
    moved = await press(web, "/calendar", "/calendar/move", content_id=content_id, at=typed, timezone="Europe/Paris")
    assert moved.status_code == 303, moved.text
    after = (await queue_of(web, alice))[content_id]
    assert (after["local_at"], after["timezone"]) == (typed, "Europe/Paris")


async def test_a_taken_slot_or_an_impossible_time_is_said_plainly_and_nothing_moves(
    web: httpx.AsyncClient, alice: Account
) -> None:
    first = await queued(web, alice, "First")
    second = await queued(web, alice, "Second")

    taken = await press(
        web,
        "/calendar",
        "/calendar/move",
        content_id=first["content_id"],
        at=second["local_at"],
        timezone="Europe/Paris",
    )
    assert taken.status_code == 409
    assert taken.headers["content-type"].startswith("text/html")
    assert re.fullmatch(r"The slot \w{3} \d\d \w{3} \d{4} 06:30 \(Europe/Paris\) is taken: .*\.", alert_of(taken))

    past = await press(web, "/calendar", "/calendar/move", content_id=first["content_id"], at="2020-01-07T06:30")
    assert past.status_code == 422
    assert alert_of(past) == "2020-01-07 06:30 in Europe/Paris is in the past."

    spring = date(date.today().year + 1, 3, 31)
    spring -= timedelta(days=(spring.weekday() + 1) % 7)  # the last Sunday of March: clocks skip 02:00-03:00
    gap = f"{spring}T02:30"
    skipped = await press(web, "/calendar", "/calendar/move", content_id=first["content_id"], at=gap)
    assert skipped.status_code == 422
    assert "does not exist in Europe/Paris: the clocks skip it" in alert_of(skipped)

    nothing = await press(web, "/calendar", "/calendar/move", content_id=first["content_id"], at="")
    assert (nothing.status_code, alert_of(nothing)) == (422, "Choose a free slot, or type a date and time.")

    queue = await queue_of(web, alice)
    assert queue[first["content_id"]]["local_at"] == first["local_at"]
    assert queue[second["content_id"]]["local_at"] == second["local_at"]


async def test_another_organizations_post_or_account_is_not_found_from_the_forms(
    web: httpx.AsyncClient, alice: Account, bob: Account
) -> None:
    await connect(web, bob, member="Bob Builder")
    theirs = await queued(web, bob, "Bob's secret plan")
    bobs_integration = theirs["integration_id"]
    mine = await queued(web, alice, "Mine")

    free = slot_choices(await web.get("/calendar", params={"move": mine["content_id"]}))[0]
    for action, fields in [
        ("/calendar/move", {"content_id": theirs["content_id"], "at": free, "timezone": "Europe/Paris"}),
        ("/calendar/withdraw", {"content_id": theirs["content_id"]}),
        (f"/calendar/accounts/{bobs_integration}/pause", {}),
        ("/calendar/move", {"content_id": "not-a-uuid", "at": free}),
        (f"/calendar/accounts/{bobs_integration}/schedule", {**WEDNESDAY_SEVEN, "capacity": "1"}),
        ("/calendar/swap", {"content_id": theirs["content_id"], "other": mine["content_id"]}),
        ("/calendar/swap", {"content_id": mine["content_id"], "other": theirs["content_id"]}),
    ]:
        answer = await press(web, "/calendar", action, **fields)
        assert answer.status_code == 404, (action, answer.text[:300])
        assert re.search(r"\b(No|not in|no such)\b", alert_of(answer)), alert_of(answer)
        assert "secret plan" not in answer.text

    peek = await web.get("/calendar", params={"move": theirs["content_id"]})
    assert peek.status_code == 200 and "secret plan" not in peek.text
    bobs = (await queue_of(web, bob))[theirs["content_id"]]
    assert bobs["local_at"] == theirs["local_at"] and bobs["state"] == "queued"
    bobs_schedule = await web.get(f"/api/v1/integrations/{bobs_integration}/schedule", headers=bob.auth)
    assert bobs_schedule.json()["paused"] is False
    assert bobs_schedule.json()["slots"] == [{"day": "tue", "time": "06:30"}, {"day": "thu", "time": "06:30"}]
    assert (await queue_of(web, alice))[mine["content_id"]]["local_at"] == mine["local_at"]


async def test_the_forms_need_the_pages_csrf_token(web: httpx.AsyncClient, alice: Account) -> None:
    entry = await queued(web, alice, "Guarded")
    free = slot_choices(await web.get("/calendar", params={"move": entry["content_id"]}))[0]
    forged = await web.post(
        "/calendar/move", data={"content_id": entry["content_id"], "at": free, "timezone": "Europe/Paris"}
    )
    assert forged.status_code == 403
    withdrawn = await web.post("/calendar/withdraw", data={"content_id": entry["content_id"], "csrf_token": "x" * 43})
    assert withdrawn.status_code == 403
    assert (await queue_of(web, alice))[entry["content_id"]]["local_at"] == entry["local_at"]


async def test_taking_a_post_off_the_queue_and_pausing_an_account(web: httpx.AsyncClient, alice: Account) -> None:
    entry = await queued(web, alice, "Not this week")
    gone = await press(web, "/calendar", "/calendar/withdraw", content_id=entry["content_id"])
    assert gone.status_code == 303
    assert "Taken off the queue. The post stays approved." in text_of(await web.get(gone.headers["location"]))
    assert entry["content_id"] not in await queue_of(web, alice)

    page = await web.get("/calendar")
    action = re.findall(r'action="(/calendar/accounts/[0-9a-f-]{36}/pause)"', page.text)
    assert len(action) == 1
    paused = await press(web, "/calendar", action[0])
    assert paused.status_code == 303
    shown = text_of(await web.get(paused.headers["location"]))
    assert "Ada Lovelace Paused Tue 06:30, Thu 06:30 (Europe/Paris) Resume queue" in shown
    schedule_now = await web.get(f"/api/v1/integrations/{entry['integration_id']}/schedule", headers=alice.auth)
    assert schedule_now.json()["paused"] is True
    resumed = await press(web, "/calendar", action[0].replace("/pause", "/resume"))
    assert "Queue resumed" in text_of(await web.get(resumed.headers["location"]))


async def test_the_calendar_link_works_until_it_is_stopped(web: httpx.AsyncClient, alice: Account) -> None:
    await queued(web, alice, "In your calendar app")
    made = await press(web, "/calendar", "/calendar/feed")
    assert made.status_code == 200
    assert "It is shown only this once: copy it now." in text_of(made)
    url = re.search(r'id="feed-url" type="text" readonly value="([^"]+)"', made.text)
    assert url and url.group(1).endswith(".ics")
    feed_path = urlsplit(url.group(1)).path
    assert re.fullmatch(r"/calendar/feed/[A-Za-z0-9_-]{20,}\.ics", feed_path)
    assert "readonly value" not in (await web.get("/calendar")).text  # shown once, not on the next visit

    feed = await web.get(feed_path)
    assert feed.status_code == 200 and feed.headers["content-type"].startswith("text/calendar")
    assert "SUMMARY:LinkedIn: In your calendar app" in feed.text

    stopped = await press(web, "/calendar", "/calendar/feed/stop")
    assert "Your calendar link stopped working." in text_of(await web.get(stopped.headers["location"]))
    assert (await web.get(feed_path)).status_code == 404


async def test_the_calendar_sends_a_visitor_who_is_not_logged_in_to_log_in(client: httpx.AsyncClient) -> None:
    answer = await client.get("/calendar")
    assert (answer.status_code, answer.headers["location"]) == (303, "/login")
    token_page = await client.get("/login")
    assert csrf_of(token_page)


async def test_changing_the_posting_schedule_moves_a_queued_post_and_the_page_says_where(
    web: httpx.AsyncClient, alice: Account
) -> None:
    entry = await queued(web, alice, "Wednesday is the new Tuesday\nSecond line.")
    integration_id = await integration_of(web)
    editor = await web.get("/calendar")
    assert 'name="timezone"' in editor.text and '<option value="Europe/Paris" selected>' in editor.text
    assert re.findall(r'name="time" value="(\d\d:\d\d)"', editor.text) == ["06:30", "06:30"]

    # Tuesday's slot moves to 07:00, Thursday's is removed, the blank "add a slot" row stays empty.
    saved = await send_editor(
        web,
        f"/calendar/accounts/{integration_id}/schedule",
        timezone="Europe/Paris",
        day=["tue", "thu", "mon"],
        time=["07:00", "06:30", ""],
        remove="1",
        capacity="1",
    )
    assert saved.status_code == 200, alert_of(saved) if "alert error" in saved.text else saved.text[:500]
    after = (await queue_of(web, alice))[entry["content_id"]]
    assert datetime.fromisoformat(after["local_at"]).strftime("%a %H:%M") == "Tue 07:00"
    assert text_of(saved).count("Posting schedule saved. 1 queued post moved to the new times: ") == 1
    assert (
        f"“Wednesday is the new Tuesday” {said(entry['local_at'])} → {said(after['local_at'])} (Europe/Paris)."
        in text_of(saved)
    )
    stored = await web.get(f"/api/v1/integrations/{integration_id}/schedule", headers=alice.auth)
    assert (stored.json()["slots"], stored.json()["timezone"]) == ([{"day": "tue", "time": "07:00"}], "Europe/Paris")
    assert "Ada Lovelace Running Tue 07:00 (Europe/Paris)" in text_of(await web.get("/calendar"))


async def test_a_bad_zone_or_time_or_no_change_is_refused_plainly_and_nothing_is_saved(
    web: httpx.AsyncClient, alice: Account
) -> None:
    entry = await queued(web, alice, "Stay where you are")
    integration_id = await integration_of(web)
    action = f"/calendar/accounts/{integration_id}/schedule"

    cases: list[tuple[dict[str, str | list[str]], str, str]] = [
        (
            {**WEDNESDAY_SEVEN, "timezone": "Mars/Olympus_Mons"},
            "Time zone: 'Mars/Olympus_Mons' is not an IANA time zone (for example Europe/Paris or America/New_York).",
            '<option value="Mars/Olympus_Mons" selected>',
        ),
        (
            {**WEDNESDAY_SEVEN, "time": "25:00"},
            "Slot 1: '25:00' is not a time of day as HH:MM, for example 06:30.",
            'name="time" value="25:00"',
        ),
        (
            {**WEDNESDAY_SEVEN, "capacity": "many"},
            "Posts per slot: give a whole number from 1 to 10.",
            'name="capacity" min="1" max="10" inputmode="numeric" value="many"',
        ),
        (
            {"timezone": "Europe/Paris", "day": ["thu", "tue"], "time": ["06:30", "06:30"]},
            "Nothing changed: edit the zone, a slot or the posts per slot, then save.",
            '<details class="schedule-editor" open>',
        ),
    ]
    for fields, message, kept in cases:
        refused = await send_editor(web, action, **{"capacity": "1", **fields})
        assert refused.status_code == 422, refused.text[:500]
        assert refused.headers["content-type"].startswith("text/html")
        assert alert_of(refused) == message
        assert '<details class="schedule-editor" open>' in refused.text and kept in refused.text  # what was sent

    schedule_now = await web.get(f"/api/v1/integrations/{integration_id}/schedule", headers=alice.auth)
    assert (schedule_now.json()["timezone"], schedule_now.json()["capacity"]) == ("Europe/Paris", 1)
    assert schedule_now.json()["slots"] == [{"day": "tue", "time": "06:30"}, {"day": "thu", "time": "06:30"}]
    assert (await queue_of(web, alice))[entry["content_id"]]["local_at"] == entry["local_at"]


async def test_swapping_two_queued_posts_exchanges_their_times(web: httpx.AsyncClient, alice: Account) -> None:
    first = await queued(web, alice, "Goes first")
    second = await queued(web, alice, "Goes second")
    panel = await web.get("/calendar", params={"move": first["content_id"]})
    offered = re.findall(r'<option value="([0-9a-f-]{36})">([^<]*)</option>', panel.text)
    assert [(value, unescape(label).endswith("Goes second")) for value, label in offered] == [
        (second["content_id"], True)
    ]

    swapped = await press(
        web, "/calendar", "/calendar/swap", content_id=first["content_id"], other=second["content_id"]
    )
    assert swapped.status_code == 303, alert_of(swapped)
    assert swapped.headers["location"].endswith("&done=swapped")
    assert "Swapped." in text_of(await web.get(swapped.headers["location"]))
    queue = await queue_of(web, alice)
    assert queue[first["content_id"]]["local_at"] == second["local_at"]
    assert queue[second["content_id"]]["local_at"] == first["local_at"]

    itself = await press(web, "/calendar", "/calendar/swap", content_id=first["content_id"], other=first["content_id"])
    assert (itself.status_code, alert_of(itself)) == (422, "Choose two different posts to swap.")


async def test_add_to_queue_on_the_posts_page_puts_it_in_the_next_slot_or_says_why_not(
    web: httpx.AsyncClient, alice: Account, bob: Account
) -> None:
    post = await approved(web, alice, "Queued from the Posts page")
    assert 'action="/calendar/queue"' in (await web.get("/posts")).text
    added = await press(web, "/posts", "/calendar/queue", content_id=post["id"])
    assert added.status_code == 303 and "done=queued" in added.headers["location"]
    entry = (await queue_of(web, alice))[post["id"]]
    assert entry["local_at"].endswith("T06:30") and entry["from_slot"] is True
    page = await web.get(added.headers["location"])
    assert "Added to the queue" in text_of(page) and "Queued from the Posts page" in text_of(page)
    draft = await web.post("/api/v1/content", json={"text": "Not approved"}, headers=alice.auth)
    refused = await press(web, "/posts", "/calendar/queue", content_id=draft.json()["id"])
    assert refused.status_code == 409 and "only approved content" in alert_of(refused)
    bobs = await approved(web, bob, "Bob's own")
    assert (await press(web, "/posts", "/calendar/queue", content_id=bobs["id"])).status_code == 404
