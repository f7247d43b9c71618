"""Company Pages through the LinkedIn sandbox (a real server process over HTTP): a member who
granted Community Management's scope finds the pages they administer, tracks one, and its daily
post and follower statistics are stored as LinkedIn gives them (negative net gains included);
without the scope the product says why and never asks LinkedIn; a throttled sync backs off."""

from __future__ import annotations

from collections.abc import Iterator
from datetime import UTC, datetime, timedelta
from typing import Any

import httpx
import pytest
import time_machine
from sqlalchemy import select, update
from sqlalchemy.ext.asyncio import AsyncSession, async_sessionmaker

from autopilot.analytics.company import SYNC_KIND
from autopilot.config import Settings
from autopilot.linkedin.models import DailyUsage, Integration
from autopilot.worker.models import Job
from tests.linkedin.conftest import sandbox_defaults, sandbox_server
from tests.support.accounts import Account, csrf_of, log_in_with_the_form
from tests.support.linkedin import connect, through_consent
from tests.support.linkedin_sandbox import SandboxControl, SandboxServer
from tests.support.scheduling import lasting, run_at

START = datetime(2027, 3, 2, 9, 0, tzinfo=UTC)
COMMUNITY = "rw_organization_admin"
ORG_ID = 2414183
__all__ = ["sandbox_defaults", "sandbox_server"]


@pytest.fixture
def sandbox(sandbox_server: SandboxServer, sandbox_defaults: dict[str, Any]) -> Iterator[SandboxControl]:
    """The sandbox as LinkedIn is by default (tests/linkedin/conftest.py), its app approved for
    Community Management (it may grant rw_organization_admin), its clock at START."""
    control = SandboxControl(sandbox_server.url)
    control.reset()
    control.set_app(**{**sandbox_defaults, "app_scopes": [*sandbox_defaults["app_scopes"], COMMUNITY]})
    control.set_clock(START.isoformat())
    yield control
    control.reset()


@pytest.fixture
def community_scopes() -> str:
    """What AUTOPILOT_LINKEDIN_COMMUNITY_SCOPES says: this installation's app may ask for it."""
    return COMMUNITY


@pytest.fixture
def settings(settings: Settings, sandbox: SandboxControl, community_scopes: str) -> Settings:
    return settings.model_copy(
        update={
            "linkedin_auth_url": sandbox.url,
            "linkedin_api_url": sandbox.url,
            "linkedin_community_scopes": community_scopes,
        }
    )


def day(n: int) -> str:
    """The UTC day *n* days before START."""
    return (START.date() - timedelta(days=n)).isoformat()


def seed_page(sandbox: SandboxControl, admin: str = "Ada Lovelace") -> None:
    body = {
        "id": ORG_ID,
        "name": "Acme Consulting",
        "vanity_name": "acme-consulting",
        "admins": [admin],
        "followers": 1200,
        "days": [
            {"day": day(2), "impressions": 300, "clicks": 10, "likes": 7, "comments": 2, "shares": 1,
             "organic_follower_gain": 7, "paid_follower_gain": 2},
            {"day": day(1), "impressions": 120, "clicks": 6, "likes": -1, "comments": 0, "shares": 0,
             "organic_follower_gain": -4, "paid_follower_gain": 0},
        ],
    }  # fmt: skip
    answer = sandbox.http.post(f"{sandbox.url}/_sandbox/organizations", json=body)
    assert answer.status_code == 200, answer.text


async def connect_for_pages(client: httpx.AsyncClient, account: Account, sandbox: SandboxControl) -> Account:
    """Reconnect LinkedIn from Company Pages (asking also for the Community Management scope) at
    START, on our clock and the sandbox's (so the id_token it signs is valid then)."""
    account = await lasting(client, account)
    sandbox.set_clock_for_sign_in(START)
    with time_machine.travel(START, tick=False):
        started = await client.post("/api/v1/analytics/company-pages/connect", headers=account.auth)
        assert started.status_code == 200, started.text
        assert COMMUNITY in started.json()["authorization_url"]
        answer = await client.get(await through_consent(started.json()["authorization_url"]))
        assert answer.status_code == 200, answer.text
    return account


async def overview(client: httpx.AsyncClient, account: Account) -> dict[str, Any]:
    answer = await client.get("/api/v1/analytics/company-pages", headers=account.auth)
    assert answer.status_code == 200, answer.text
    body: dict[str, Any] = answer.json()
    return body


