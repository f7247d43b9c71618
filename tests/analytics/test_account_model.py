"""The engagement forecast of drafts: the public prior alone before the account has posts, then the
account's own posts teach it (validated on its later posts, time-ordered), and it is retrained as
figures arrive, debounced.

The account's posts are synthetic: an opening question draws 104 reactions + comments, a
statement 9 (a rule the public prior does not know)."""

from __future__ import annotations

import random
import uuid
from datetime import UTC, datetime, timedelta
from typing import Any

import httpx
from sqlalchemy import func, select
from sqlalchemy.ext.asyncio import AsyncSession, async_sessionmaker

from autopilot.analytics import service
from autopilot.analytics.models import AnalyticsPost
from autopilot.config import Settings
from autopilot.worker.models import Job
from tests.support.accounts import Account, csrf_of, log_in_with_the_form
from tests.support.scheduling import run_everything_due

WORDS = ["architecture", "review", "platform", "teams", "deploy", "latency", "budget", "incident", "cloud", "cost"]
QUESTION = "Why do teams skip design reviews?"
STATEMENT = "Teams skip design reviews."


async def add_posts(
    sessions: async_sessionmaker[AsyncSession], account: Account, count: int, *, seed: int, start: datetime
) -> None:
    """*count* posts, one every 3 days from *start*, each with its text and figures."""
    rng = random.Random(seed)
    async with sessions() as session, session.begin():
        for i in range(count):
            question = rng.random() < 0.5
            body = " ".join(rng.choices(WORDS, k=rng.randint(5, 60)))
            reactions = 95 if question else 9  # within a kind, a tie: only the kinds are to be ordered
            session.add(
                AnalyticsPost(
                    org_id=uuid.UUID(account.org_id),
                    origin="export",
                    activity_id=str(rng.randrange(10**18)),
                    published_at=start + timedelta(days=3 * i, hours=rng.choice([6, 8, 12])),
                    text=f"{QUESTION if question else STATEMENT} {body}.",
                    media_type="text",
                    reactions=reactions,
                    comments=reactions // 10,
                    impressions=reactions * 40,
                )
            )


async def predict(client: httpx.AsyncClient, account: Account, text: str, **extra: Any) -> dict[str, Any]:
    answer = await client.post("/api/v1/analytics/predict", json={"text": text, **extra}, headers=account.auth)
    assert answer.status_code == 200, answer.text
    found: dict[str, Any] = answer.json()
    return found


async def train(client: httpx.AsyncClient, account: Account, sessions: Any, settings: Settings) -> None:
    asked = await client.post("/api/v1/analytics/model/train", headers=account.auth)
    assert asked.status_code == 202, asked.text
    assert await run_everything_due(sessions, settings) >= 1


async def test_before_any_post_a_draft_gets_the_public_prior_as_a_range(
    client: httpx.AsyncClient, alice: Account
) -> None:
    found = await predict(client, alice, f"{QUESTION} Here is what I learned.", media_type="image")

    assert found["basis"] == "prior only (public posts)" and found["basis_posts"] == 0
    assert 0 <= found["low"] <= found["expected"] <= found["high"] and found["low"] < found["high"]
    assert found["interval"] == 0.8
    assert found["chance_above_median"] is None and "no posts of yours" in found["statement"]


async def test_the_accounts_posts_teach_the_forecast_and_it_is_validated_on_the_later_ones(
    client: httpx.AsyncClient,
    alice: Account,
    bob: Account,
    sessions: async_sessionmaker[AsyncSession],
    settings: Settings,
) -> None:
    await add_posts(sessions, alice, 40, seed=3, start=datetime(2026, 1, 5, tzinfo=UTC))
    prior_only = await predict(client, alice, f"{QUESTION} The budget.")

    await train(client, alice, sessions, settings)

    report = (await client.get("/api/v1/analytics/model", headers=alice.auth)).json()
    assert report["basis"] == "public prior + 40 of your posts" and report["posts_with_figures"] == 40
    validation = report["report"]
    # The first post only sets the baseline the next ones' lift is measured from: 39 to split.
    assert validation["validated"] and (validation["train"], validation["test"]) == (27, 12)
    assert "oldest 27 posts train, the newest 12 test" in validation["split"]
    assert validation["test_from"] == "2026-03-30"  # the 29th post: 28 x 3 days after 5 January
    assert validation["accuracy"]["model"] >= 0.9 > validation["accuracy"]["length_baseline"]
    assert validation["coverage"]["interval"] == 0.8 and 0 <= validation["coverage"]["inside"] <= 1
    assert validation["mae"]["model"] < validation["mae"]["prior_only"]
    question = await predict(client, alice, f"{QUESTION} The budget.")
    statement = await predict(client, alice, f"{STATEMENT} The budget.")
    assert question["basis"] == "public prior + 40 of your posts"
    assert statement["high"] < question["expected"] and question["low"] > statement["expected"]
    assert question["low"] <= 104 <= question["high"] and statement["low"] <= 9 <= statement["high"]
    assert question["statement"].startswith("likely above your median")
    assert statement["statement"].startswith("likely below your median")
    assert question["expected"] != prior_only["expected"]
    # Another organization's drafts know nothing of Alice's posts.
    assert (await predict(client, bob, f"{QUESTION} The budget."))["basis_posts"] == 0
    assert (await client.get("/api/v1/analytics/model", headers=bob.auth)).json()["posts_with_figures"] == 0


