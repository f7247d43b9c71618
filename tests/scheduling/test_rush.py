"""The 06:30 rush under the app's pacing: twelve accounts due at the same instant with a pace of
five posts a minute go out five, five and two over three minutes; the waiting posts say when
their turn comes; a spread past the window tells the owners once; nothing is sent twice."""

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
from tests.support.linkedin import approved, connect
from tests.support.linkedin_sandbox import SandboxControl
from tests.support.scheduling import content, lasting, run_at, schedule

PARIS = ZoneInfo("Europe/Paris")
MONDAY_NOON = datetime(2027, 3, 1, 12, 0, tzinfo=PARIS)
SLOT = wall_to_utc(MONDAY_NOON.date() + timedelta(days=1), time(6, 30), PARIS)


async def test_a_rush_beyond_the_apps_pace_is_spread_minute_by_minute_and_says_so(
    client: httpx.AsyncClient,
    alice: Account,
    sandbox: SandboxControl,
    settings: Settings,
    sessions: async_sessionmaker[AsyncSession],
) -> None:
    paced = settings.model_copy(update={"linkedin_app_posts_per_minute": 5, "schedule_spread_window_s": 60})
    alice = await lasting(client, alice, timezone="Europe/Paris")
    sandbox.set_clock_for_sign_in(MONDAY_NOON)
    posts: list[str] = []
    with time_machine.travel(MONDAY_NOON, tick=True):  # ticking, as the sandbox's clock does (id_token times)
        for n in range(12):
            integration = await connect(client, alice, member=f"Member {n}")
            post = await approved(client, alice, f"Rush post {n}", integration_id=integration["id"])
            queued = await schedule(client, alice, post["id"])
            assert queued.json()["due_at"] == SLOT.isoformat().replace("+00:00", "Z"), queued.text
            posts.append(post["id"])

    async def states() -> list[dict[str, Any]]:
        return [await content(client, alice, p) for p in posts]

    published_by_minute = []
    for moment in (SLOT, SLOT + timedelta(seconds=59), SLOT + timedelta(minutes=1), SLOT + timedelta(minutes=2)):
        await run_at(moment, sessions, paced)
        published_by_minute.append(sum(s["state"] == "published" for s in await states()))
        if moment == SLOT:
            waiting = [s["last_error"] for s in await states() if s["state"] == "scheduled"]
            assert len(waiting) == 7 and all(
                w.startswith("spread: the app sends at most 5 posts a minute") for w in waiting
            )
            assert sorted(w.split("its turn comes at ")[1][:5] for w in waiting) == ["05:31"] * 5 + ["05:32"] * 2, (
                waiting
            )
    assert published_by_minute == [5, 5, 10, 12]
    assert all(s["last_error"] == "" for s in await states())
    texts = [p["displayed_text"] for p in sandbox.posts()]
    assert sorted(texts) == sorted(f"Rush post {n}" for n in range(12))  # each once
    alerts = [
        a for a in (await client.get("/api/v1/alerts", headers=alice.auth)).json() if a["kind"] == "schedule_spread"
    ]
    assert len(alerts) == 1 and "spread past the 1 min window" in alerts[0]["message"]