async def discover_and_track(client: httpx.AsyncClient, account: Account) -> dict[str, Any]:
    (connection,) = (await overview(client, account))["connections"]
    assert connection["supported"], connection
    with time_machine.travel(START, tick=False):
        found = await client.post(
            "/api/v1/analytics/company-pages/discover",
            params={"integration_id": connection["integration_id"]},
            headers=account.auth,
        )
        assert found.status_code == 200, found.text
        (page,) = found.json()["pages"]
        assert (page["name"], page["organization_urn"], page["tracked"]) == (
            "Acme Consulting",
            f"urn:li:organization:{ORG_ID}",
            False,
        )
        tracked = await client.post(f"/api/v1/analytics/company-pages/{page['id']}/track", headers=account.auth)
    assert tracked.status_code == 200, tracked.text
    assert tracked.json()["tracked"] is True
    body: dict[str, Any] = tracked.json()
    return body


def organization_calls(sandbox: SandboxControl) -> dict[str, int]:
    return {k: v for k, v in sandbox.stats()["requests"].items() if k.startswith("organizations.")}


async def sync_jobs(sessions: async_sessionmaker[AsyncSession]) -> list[Job]:
    async with sessions() as session:
        return list(await session.scalars(select(Job).where(Job.kind == SYNC_KIND).order_by(Job.id)))


async def test_a_tracked_page_is_synced_and_its_days_stored_as_given_negative_gains_included(
    client: httpx.AsyncClient,
    alice: Account,
    sandbox: SandboxControl,
    settings: Settings,
    sessions: async_sessionmaker[AsyncSession],
) -> None:
    alice = await connect_for_pages(client, alice, sandbox)
    seed_page(sandbox)
    page = await discover_and_track(client, alice)
    assert page["sync_state"] == "pending"
    assert await run_at(START, sessions, settings) == 1

    with time_machine.travel(START, tick=False):
        detail = await client.get(f"/api/v1/analytics/company-pages/{page['id']}", headers=alice.auth)
    assert detail.status_code == 200, detail.text
    synced = detail.json()
    assert synced["sync_state"] == "ok" and synced["followers"] == 1200
    assert datetime.fromisoformat(synced["synced_at"]) == START
    days = {d["day"]: d for d in synced["days"] if d["impressions"]}
    assert sorted(days) == [day(2), day(1)]
    before = days[day(2)]
    assert (before["impressions"], before["clicks"], before["reactions"], before["comments"], before["shares"]) == (
        300, 10, 7, 2, 1,
    )  # fmt: skip
    assert (before["organic_follower_gain"], before["paid_follower_gain"]) == (7, 2)
    assert before["unique_impressions"] is None  # LinkedIn leaves it out of daily buckets
    latest = days[day(1)]
    assert latest["organic_follower_gain"] == -4 and latest["reactions"] == -1  # stored as given
    assert latest["followers"] == 1200  # the total, on the newest day read

    with time_machine.travel(START, tick=False):
        (listed,) = (await overview(client, alice))["pages"]
    assert listed["last_30_days"]["impressions"] == 420
    assert listed["last_30_days"]["follower_gain"] == 5  # 7 + 2 - 4
    # Three calls a sync, whatever the number of days; tomorrow's sync is planned.
    assert organization_calls(sandbox) == {
        "organizations.acls 200": 1,
        "organizations.get 200": 1,
        "organizations.share_statistics 200": 1,
        "organizations.follower_statistics 200": 1,
        "organizations.network_size 200": 1,
    }
    jobs = await sync_jobs(sessions)
    assert [(j.status, j.run_at) for j in jobs] == [("succeeded", START), ("scheduled", START + timedelta(days=1))]


async def test_the_page_shows_tracked_pages_with_followers_recent_figures_and_last_sync(
    client: httpx.AsyncClient,
    alice: Account,
    sandbox: SandboxControl,
    settings: Settings,
    sessions: async_sessionmaker[AsyncSession],
) -> None:
    alice = await connect_for_pages(client, alice, sandbox)
    seed_page(sandbox)
    await discover_and_track(client, alice)
    await run_at(START, sessions, settings)
    with time_machine.travel(START, tick=False):
        await log_in_with_the_form(client, alice)
        page = await client.get("/analytics/pages")
    assert page.status_code == 200, page.text
    assert "Acme Consulting" in page.text
    assert '<dd class="followers">1,200</dd>' in page.text
    assert "420 impressions" in page.text
    assert '<dd class="follower-gain">5</dd>' in page.text
    assert '<dd class="synced">2027-03-02 10:00 Europe/Paris</dd>' in page.text


