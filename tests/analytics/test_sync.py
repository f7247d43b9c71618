"""The API sync of published posts against the LinkedIn sandbox (a real server process over HTTP):
a reaction on a fresh post shows within minutes; a connection without LinkedIn's reviewed scopes is
"unsupported" and LinkedIn is never asked; throttling backs off and then reads; the daily budget is
never exceeded and, near its end, fresh posts are read before old ones."""

from __future__ import annotations

import uuid
from datetime import UTC, datetime, timedelta
from typing import Any

import httpx
import pytest
import time_machine
from sqlalchemy import func, select
from sqlalchemy.ext.asyncio import AsyncSession, async_sessionmaker

from autopilot.analytics import service as analytics
from autopilot.analytics.models import AnalyticsPost, AnalyticsSample
from autopilot.analytics.sync import SYNC_KIND, next_read
from autopilot.config import Settings
from autopilot.linkedin import service as linkedin
from autopilot.worker import ledger
from autopilot.worker.models import Job
from tests.linkedin.conftest import sandbox, sandbox_defaults, sandbox_server
from tests.support.accounts import Account
from tests.support.linkedin import approved
from tests.support.linkedin_sandbox import SandboxControl
from tests.support.scheduling import connect_at, run_at

START = datetime(2027, 3, 2, 9, 0, tzinfo=UTC)
ALL_SCOPES = "openid profile email w_member_social r_member_postAnalytics r_member_social_feed"
POSTING_ONLY = "openid profile email w_member_social"
FEED_ONLY = "openid profile email w_member_social r_member_social_feed"
__all__ = ["sandbox", "sandbox_defaults", "sandbox_server"]


@pytest.fixture
def scopes() -> str:
    """The scopes the app asks LinkedIn for (the sandbox grants what it is asked)."""
    return ALL_SCOPES


@pytest.fixture
def settings(settings: Settings, sandbox: SandboxControl, scopes: str) -> Settings:
    return settings.model_copy(
        update={"linkedin_auth_url": sandbox.url, "linkedin_api_url": sandbox.url, "linkedin_scopes": scopes}
    )


async def publish(
    client: httpx.AsyncClient,
    account: Account,
    sessions: async_sessionmaker[AsyncSession],
    settings: Settings,
    text: str,
    at: datetime,
) -> tuple[uuid.UUID, str]:
    """Write, approve and publish *text* through the API at *at*, the publish job run as the engine
    runs it; (content id, the post's URN on LinkedIn)."""
    with time_machine.travel(at, tick=False):
        item = await approved(client, account, text)
        answer = await client.post(f"/api/v1/content/{item['id']}/publish", headers=account.auth)
        assert answer.status_code == 202, answer.text
    await run_at(at, sessions, settings)
    published = (await client.get(f"/api/v1/content/{item['id']}", headers=account.auth)).json()
    assert published["state"] == "published", published
    return uuid.UUID(item["id"]), published["post_urn"]


async def figures(sessions: async_sessionmaker[AsyncSession], account: Account, content_id: uuid.UUID) -> Any:
    async with sessions() as session:
        post = await analytics.post_figures(session, uuid.UUID(account.org_id), content_id)
    assert post is not None
    return post


async def planned_reads(sessions: async_sessionmaker[AsyncSession]) -> list[datetime]:
    async with sessions() as session:
        rows = await session.scalars(select(Job.run_at).where(Job.kind == SYNC_KIND).order_by(Job.run_at))
        return list(rows)


def analytics_calls(sandbox: SandboxControl) -> dict[str, int]:
    """What reached the sandbox's engagement endpoints, by "endpoint status"."""
    requests = sandbox.stats().get("requests", {})
    return {k: v for k, v in requests.items() if k.startswith(("analytics", "social_metadata"))}