async def test_a_few_posts_are_not_validated_and_the_report_says_why(
    client: httpx.AsyncClient, alice: Account, sessions: async_sessionmaker[AsyncSession], settings: Settings
) -> None:
    await add_posts(sessions, alice, 4, seed=1, start=datetime(2026, 3, 2, tzinfo=UTC))
    await train(client, alice, sessions, settings)

    report = (await client.get("/api/v1/analytics/model", headers=alice.auth)).json()

    assert report["basis_posts"] == 4 and report["report"]["validated"] is False
    assert "7 are needed" in report["report"]["reason"]
    await log_in_with_the_form(client, alice)
    page = await client.get("/analytics/model")
    assert page.status_code == 200 and "Not validated yet: 4 posts with text and figures" in page.text


async def test_retraining_waits_for_five_new_posts_with_figures_and_one_job_serves_a_burst(
    client: httpx.AsyncClient, alice: Account, sessions: async_sessionmaker[AsyncSession], settings: Settings
) -> None:
    org = uuid.UUID(alice.org_id)
    await add_posts(sessions, alice, 10, seed=2, start=datetime(2026, 1, 5, tzinfo=UTC))
    await train(client, alice, sessions, settings)

    await add_posts(sessions, alice, 4, seed=4, start=datetime(2026, 3, 1, tzinfo=UTC))
    async with sessions() as session, session.begin():
        assert await service.figures_arrived(session, org) is None  # 4 new: not yet
    await add_posts(sessions, alice, 1, seed=5, start=datetime(2026, 4, 1, tzinfo=UTC))
    async with sessions() as session, session.begin():
        first = await service.figures_arrived(session, org)
        again = await service.figures_arrived(session, org)  # figures of the same burst again
    assert first is not None and again == first
    async with sessions() as session:
        planned = await session.scalar(select(func.count()).where(Job.kind == "analytics.train_forecast"))
        due = await session.scalar(select(Job.run_at).where(Job.id == first))
    assert planned == 2  # the one asked for earlier, and this one
    assert due is not None and due.replace(tzinfo=UTC) > datetime.now(UTC)  # debounced: not at once


async def test_a_bad_draft_is_refused_whole(client: httpx.AsyncClient, alice: Account) -> None:
    for body in ({"text": ""}, {"text": "Fine.", "media_type": "hologram"}, {"text": "Fine.", "extra": 1}):
        answer = await client.post("/api/v1/analytics/predict", json=body, headers=alice.auth)
        assert answer.status_code == 422, body
        assert answer.headers["content-type"].startswith("application/problem+json")


async def test_before_training_the_prior_sits_at_the_accounts_own_level(
    client: httpx.AsyncClient, alice: Account, sessions: async_sessionmaker[AsyncSession]
) -> None:
    async with sessions() as session, session.begin():  # a large account: about 2,000 per post
        for i, reactions in enumerate([1_900, 2_100, 1_800, 2_200, 2_000]):
            session.add(
                AnalyticsPost(
                    org_id=uuid.UUID(alice.org_id),
                    origin="export",
                    activity_id=str(7_000 + i),
                    published_at=datetime(2026, 5, 1 + i, 7, 0, tzinfo=UTC),
                    text=f"{STATEMENT} Number {i}.",
                    reactions=reactions,
                    comments=0,
                )
            )

    found = await predict(client, alice, f"{STATEMENT} Another one.")

    assert found["basis_posts"] == 0 and found["your_median"] == 2_000
    assert found["low"] < 2_000 < found["high"] and 1_000 < found["expected"] < 4_000
    assert "about your median of 2,000" in found["statement"]


async def test_the_studio_shows_the_forecast_line_under_the_draft(client: httpx.AsyncClient, alice: Account) -> None:
    await log_in_with_the_form(client, alice)
    form = await client.get("/studio")
    studio = await client.post(
        "/studio/generate",
        data={"structure": "checklist", "topic": "Design reviews", "key_points": "", "csrf_token": csrf_of(form)},
    )
    assert studio.status_code == 200 and 'hx-post="/analytics/predict-line"' in studio.text, studio.text[-800:]

    line = await client.post(
        "/analytics/predict-line", data={"text": f"{QUESTION} More soon.", "csrf_token": csrf_of(studio)}
    )

    assert line.status_code == 200, line.text
    assert "reactions + comments (80 % range)" in line.text and "prior only (public posts)" in line.text
    refused = await client.post("/analytics/predict-line", data={"text": "Hello"})  # no CSRF token
    assert refused.status_code in (400, 403)


async def test_the_planned_slot_counts_once_the_account_shows_it_matters(
    client: httpx.AsyncClient, alice: Account, sessions: async_sessionmaker[AsyncSession], settings: Settings
) -> None:
    # Alice's zone is UTC: her early posts (07:00) draw 100, her late ones (16:00) 10, the text the same.
    async with sessions() as session, session.begin():
        for i in range(30):
            early = i % 2 == 0
            session.add(
                AnalyticsPost(
                    org_id=uuid.UUID(alice.org_id),
                    origin="export",
                    activity_id=str(9_000 + i),
                    published_at=datetime(2026, 6, 1, 7 if early else 16, 0, tzinfo=UTC) + timedelta(days=2 * i),
                    text=f"{STATEMENT} Same kind of post.",
                    reactions=100 if early else 10,
                    comments=0,
                )
            )
    await train(client, alice, sessions, settings)

    morning = await predict(client, alice, f"{STATEMENT} Same kind.", slot="2027-03-02T07:00")
    afternoon = await predict(client, alice, f"{STATEMENT} Same kind.", slot="2027-03-02T16:00+00:00")

    assert morning["expected"] > 2 * afternoon["expected"]  # the same draft, another slot