@pytest.mark.parametrize("community_scopes", [""])
async def test_without_the_scope_pages_are_unsupported_and_linkedin_is_never_asked(
    client: httpx.AsyncClient,
    alice: Account,
    sandbox: SandboxControl,
    settings: Settings,
    sessions: async_sessionmaker[AsyncSession],
) -> None:
    seed_page(sandbox)
    alice = await lasting(client, alice)
    sandbox.set_clock(START.isoformat())
    with time_machine.travel(START, tick=False):
        await connect(client, alice)  # the usual posting scopes only
    (connection,) = (await overview(client, alice))["connections"]
    assert connection["supported"] is False and connection["can_reconnect"] is False
    assert "Community Management" in connection["message"]
    assert "registered organizations" in connection["message"]
    assert "AUTOPILOT_LINKEDIN_COMMUNITY_SCOPES" in connection["message"]
    found = await client.post(
        "/api/v1/analytics/company-pages/discover",
        params={"integration_id": connection["integration_id"]},
        headers=alice.auth,
    )
    assert found.status_code == 422 and "Community Management" in found.json()["detail"]
    reconnect = await client.post("/api/v1/analytics/company-pages/connect", headers=alice.auth)
    assert reconnect.status_code == 422
    assert organization_calls(sandbox) == {}
    with time_machine.travel(START, tick=False):
        await log_in_with_the_form(client, alice)
        shown = await client.get("/analytics/pages")
    assert "Community Management" in shown.text and "Reconnect LinkedIn with Company Pages" not in shown.text


async def test_a_page_whose_connection_lost_the_scope_is_marked_unsupported_without_a_call(
    client: httpx.AsyncClient,
    alice: Account,
    sandbox: SandboxControl,
    settings: Settings,
    sessions: async_sessionmaker[AsyncSession],
) -> None:
    alice = await connect_for_pages(client, alice, sandbox)
    seed_page(sandbox)
    page = await discover_and_track(client, alice)
    sandbox.set_clock(START.isoformat())
    with time_machine.travel(START, tick=False):
        await connect(client, alice)  # the same member again, without the Community Management scope
    calls = organization_calls(sandbox)
    await run_at(START, sessions, settings)
    assert organization_calls(sandbox) == calls  # nothing more was asked of LinkedIn
    (listed,) = (await overview(client, alice))["pages"]
    assert listed["id"] == page["id"] and listed["sync_state"] == "unsupported"
    assert "Community Management" in listed["sync_detail"]
    (connection,) = (await overview(client, alice))["connections"]
    assert connection["supported"] is False and connection["can_reconnect"] is True
    with time_machine.travel(START, tick=False):
        await log_in_with_the_form(client, alice)
        assert "Reconnect LinkedIn with Company Pages" in (await client.get("/analytics/pages")).text


async def test_a_throttled_sync_backs_off_as_linkedin_says_then_reads(
    client: httpx.AsyncClient,
    alice: Account,
    sandbox: SandboxControl,
    settings: Settings,
    sessions: async_sessionmaker[AsyncSession],
) -> None:
    alice = await connect_for_pages(client, alice, sandbox)
    seed_page(sandbox)
    page = await discover_and_track(client, alice)
    sandbox.set_app(send_retry_after=True, retry_after_s=120)
    sandbox.faults([{"endpoint": "organizations.follower_statistics", "fault": "rate_limit", "times": 1}])
    await run_at(START, sessions, settings)
    (job,) = await sync_jobs(sessions)
    assert (job.status, job.run_at) == ("retry_wait", START + timedelta(seconds=120))
    with time_machine.travel(START, tick=False):
        (waiting,) = (await overview(client, alice))["pages"]
    assert waiting["sync_state"] == "rate_limited" and waiting["synced_at"] is None
    assert datetime.fromisoformat(waiting["next_sync_at"]) == START + timedelta(seconds=120)
    assert waiting["last_30_days"]["impressions"] is None  # nothing half-stored
    assert await run_at(START + timedelta(seconds=60), sessions, settings) == 0  # not before its time
    later = START + timedelta(seconds=121)
    sandbox.set_clock(later.isoformat())
    assert await run_at(later, sessions, settings) == 1
    with time_machine.travel(later, tick=False):
        detail = (await client.get(f"/api/v1/analytics/company-pages/{page['id']}", headers=alice.auth)).json()
    assert detail["sync_state"] == "ok" and detail["followers"] == 1200


async def test_the_development_tier_quota_spent_on_linkedin_backs_off_without_retry_after(
    client: httpx.AsyncClient,
    alice: Account,
    sandbox: SandboxControl,
    settings: Settings,
    sessions: async_sessionmaker[AsyncSession],
) -> None:
    alice = await connect_for_pages(client, alice, sandbox)
    seed_page(sandbox)
    await discover_and_track(client, alice)  # two calls of the member's day
    sandbox.set_app(endpoint_quotas={"community_management": [3, 500]})
    await run_at(START, sessions, settings)
    (job,) = await sync_jobs(sessions)
    assert job.status == "retry_wait" and job.run_at > START  # a later try, never a tight loop
    assert organization_calls(sandbox).get("organizations.follower_statistics 429") == 1
    (listed,) = (await overview(client, alice))["pages"]
    assert listed["sync_state"] == "rate_limited" and "throttl" in listed["sync_detail"]


