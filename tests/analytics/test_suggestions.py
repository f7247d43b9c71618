"""Learned best time from the account's own posts: with known per-slot engagement rates the
suggestion converges on the best slots as posts accumulate; "Apply" puts them in the connection's
weekly schedule and the queued posts move with it; the weekly job applies it only for a user who
chose "apply automatically"; another organization's connection answers 404."""

from __future__ import annotations

import random
import re
import uuid
from datetime import datetime, time, timedelta
from typing import Any
from zoneinfo import ZoneInfo

import httpx
import time_machine
from sqlalchemy import func, select
from sqlalchemy.ext.asyncio import AsyncSession, async_sessionmaker

from autopilot.analytics.models import AnalyticsPost
from autopilot.config import Settings
from autopilot.worker.models import Job
from tests.linkedin.conftest import sandbox, sandbox_defaults, sandbox_server, settings
from tests.support.accounts import Account, csrf_of, log_in_with_the_form, member
from tests.support.linkedin import approved, connect
from tests.support.linkedin_sandbox import SandboxControl
from tests.support.scheduling import connect_at, lasting, run_at, schedule

__all__ = ["sandbox", "sandbox_defaults", "sandbox_server", "settings"]

PARIS = ZoneInfo("Europe/Paris")
MONDAY = datetime(2027, 3, 1, 12, 0, tzinfo=PARIS)
# True engagement rates per slot (weekday 1 = Tuesday, 3 = Thursday): Thursday 08:30 is the best,
# Tuesday 08:30 the second; the rest, the proven 06:30 included, draw 3 %.
RATES = {
    (1, "06:30"): 0.03,
    (1, "08:30"): 0.045,
    (1, "12:00"): 0.03,
    (3, "06:30"): 0.03,
    (3, "08:30"): 0.06,
    (3, "12:00"): 0.03,
}
IMPRESSIONS = 2_000


async def history(
    sessions: async_sessionmaker[AsyncSession], account: Account, integration_id: str, weeks: int, *, seed: int
) -> None:
    """*weeks* weeks before MONDAY, one post in every slot of RATES, its engagements drawn from the
    slot's rate (binomial), published a few minutes after the slot as real posts are."""
    rng = random.Random(seed)
    async with sessions() as session, session.begin():
        for week in range(1, weeks + 1):
            for (weekday, at), rate in RATES.items():
                day = (MONDAY - timedelta(weeks=week)).date() + timedelta(days=weekday)
                hours, minutes = map(int, at.split(":"))
                local = datetime.combine(day, time(hours, minutes), PARIS) + timedelta(minutes=rng.randint(0, 4))
                session.add(
                    AnalyticsPost(
                        org_id=uuid.UUID(account.org_id),
                        integration_id=uuid.UUID(integration_id),
                        origin="export",
                        activity_id=str(rng.randrange(10**18)),
                        published_at=local.astimezone(ZoneInfo("UTC")),
                        text=f"Post of week {week}",
                        impressions=IMPRESSIONS,
                        engagements=sum(rng.random() < rate for _ in range(IMPRESSIONS)),
                    )
                )


async def connected(client: httpx.AsyncClient, account: Account, sandbox: SandboxControl) -> tuple[Account, str]:
    account = await connect_at(client, account, sandbox, MONDAY, timezone="Europe/Paris")
    (integration,) = (await client.get("/api/v1/integrations", headers=account.auth)).json()
    return account, integration["id"]


async def best_time(client: httpx.AsyncClient, account: Account, **query: str) -> dict[str, Any]:
    answer = await client.get("/api/v1/analytics/best-time", params=query, headers=account.auth)
    assert answer.status_code == 200, answer.text
    found: dict[str, Any] = answer.json()
    return found


async def weekly_slots(client: httpx.AsyncClient, account: Account, integration_id: str) -> list[tuple[str, str]]:
    answer = await client.get(f"/api/v1/integrations/{integration_id}/schedule", headers=account.auth)
    assert answer.status_code == 200, answer.text
    return [(s["day"], s["time"]) for s in answer.json()["slots"]]


def chance_of(found: dict[str, Any], day: str, at: str) -> float:
    (slot,) = [e for e in found["evidence"] if (e["day"], e["time"]) == (day, at)]
    chance: float = slot["probability_best"]
    return chance