@pytest.mark.parametrize("version", ["202604", "202609"])  # metricType as a union, then as a plain string (§5.1)
async def test_a_reaction_on_a_fresh_post_shows_at_the_read_ten_minutes_after_publishing(
    version: str,
    client: httpx.AsyncClient,
    alice: Account,
    sandbox: SandboxControl,
    settings: Settings,
    sessions: async_sessionmaker[AsyncSession],
) -> None:
    settings = settings.model_copy(update={"linkedin_version": version})
    alice = await connect_at(client, alice, sandbox, START, timezone="Europe/Paris")
    content_id, urn = await publish(client, alice, sessions, settings, "What we learnt migrating 40 services", START)
    tracked = await figures(sessions, alice, content_id)
    assert (tracked.origin, tracked.sync_state, tracked.share_urn) == ("published", "pending", urn)
    assert tracked.reactions is None and tracked.synced_at is None  # nothing read yet: unknown, not 0
    assert await planned_reads(sessions) == [START + timedelta(minutes=10)]

    sandbox.react(urn, 3)
    sandbox.comment(urn, "Useful, thanks", "Grace Hopper")
    sandbox.impressions(urn, 40, members_reached=25)
    await run_at(START + timedelta(minutes=10), sessions, settings)

    post = await figures(sessions, alice, content_id)
    assert (post.impressions, post.members_reached, post.reactions, post.comments, post.reposts) == (40, 25, 3, 1, 0)
    assert (post.figures_source, post.sync_state, post.sync_detail) == ("api", "ok", "")
    assert post.synced_at == post.figures_at == START + timedelta(minutes=10)
    assert post.next_sync_at == START + timedelta(minutes=20)
    assert await planned_reads(sessions) == [START + timedelta(minutes=10), START + timedelta(minutes=20)]
    assert analytics_calls(sandbox) == {"analytics 200": 5}
    async with sessions() as session:
        assert await session.scalar(select(func.count()).select_from(AnalyticsSample)) == 1
    # What the person sees: the post's analytics and the dashboard, each saying when it was read.
    answer = (await client.get(f"/api/v1/content/{content_id}/analytics", headers=alice.auth)).json()
    assert (answer["reactions"], answer["comments"], answer["impressions"], answer["sync_state"]) == (3, 1, 40, "ok")
    assert answer["synced_at"].startswith((START + timedelta(minutes=10)).strftime("%Y-%m-%dT%H:%M"))
    summary = (await client.get("/api/v1/analytics/summary", headers=alice.auth)).json()
    assert summary["last_synced_at"] == answer["synced_at"]
    table = (await client.get("/api/v1/analytics/posts", headers=alice.auth)).json()
    assert [(row["reactions"], row["synced_at"]) for row in table] == [(3, answer["synced_at"])]


async def test_tracking_a_published_post_twice_keeps_one_post_and_one_planned_read(
    client: httpx.AsyncClient,
    alice: Account,
    sandbox: SandboxControl,
    settings: Settings,
    sessions: async_sessionmaker[AsyncSession],
) -> None:
    alice = await connect_at(client, alice, sandbox, START, timezone="Europe/Paris")
    content_id, urn = await publish(client, alice, sessions, settings, "Once is enough", START)
    first = await figures(sessions, alice, content_id)
    with time_machine.travel(START, tick=False):
        async with sessions() as session, session.begin():
            again = await analytics.track_published(
                session, uuid.UUID(alice.org_id), content_id, first.integration_id, urn, START, "Once is enough", "text"
            )
    assert again.id == first.id
    async with sessions() as session:
        assert await session.scalar(select(func.count()).select_from(AnalyticsPost)) == 1
    assert await planned_reads(sessions) == [START + timedelta(minutes=10)]


async def test_a_late_second_delivery_of_a_read_already_made_reads_nothing(
    client: httpx.AsyncClient,
    alice: Account,
    sandbox: SandboxControl,
    settings: Settings,
    sessions: async_sessionmaker[AsyncSession],
) -> None:
    alice = await connect_at(client, alice, sandbox, START, timezone="Europe/Paris")
    content_id, urn = await publish(client, alice, sessions, settings, "Read once per slot", START)
    slot = START + timedelta(minutes=10)
    await run_at(slot, sessions, settings)
    read = await figures(sessions, alice, content_id)
    with time_machine.travel(slot, tick=False):  # the same slot's read delivered again (a redelivered job)
        async with sessions() as session, session.begin():
            payload = {"post_id": str(read.id), "due": slot.isoformat()}
            await ledger.enqueue(session, kind=SYNC_KIND, payload=payload, org_id=uuid.UUID(alice.org_id))
    sandbox.react(urn, 5)
    await run_at(slot + timedelta(minutes=1), sessions, settings)
    assert analytics_calls(sandbox) == {"analytics 200": 5}  # one read for the slot, not two
    again = await figures(sessions, alice, content_id)
    assert (again.reactions, again.synced_at, again.next_sync_at) == (0, slot, read.next_sync_at)


