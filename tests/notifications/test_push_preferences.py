"""Preferences and quiet hours: what is pushed, e-mailed or shown, and when; and the pages' own
routes a phone uses to subscribe (session cookie + X-CSRF-Token)."""

from __future__ import annotations

import uuid
from datetime import UTC, date, datetime, time

import httpx
import pytest
import time_machine
from fastapi import FastAPI
from sqlalchemy.ext.asyncio import AsyncSession, async_sessionmaker

from autopilot.notifications import service
from autopilot.notifications.preferences import Quiet
from tests.support.accounts import Account, csrf_of, log_in_with_the_form
from tests.support.webpush import PushService, as_browser_json, push_jobs

QUIET = {"start": "22:00", "end": "07:00"}


@pytest.fixture
def sessions(app: FastAPI) -> async_sessionmaker[AsyncSession]:
    made: async_sessionmaker[AsyncSession] = app.state.sessions
    return made


async def test_defaults_are_in_app_and_push_for_everything_and_email_for_failures(
    client: httpx.AsyncClient, alice: Account
) -> None:
    prefs = (await client.get("/api/v1/notifications/preferences", headers=alice.auth)).json()
    assert prefs["timezone"] == "Europe/Paris" and prefs["quiet_hours"] is None
    kinds = {k["kind"]: (k["push"], k["email"], k["in_app"]) for k in prefs["kinds"]}
    assert kinds["approvals_waiting"] == (True, False, None)  # the Approvals page is its in-app place
    assert all(kinds[k] == (True, True, True) for k in ("post_failed", "post_held", "post_missed", "jobs"))


@pytest.mark.parametrize(
    ("body", "says"),
    [
        ({"kinds": {"birthdays": {"push": True, "email": True}}}, "unknown kinds: birthdays"),
        ({"kinds": {"approvals_waiting": {"push": True, "email": False, "in_app": True}}}, "no in-app channel"),
        ({"quiet_hours": {"start": "22:00", "end": "22:00"}}, "same time"),
        ({"quiet_hours": {"start": "25:00", "end": "07:00"}}, "not a time of day"),
    ],
)
async def test_preferences_that_make_no_sense_are_refused_and_nothing_changes(
    body: dict[str, object], says: str, client: httpx.AsyncClient, alice: Account
) -> None:
    await client.put("/api/v1/notifications/preferences", json={"quiet_hours": QUIET}, headers=alice.auth)
    answer = await client.put("/api/v1/notifications/preferences", json=body, headers=alice.auth)
    assert answer.status_code == 422 and says in answer.json()["detail"], answer.text
    kept = (await client.get("/api/v1/notifications/preferences", headers=alice.auth)).json()
    assert kept["quiet_hours"] == QUIET


async def add_phone(client: httpx.AsyncClient, account: Account, push_service: PushService) -> None:
    added = await client.post(
        "/api/v1/push/subscriptions", json=as_browser_json(push_service.subscribe()), headers=account.auth
    )
    assert added.status_code == 201, added.text


async def test_quiet_hours_defer_a_push_to_their_end_but_not_an_urgent_one(
    client: httpx.AsyncClient, alice: Account, push_service: PushService, sessions: async_sessionmaker[AsyncSession]
) -> None:
    await add_phone(client, alice, push_service)
    saved = await client.put("/api/v1/notifications/preferences", json={"quiet_hours": QUIET}, headers=alice.auth)
    assert saved.status_code == 200, saved.text
    org = uuid.UUID(alice.org_id)
    # 23:30 in Paris (UTC+1 in January): quiet until 07:00 Paris, which is 06:00 UTC the next day.
    with time_machine.travel(datetime(2027, 1, 12, 22, 30, tzinfo=UTC), tick=False):
        async with sessions() as session, session.begin():
            await service.alert_owners(session, org, kind="linkedin_expiring", message="reconnect within 7 days")
            await service.alert_owners(session, org, kind="post_missed", message="missed its 06:30 slot")
    deferred, urgent = await push_jobs(sessions, org)
    assert deferred.payload["message"]["kind"] == "token_expiring"
    assert deferred.run_at == datetime(2027, 1, 13, 6, 0, tzinfo=UTC)
    assert urgent.payload["message"]["kind"] == "post_missed"
    assert urgent.run_at == datetime(2027, 1, 12, 22, 30, tzinfo=UTC)
    # Outside quiet hours, nothing waits.
    with time_machine.travel(datetime(2027, 1, 13, 9, 0, tzinfo=UTC), tick=False):
        async with sessions() as session, session.begin():
            await service.alert_owners(session, org, kind="linkedin_expiring", message="reconnect within 6 days")
    assert (await push_jobs(sessions, org))[-1].run_at == datetime(2027, 1, 13, 9, 0, tzinfo=UTC)


