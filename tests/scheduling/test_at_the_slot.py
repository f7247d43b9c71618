"""What happens at the slot besides publishing: content not approved by then is held and its owner
told; after an outage only posts inside the catch-up window go out, one per account, the others
are marked missed; a paused queue holds; pre-flight checks warn the evening before."""

from __future__ import annotations

from datetime import datetime, time, timedelta
from typing import Any
from zoneinfo import ZoneInfo

import httpx
import time_machine
from sqlalchemy.ext.asyncio import AsyncSession, async_sessionmaker

from autopilot.config import Settings
from autopilot.kit.time import wall_to_utc
from tests.support.accounts import Account
from tests.support.linkedin import approved
from tests.support.linkedin_sandbox import SandboxControl
from tests.support.scheduling import connect_at, content, run_at, schedule, set_schedule

PARIS = ZoneInfo("Europe/Paris")
MONDAY_NOON = datetime(2027, 3, 1, 12, 0, tzinfo=PARIS)
TUESDAY = MONDAY_NOON.date() + timedelta(days=1)


def at(day_time: str) -> datetime:
    """Tuesday 2 March 2027 at HH:MM in Paris, as an instant."""
    hours, minutes = map(int, day_time.split(":"))
    return wall_to_utc(TUESDAY, time(hours, minutes), PARIS)


async def alerts(client: httpx.AsyncClient, account: Account, kind: str) -> list[dict[str, Any]]:
    return [a for a in (await client.get("/api/v1/alerts", headers=account.auth)).json() if a["kind"] == kind]


async def queued_monday(
    client: httpx.AsyncClient, account: Account, sandbox: SandboxControl, slots: list[str], texts: list[str]
) -> tuple[Account, list[str]]:
    account = await connect_at(client, account, sandbox, MONDAY_NOON, timezone="Europe/Paris")
    ids = []
    with time_machine.travel(MONDAY_NOON, tick=False):
        await set_schedule(client, account, "Europe/Paris", [("tue", s) for s in slots])
        for text in texts:
            post = await approved(client, account, text)
            assert (await schedule(client, account, post["id"])).status_code == 200
            ids.append(post["id"])
    return account, ids


async def test_content_not_approved_by_its_slot_is_held_and_publishes_once_approved_and_queued_again(
    client: httpx.AsyncClient,
    alice: Account,
    sandbox: SandboxControl,
    settings: Settings,
    sessions: async_sessionmaker[AsyncSession],
) -> None:
    alice, (post,) = await queued_monday(client, alice, sandbox, ["06:30", "09:00"], ["First draft"])
    with time_machine.travel(MONDAY_NOON + timedelta(hours=1), tick=False):
        edited = await client.patch(f"/api/v1/content/{post}", json={"text": "Second draft"}, headers=alice.auth)
    assert edited.status_code == 200 and edited.json()["approved_at"] is None
    assert edited.json()["state"] == "scheduled"  # keeps its slot, not its approval
    await run_at(at("06:30"), sessions, settings)
    held = await content(client, alice, post)
    assert held["state"] == "held" and "not approved by its slot" in held["last_error"]
    assert sandbox.posts() == []  # nothing reached LinkedIn
    (alert,) = await alerts(client, alice, "post_held")
    assert "Tue 02 Mar 2027 06:30 (Europe/Paris)" in alert["message"]
    with time_machine.travel(at("07:00"), tick=False):
        assert (await client.post(f"/api/v1/content/{post}/approve", headers=alice.auth)).status_code == 200
        again = await schedule(client, alice, post)
    assert again.json()["local_at"] == "2027-03-02T09:00", again.text
    await run_at(at("09:00"), sessions, settings)
    assert (await content(client, alice, post))["state"] == "published"
    assert [p["displayed_text"] for p in sandbox.posts()] == ["Second draft"]


async def test_after_a_3_hour_outage_only_the_post_inside_the_catch_up_window_goes_out_and_no_burst(
    client: httpx.AsyncClient,
    alice: Account,
    sandbox: SandboxControl,
    settings: Settings,
    sessions: async_sessionmaker[AsyncSession],
) -> None:
    """The dispatcher is down from 06:00 to 09:00 (nothing runs); three slots pass meanwhile.
    06:30 is 2 h 30 late: outside the 2 h window → missed. 07:30 is inside, but the 08:30 post of
    the same account is due too → missed (no burst). 08:30 publishes."""
    assert settings.schedule_catch_up_s == 7200
    alice, (early, middle, latest) = await queued_monday(
        client, alice, sandbox, ["06:30", "07:30", "08:30"], ["Early", "Middle", "Latest"]
    )
    await run_at(at("06:00"), sessions, settings)  # the last run before the outage
    assert sandbox.posts() == []
    await run_at(at("09:00"), sessions, settings)  # back: everything due runs in one go
    states = {
        name: await content(client, alice, i) for name, i in [("early", early), ("middle", middle), ("latest", latest)]
    }
    assert {k: v["state"] for k, v in states.items()} == {"early": "missed", "middle": "missed", "latest": "published"}
    assert "outside the 2 h 00 min catch-up window" in states["early"]["last_error"]
    assert "no burst" in states["middle"]["last_error"]
    assert [p["displayed_text"] for p in sandbox.posts()] == ["Latest"]
    assert len(await alerts(client, alice, "post_missed")) == 2
    # A missed post can be queued again.
    with time_machine.travel(at("09:05"), tick=False):
        again = await schedule(client, alice, early)
    assert again.status_code == 200 and again.json()["local_at"] == "2027-03-09T06:30"