@pytest.mark.parametrize("scopes", [POSTING_ONLY])
async def test_without_the_reviewed_scopes_the_post_is_unsupported_and_linkedin_is_never_asked(
    client: httpx.AsyncClient,
    alice: Account,
    sandbox: SandboxControl,
    settings: Settings,
    sessions: async_sessionmaker[AsyncSession],
) -> None:
    alice = await connect_at(client, alice, sandbox, START, timezone="Europe/Paris")
    content_id, urn = await publish(client, alice, sessions, settings, "Posted with w_member_social only", START)
    sandbox.react(urn, 2)
    await run_at(START + timedelta(minutes=10), sessions, settings)
    post = await figures(sessions, alice, content_id)
    assert post.sync_state == "unsupported"
    assert "r_member_postAnalytics" in post.sync_detail and "reviews" in post.sync_detail
    assert (post.impressions, post.reactions, post.comments, post.synced_at) == (None, None, None, None)
    assert post.next_sync_at is None and await planned_reads(sessions) == [START + timedelta(minutes=10)]
    assert analytics_calls(sandbox) == {}  # the sandbox saw no engagement read at all


@pytest.mark.parametrize("scopes", [FEED_ONLY])
async def test_with_only_the_social_feed_scope_reactions_and_comments_are_synced_and_the_rest_stays_unknown(
    client: httpx.AsyncClient,
    alice: Account,
    sandbox: SandboxControl,
    settings: Settings,
    sessions: async_sessionmaker[AsyncSession],
) -> None:
    alice = await connect_at(client, alice, sandbox, START, timezone="Europe/Paris")
    content_id, urn = await publish(client, alice, sessions, settings, "Counted by socialMetadata", START)
    sandbox.react(urn, 2, "PRAISE")
    sandbox.react(urn, 1)
    sandbox.comment(urn, "Agreed", "Linus")
    sandbox.impressions(urn, 99)
    await run_at(START + timedelta(minutes=10), sessions, settings)
    post = await figures(sessions, alice, content_id)
    assert (post.reactions, post.comments) == (3, 1)
    assert (post.impressions, post.members_reached, post.reposts) == (None, None, None)  # never a fake 0
    assert post.sync_state == "ok" and "r_member_postAnalytics" in post.sync_detail
    assert analytics_calls(sandbox) == {"social_metadata 200": 1}


@pytest.mark.parametrize("retry_after", [True, False])
async def test_a_throttled_read_waits_then_reads_and_the_post_stays_due(
    retry_after: bool,
    client: httpx.AsyncClient,
    alice: Account,
    sandbox: SandboxControl,
    settings: Settings,
    sessions: async_sessionmaker[AsyncSession],
) -> None:
    alice = await connect_at(client, alice, sandbox, START, timezone="Europe/Paris")
    content_id, urn = await publish(client, alice, sessions, settings, "Read me twice", START)
    sandbox.react(urn, 4)
    sandbox.set_app(send_retry_after=retry_after, retry_after_s=120)
    sandbox.faults([{"endpoint": "analytics", "fault": "rate_limit", "times": 1}])
    first_try = START + timedelta(minutes=10)
    await run_at(first_try, sessions, settings)

    waiting = await figures(sessions, alice, content_id)
    assert (waiting.sync_state, waiting.sync_failures, waiting.reactions) == ("pending", 1, None)
    assert waiting.synced_at is None
    wait = (waiting.next_sync_at - first_try).total_seconds()
    assert (wait == 120) if retry_after else (30 <= wait <= 60)  # Retry-After, else the exponential's first step
    assert await planned_reads(sessions) == [first_try, waiting.next_sync_at]

    await run_at(waiting.next_sync_at, sessions, settings)
    post = await figures(sessions, alice, content_id)
    assert (post.sync_state, post.sync_failures, post.reactions) == ("ok", 0, 4)
    assert post.synced_at == waiting.next_sync_at
    assert analytics_calls(sandbox) == {"analytics 429": 1, "analytics 200": 5}