async def test_with_known_slot_rates_the_suggestion_converges_on_the_best_slots(
    client: httpx.AsyncClient, alice: Account, sandbox: SandboxControl, sessions: async_sessionmaker[AsyncSession]
) -> None:
    alice, integration = await connected(client, alice, sandbox)
    with time_machine.travel(MONDAY, tick=False):
        before = await best_time(client, alice)
    assert before["suggested"] == ["Tue 06:30", "Thu 06:30"] and not before["changes"]  # the prior alone
    assert before["posts_counted"] == 0

    await history(sessions, alice, integration, 1, seed=7)
    with time_machine.travel(MONDAY, tick=False):
        early = await best_time(client, alice)
    await history(sessions, alice, integration, 10, seed=8)  # nine more weeks (week 1 again, other draws)
    with time_machine.travel(MONDAY, tick=False):
        late = await best_time(client, alice)

    assert early["suggested"] == ["Tue 06:30", "Thu 06:30"]  # one post per slot: too few to move the schedule
    assert late["posts_counted"] == 66
    assert late["suggested"] == ["Tue 08:30", "Thu 08:30"] and late["changes"]
    assert chance_of(late, "thu", "08:30") > 0.9 > chance_of(early, "thu", "08:30")
    best = late["evidence"][0]
    assert (best["day"], best["time"], best["posts"]) == ("thu", "08:30", 11)
    assert 0.05 < best["observed_rate"] < 0.07 and best["interval"][0] < best["mean_rate"] < best["interval"][1]
    assert late["current"] == ["Tue 06:30", "Thu 06:30"]  # a suggestion changes nothing by itself
    assert await weekly_slots(client, alice, integration) == [("tue", "06:30"), ("thu", "06:30")]


async def test_apply_moves_the_weekly_slots_and_the_queued_post_with_them(
    client: httpx.AsyncClient,
    alice: Account,
    sandbox: SandboxControl,
    sessions: async_sessionmaker[AsyncSession],
    settings: Settings,
) -> None:
    alice, integration = await connected(client, alice, sandbox)
    await history(sessions, alice, integration, 10, seed=3)
    with time_machine.travel(MONDAY, tick=False):
        post = await approved(client, alice, "Tuesday thoughts")
        assert (await schedule(client, alice, post["id"])).json()["local_at"] == "2027-03-02T06:30"

        applied = await client.post(
            "/api/v1/analytics/best-time/apply", json={"integration_id": integration}, headers=alice.auth
        )

        assert applied.status_code == 200, applied.text
        assert applied.json()["slots"] == ["Tue 08:30", "Thu 08:30"]
        (moved,) = applied.json()["moved"]
        assert moved["content_id"] == post["id"] and moved["after"] == "2027-03-02T08:30 (Europe/Paris)"
        assert await weekly_slots(client, alice, integration) == [("tue", "08:30"), ("thu", "08:30")]
        after = await best_time(client, alice)
        assert after["current"] == after["suggested"] and not after["changes"] and after["applied_at"]
    # The post goes out at the new time, not the old one.
    await run_at(datetime(2027, 3, 2, 6, 30, tzinfo=PARIS), sessions, settings)
    assert sandbox.posts() == []
    await run_at(datetime(2027, 3, 2, 8, 30, tzinfo=PARIS), sessions, settings)
    assert [p["displayed_text"] for p in sandbox.posts()] == ["Tuesday thoughts"]


async def weekly_jobs(sessions: async_sessionmaker[AsyncSession], status: str = "scheduled") -> int:
    async with sessions() as session:
        found = await session.scalar(
            select(func.count()).where(Job.kind == "analytics.best_time_weekly", Job.status == status)
        )
    return int(found or 0)


async def test_only_a_user_who_chose_auto_apply_gets_the_schedule_changed_by_the_weekly_job(
    client: httpx.AsyncClient,
    alice: Account,
    sandbox: SandboxControl,
    sessions: async_sessionmaker[AsyncSession],
    settings: Settings,
) -> None:
    alice, integration = await connected(client, alice, sandbox)
    await history(sessions, alice, integration, 10, seed=5)
    await run_at(MONDAY + timedelta(days=8), sessions, settings)
    assert await weekly_slots(client, alice, integration) == [("tue", "06:30"), ("thu", "06:30")]
    assert await weekly_jobs(sessions) == 0  # a suggestion only: nothing planned

    with time_machine.travel(MONDAY, tick=False):
        on = await client.put(
            "/api/v1/analytics/best-time/auto-apply",
            json={"integration_id": integration, "auto_apply": True},
            headers=alice.auth,
        )
    assert on.status_code == 200 and on.json()["auto_apply"] is True, on.text
    await run_at(MONDAY + timedelta(days=6), sessions, settings)
    assert await weekly_slots(client, alice, integration) == [("tue", "06:30"), ("thu", "06:30")]  # not yet
    await run_at(MONDAY + timedelta(days=7, minutes=1), sessions, settings)
    assert await weekly_slots(client, alice, integration) == [("tue", "08:30"), ("thu", "08:30")]
    assert await weekly_jobs(sessions) == 1  # next week's run

    with time_machine.travel(MONDAY + timedelta(days=8), tick=False):
        off = await client.put(
            "/api/v1/analytics/best-time/auto-apply",
            json={"integration_id": integration, "auto_apply": False},
            headers=alice.auth,
        )
        assert off.status_code == 200 and off.json()["auto_apply"] is False
        put_back = await client.put(
            f"/api/v1/integrations/{integration}/schedule",
            json={
                "timezone": "Europe/Paris",
                "slots": [{"day": "tue", "time": "06:30"}, {"day": "thu", "time": "06:30"}],
            },
            headers=alice.auth,
        )
        assert put_back.status_code == 200, put_back.text
    await run_at(MONDAY + timedelta(days=15), sessions, settings)
    assert await weekly_slots(client, alice, integration) == [("tue", "06:30"), ("thu", "06:30")]
    assert await weekly_jobs(sessions) == 0 and await weekly_jobs(sessions, "succeeded") == 2