async def test_a_paused_queue_holds_and_resuming_queues_the_held_posts_again(
    client: httpx.AsyncClient,
    alice: Account,
    sandbox: SandboxControl,
    settings: Settings,
    sessions: async_sessionmaker[AsyncSession],
) -> None:
    alice, (post,) = await queued_monday(client, alice, sandbox, ["06:30"], ["Paused one"])
    (integration,) = (await client.get("/api/v1/integrations", headers=alice.auth)).json()
    base = f"/api/v1/integrations/{integration['id']}/schedule"
    with time_machine.travel(MONDAY_NOON, tick=False):
        assert (await client.post(f"{base}/pause", headers=alice.auth)).json()["paused"] is True
    await run_at(at("06:30"), sessions, settings)
    assert (await content(client, alice, post))["state"] == "held"
    assert sandbox.posts() == []
    with time_machine.travel(at("10:00"), tick=False):
        assert (await client.post(f"{base}/resume", headers=alice.auth)).json()["paused"] is False
        (entry,) = (await client.get("/api/v1/schedule", headers=alice.auth)).json()
    assert entry["local_at"] == "2027-03-09T06:30" and entry["content_state"] == "scheduled"
    await run_at(wall_to_utc(TUESDAY + timedelta(days=7), time(6, 30), PARIS), sessions, settings)
    assert [p["displayed_text"] for p in sandbox.posts()] == ["Paused one"]


async def test_pre_flight_the_evening_before_warns_about_an_unapproved_post_and_stays_quiet_otherwise(
    client: httpx.AsyncClient,
    alice: Account,
    sandbox: SandboxControl,
    settings: Settings,
    sessions: async_sessionmaker[AsyncSession],
) -> None:
    alice, (_fine, edited) = await queued_monday(client, alice, sandbox, ["06:30", "07:30"], ["Fine", "Edited"])
    with time_machine.travel(MONDAY_NOON + timedelta(hours=1), tick=False):
        await client.patch(f"/api/v1/content/{edited}", json={"text": "Edited later"}, headers=alice.auth)
    evening = datetime(2027, 3, 1, 21, 0, tzinfo=PARIS)
    await run_at(evening - timedelta(minutes=1), sessions, settings)
    assert await alerts(client, alice, "preflight") == []
    await run_at(evening, sessions, settings)
    (warning,) = await alerts(client, alice, "preflight")
    assert "07:30" in warning["message"] and "not approved" in warning["message"]
    await run_at(at("05:30"), sessions, settings)  # one hour before the first: all fine for it
    assert len(await alerts(client, alice, "preflight")) == 1
    await run_at(at("06:30"), sessions, settings)  # an hour before the second: still unapproved
    assert len(await alerts(client, alice, "preflight")) == 2


async def test_changing_the_zone_moves_queued_posts_and_says_so(
    client: httpx.AsyncClient,
    alice: Account,
    sandbox: SandboxControl,
    settings: Settings,
    sessions: async_sessionmaker[AsyncSession],
) -> None:
    alice, (post,) = await queued_monday(client, alice, sandbox, ["06:30"], ["Moving east"])
    with time_machine.travel(MONDAY_NOON, tick=False):
        changed = await set_schedule(client, alice, "Asia/Kolkata", [("tue", "06:30")])
    assert changed["moved"] == [
        {"content_id": post, "before": "2027-03-02T06:30 (Europe/Paris)", "after": "2027-03-02T06:30 (Asia/Kolkata)"}
    ]
    kolkata = wall_to_utc(TUESDAY, time(6, 30), ZoneInfo("Asia/Kolkata"))
    await run_at(kolkata, sessions, settings)
    went = await content(client, alice, post)
    assert went["state"] == "published"
    assert (
        datetime.fromisoformat(went["published_at"]).astimezone(ZoneInfo("Asia/Kolkata")).strftime("%H:%M") == "06:30"
    )
    with time_machine.travel(at("06:31"), tick=False):  # the old Paris time passes: nothing else runs
        assert len(sandbox.posts()) == 1


async def test_pre_flight_finds_a_token_revoked_on_linkedin_while_there_is_time(
    client: httpx.AsyncClient,
    alice: Account,
    sandbox: SandboxControl,
    settings: Settings,
    sessions: async_sessionmaker[AsyncSession],
) -> None:
    alice, _ = await queued_monday(client, alice, sandbox, ["06:30"], ["Will it go out?"])
    (integration,) = (await client.get("/api/v1/integrations", headers=alice.auth)).json()
    sandbox.revoke(
        integration["member_urn"].rsplit(":", 1)[1]
    )  # the member removed the app on LinkedIn; we do not know yet
    await run_at(datetime(2027, 3, 1, 21, 0, tzinfo=PARIS), sessions, settings)
    (warning,) = await alerts(client, alice, "preflight")
    assert "needs reconnecting" in warning["message"] and "Tue 02 Mar 2027 06:30" in warning["message"]
    (integration,) = (await client.get("/api/v1/integrations", headers=alice.auth)).json()
    assert integration["status"] == "needs_reconnect"