@pytest.mark.parametrize(
    ("window", "now", "ends"),
    [
        # Before midnight: ends tomorrow morning; after: this morning; outside: not quiet.
        (("22:00", "07:00"), datetime(2027, 6, 1, 21, 30, tzinfo=UTC), datetime(2027, 6, 2, 5, 0, tzinfo=UTC)),
        (("22:00", "07:00"), datetime(2027, 6, 2, 1, 0, tzinfo=UTC), datetime(2027, 6, 2, 5, 0, tzinfo=UTC)),
        (("22:00", "07:00"), datetime(2027, 6, 2, 5, 0, tzinfo=UTC), None),
        (("12:00", "14:00"), datetime(2027, 6, 2, 10, 30, tzinfo=UTC), datetime(2027, 6, 2, 12, 0, tzinfo=UTC)),
        # The night Paris springs forward (28 March 2027): 02:30 does not exist; it ends at 03:00 local.
        (("01:00", "02:30"), datetime(2027, 3, 28, 0, 30, tzinfo=UTC), datetime(2027, 3, 28, 1, 0, tzinfo=UTC)),
    ],
)
def test_quiet_hours_end_in_the_persons_own_zone(window: tuple[str, str], now: datetime, ends: datetime | None) -> None:
    assert Quiet.of(*window).until(now, "Europe/Paris") == ends
    assert Quiet(time(22), time(7)).until(datetime.combine(date(2027, 1, 1), time(12), UTC), "Asia/Tokyo") is None


async def test_the_phone_subscribes_and_unsubscribes_through_the_pages_routes(
    client: httpx.AsyncClient, alice: Account, push_service: PushService
) -> None:
    await log_in_with_the_form(client, alice)
    token = csrf_of(await client.get("/settings/notifications"))
    body = as_browser_json(push_service.subscribe())
    forged = await client.post("/push/subscribe", json=body)  # no X-CSRF-Token: another site's script
    assert forged.status_code == 403
    subscribed = await client.post("/push/subscribe", json=body, headers={"X-CSRF-Token": token})
    assert subscribed.status_code == 201, subscribed.text
    assert (await client.post("/push/subscribe", json=body, headers={"X-CSRF-Token": token})).status_code == 200
    page = await client.get("/settings/notifications")
    assert f"/settings/notifications/devices/{subscribed.json()['id']}/remove" in page.text
    gone = await client.post("/push/unsubscribe", json={"endpoint": body["endpoint"]}, headers={"X-CSRF-Token": token})
    assert gone.status_code == 204
    assert (await client.get("/api/v1/push/subscriptions", headers=alice.auth)).json() == []


async def test_the_pages_subscribe_route_needs_a_session(client: httpx.AsyncClient, push_service: PushService) -> None:
    login_page = await client.get("/login")
    body = as_browser_json(push_service.subscribe())
    answer = await client.post("/push/subscribe", json=body, headers={"X-CSRF-Token": csrf_of(login_page)})
    assert answer.status_code == 401
    assert answer.headers["content-type"] == "application/problem+json"


async def test_the_settings_form_saves_channels_and_quiet_hours(client: httpx.AsyncClient, alice: Account) -> None:
    await log_in_with_the_form(client, alice)
    token = csrf_of(await client.get("/settings/notifications"))
    form = {"csrf_token": token, "post_failed.push": "on", "post_failed.email": "on", "quiet_start": "21:30"}
    form["quiet_end"] = "06:45"
    saved = await client.post("/settings/notifications", data=form)
    assert saved.status_code == 200 and "Notification settings saved." in saved.text
    prefs = (await client.get("/api/v1/notifications/preferences", headers=alice.auth)).json()
    kinds = {k["kind"]: (k["push"], k["email"], k["in_app"]) for k in prefs["kinds"]}
    assert kinds["post_failed"] == (True, True, False)  # unticked in-app is off
    assert kinds["approvals_waiting"] == (False, False, None)
    assert prefs["quiet_hours"] == {"start": "21:30", "end": "06:45"}
    refused = await client.post("/settings/notifications", data={**form, "quiet_end": "21:30"})
    assert refused.status_code == 422 and "same time" in refused.text