async def test_auto_apply_stops_when_the_member_who_chose_it_leaves_the_organization(
    client: httpx.AsyncClient,
    alice: Account,
    sandbox: SandboxControl,
    sessions: async_sessionmaker[AsyncSession],
    settings: Settings,
) -> None:
    alice, integration = await connected(client, alice, sandbox)
    await history(sessions, alice, integration, 10, seed=5)
    with time_machine.travel(MONDAY, tick=False):
        dana = await member(client, alice, "dana@example.com", "admin")
        on = await client.put(
            "/api/v1/analytics/best-time/auto-apply",
            json={"integration_id": integration, "auto_apply": True},
            headers=dana.auth,
        )
    assert on.status_code == 200, on.text
    members = (await client.get("/api/v1/members", headers=alice.auth)).json()
    (dana_membership,) = [m["id"] for m in members if m["user"]["email"] == "dana@example.com"]
    removed = await client.delete(f"/api/v1/members/{dana_membership}", headers=alice.auth)
    assert removed.status_code == 204, removed.text
    await run_at(MONDAY + timedelta(days=7, minutes=1), sessions, settings)
    # Dana's choice is not applied in her name after she left: the schedule stays as it was.
    assert await weekly_slots(client, alice, integration) == [("tue", "06:30"), ("thu", "06:30")]
    assert await weekly_jobs(sessions) == 0


async def test_another_organizations_connection_is_not_found_and_stays_as_it_was(
    client: httpx.AsyncClient, alice: Account, bob: Account, sandbox: SandboxControl
) -> None:
    alice, integration = await connected(client, alice, sandbox)
    bob = await lasting(client, bob)  # a token still valid on the day the clock moves to
    with time_machine.travel(MONDAY, tick=False):
        assert (
            await client.get("/api/v1/analytics/best-time", params={"integration_id": integration}, headers=bob.auth)
        ).status_code == 404
        body = {"integration_id": integration}
        assert (await client.post("/api/v1/analytics/best-time/apply", json=body, headers=bob.auth)).status_code == 404
        body_auto = {"integration_id": integration, "auto_apply": True}
        answer = await client.put("/api/v1/analytics/best-time/auto-apply", json=body_auto, headers=bob.auth)
        assert answer.status_code == 404
        assert (await best_time(client, alice))["auto_apply"] is False
        nothing = await client.get("/api/v1/analytics/best-time", headers=bob.auth)
        assert nothing.status_code == 404 and "no LinkedIn connection" in nothing.json()["detail"]


async def test_the_model_page_shows_the_evidence_and_its_apply_button_changes_the_schedule(
    client: httpx.AsyncClient, alice: Account, sandbox: SandboxControl, sessions: async_sessionmaker[AsyncSession]
) -> None:
    await connect(client, alice)  # today, in the sandbox's own clock
    (integration,) = (await client.get("/api/v1/integrations", headers=alice.auth)).json()
    await history(sessions, alice, integration["id"], 10, seed=3)
    await log_in_with_the_form(client, alice)

    page = await client.get("/analytics/model")

    assert page.status_code == 200
    assert (
        'id="suggested-slots">Tue 08:30, Thu 08:30<' in page.text and "Apply: post at Tue 08:30, Thu 08:30" in page.text
    )
    assert "<tr><td>Thu08:30</td><td>10</td>" in re.sub(r"\s+", "", page.text)  # its posts, first row
    applied = await client.post(
        "/analytics/best-time/apply", data={"integration_id": integration["id"], "csrf_token": csrf_of(page)}
    )
    assert applied.status_code == 303 and applied.headers["location"] == "/analytics/model?done=applied"
    assert await weekly_slots(client, alice, integration["id"]) == [("tue", "08:30"), ("thu", "08:30")]
    refused = await client.post("/analytics/best-time/apply", data={"integration_id": "x", "csrf_token": csrf_of(page)})
    assert refused.status_code == 422 and "integration id" in refused.text.lower()