async def test_throttling_that_persists_is_shown_on_the_post_and_the_reads_go_on(
    client: httpx.AsyncClient,
    alice: Account,
    sandbox: SandboxControl,
    settings: Settings,
    sessions: async_sessionmaker[AsyncSession],
) -> None:
    alice = await connect_at(client, alice, sandbox, START, timezone="Europe/Paris")
    content_id, urn = await publish(client, alice, sessions, settings, "Throttled for a while", START)
    sandbox.react(urn, 2)
    sandbox.faults([{"endpoint": "analytics", "fault": "rate_limit", "times": 5}])
    due = START + timedelta(minutes=10)
    states = []
    for _ in range(6):
        await run_at(due, sessions, settings)
        post = await figures(sessions, alice, content_id)
        states.append(post.sync_state)
        due = post.next_sync_at
    assert states == ["pending"] * 4 + ["error", "ok"]  # quiet waits first; shown from the 5th refusal on
    assert post.reactions == 2 and post.sync_detail == ""


async def test_the_daily_budget_is_never_exceeded_and_near_its_end_the_fresh_post_is_read_first(
    client: httpx.AsyncClient,
    alice: Account,
    sandbox: SandboxControl,
    settings: Settings,
    sessions: async_sessionmaker[AsyncSession],
) -> None:
    tight = settings.model_copy(update={"linkedin_app_daily_calls": 10})  # a fifth (2 calls) kept for fresh posts
    alice = await connect_at(client, alice, sandbox, START, timezone="Europe/Paris")
    old_id, old_urn = await publish(client, alice, sessions, settings, "Three days old by now", START)
    later = START + timedelta(days=3)  # the old post's first read is long due by now
    (integration,) = (await client.get("/api/v1/integrations", headers=alice.auth)).json()
    with time_machine.travel(later, tick=False):  # other reads today already used 4 of the 10 calls
        async with sessions() as session, session.begin():
            member = await linkedin.integrations.get(session, uuid.UUID(alice.org_id), uuid.UUID(integration["id"]))
            for _ in range(4):
                await linkedin.spend(session, tight, member, "analytics")
    new_id, new_urn = await publish(client, alice, sessions, tight, "Fresh this morning", later)
    for urn in (old_urn, new_urn):
        sandbox.react(urn, 1)
    await run_at(later + timedelta(minutes=10), sessions, tight)
    old, new = await figures(sessions, alice, old_id), await figures(sessions, alice, new_id)
    reset = datetime(2027, 3, 6, tzinfo=UTC)
    assert new.reactions == 1 and new.synced_at == later + timedelta(minutes=10)
    assert old.reactions is None and old.sync_state == "pending" and "daily budget" in old.sync_detail
    assert reset <= old.next_sync_at <= reset + timedelta(minutes=10)  # after midnight UTC
    assert analytics_calls(sandbox) == {"analytics 200": 5}

    await run_at(later + timedelta(minutes=20), sessions, tight)  # the fresh post's next read: 1 call left
    assert analytics_calls(sandbox) == {"analytics 200": 5}  # stopped at the budget
    assert (await figures(sessions, alice, new_id)).next_sync_at >= reset

    await run_at(reset + timedelta(minutes=11), sessions, tight)  # a new UTC day: a new budget
    assert (await figures(sessions, alice, new_id)).synced_at >= reset
    assert 5 + 5 <= analytics_calls(sandbox)["analytics 200"] <= 5 + 10


def test_reads_slow_down_as_the_post_ages_and_stop_after_ninety_days() -> None:
    published = START
    gaps = {age: next_read(published, published + age) for age in (timedelta(minutes=30), timedelta(hours=5))}
    assert gaps[timedelta(minutes=30)] == published + timedelta(minutes=40)
    assert gaps[timedelta(hours=5)] == published + timedelta(hours=6)
    assert next_read(published, published + timedelta(days=3)) == published + timedelta(days=3, hours=6)
    assert next_read(published, published + timedelta(days=10)) == published + timedelta(days=11)
    assert next_read(published, published + timedelta(days=40)) == published + timedelta(days=47)
    assert next_read(published, published + timedelta(days=90)) is None