async def test_an_untracked_page_is_no_longer_synced(
    client: httpx.AsyncClient,
    alice: Account,
    sandbox: SandboxControl,
    settings: Settings,
    sessions: async_sessionmaker[AsyncSession],
) -> None:
    alice = await connect_for_pages(client, alice, sandbox)
    seed_page(sandbox)
    page = await discover_and_track(client, alice)
    await run_at(START, sessions, settings)
    untracked = await client.post(f"/api/v1/analytics/company-pages/{page['id']}/untrack", headers=alice.auth)
    assert untracked.status_code == 200 and untracked.json()["tracked"] is False
    calls = organization_calls(sandbox)
    tomorrow = START + timedelta(days=1, minutes=1)
    sandbox.set_clock(tomorrow.isoformat())
    assert await run_at(tomorrow, sessions, settings) == 1
    assert organization_calls(sandbox) == calls
    days = (await client.get(f"/api/v1/analytics/company-pages/{page['id']}", headers=alice.auth)).json()["days"]
    assert day(1) in {d["day"] for d in days}  # the days already read stay


async def test_on_the_phone_a_member_finds_their_pages_and_tracks_one(
    client: httpx.AsyncClient,
    alice: Account,
    sandbox: SandboxControl,
    settings: Settings,
    sessions: async_sessionmaker[AsyncSession],
) -> None:
    alice = await connect_for_pages(client, alice, sandbox)
    seed_page(sandbox)
    (connection,) = (await overview(client, alice))["connections"]
    with time_machine.travel(START, tick=False):
        await log_in_with_the_form(client, alice)
        page = await client.get("/analytics/pages")
        assert "No page is tracked yet." in page.text
        found = await client.post(
            "/analytics/pages/discover",
            data={"integration_id": connection["integration_id"], "csrf_token": csrf_of(page)},
        )
        assert found.status_code == 303 and found.headers["location"] == "/analytics/pages?done=found"
        page = await client.get("/analytics/pages")
        assert "Acme Consulting" in page.text and ">Track</button>" in page.text
        (listed,) = (await overview(client, alice))["pages"]
        tracked = await client.post(f"/analytics/pages/{listed['id']}/track", data={"csrf_token": csrf_of(page)})
        assert tracked.status_code == 303
    await run_at(START, sessions, settings)
    with time_machine.travel(START, tick=False):
        page = await client.get("/analytics/pages")
    assert '<dd class="followers">1,200</dd>' in page.text and "Stop tracking" in page.text


async def test_at_the_members_daily_budget_the_sync_waits_for_midnight_without_asking_linkedin(
    client: httpx.AsyncClient,
    alice: Account,
    sandbox: SandboxControl,
    settings: Settings,
    sessions: async_sessionmaker[AsyncSession],
) -> None:
    alice = await connect_for_pages(client, alice, sandbox)
    seed_page(sandbox)
    await discover_and_track(client, alice)
    async with sessions() as session, session.begin():  # the member's other calls of the day
        member_id = await session.scalar(select(Integration.member_id))
        bucket = f"member:{member_id}:community_management"
        await session.execute(update(DailyUsage).where(DailyUsage.bucket == bucket).values(calls=100))
    calls = organization_calls(sandbox)
    await run_at(START, sessions, settings)
    assert organization_calls(sandbox) == calls  # refused by our own count, before LinkedIn
    (job,) = await sync_jobs(sessions)
    assert (job.status, job.run_at) == ("retry_wait", datetime(2027, 3, 3, tzinfo=UTC))
    (listed,) = (await overview(client, alice))["pages"]
    assert listed["sync_state"] == "rate_limited" and "midnight UTC" in listed["sync_detail"]


async def test_tracking_again_the_same_day_keeps_one_daily_sync(
    client: httpx.AsyncClient,
    alice: Account,
    sandbox: SandboxControl,
    settings: Settings,
    sessions: async_sessionmaker[AsyncSession],
) -> None:
    alice = await connect_for_pages(client, alice, sandbox)
    seed_page(sandbox)
    page = await discover_and_track(client, alice)
    await run_at(START, sessions, settings)
    later = START + timedelta(hours=1)
    with time_machine.travel(later, tick=False):
        for action in ("untrack", "track"):
            answer = await client.post(f"/api/v1/analytics/company-pages/{page['id']}/{action}", headers=alice.auth)
            assert answer.status_code == 200, answer.text
    assert await run_at(later, sessions, settings) == 1  # tracked again: synced at once
    calls = organization_calls(sandbox)
    assert await run_at(START + timedelta(days=1, minutes=2), sessions, settings) == 1  # the earlier plan
    assert organization_calls(sandbox) == calls  # …which asked LinkedIn nothing
    waiting = [j.run_at for j in await sync_jobs(sessions) if j.status == "scheduled"]
    assert waiting == [later + timedelta(days=1)]
