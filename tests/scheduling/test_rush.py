"""The 06:30 rush under the app's pacing: twelve accounts due at the same instant with a pace of
five posts a minute go out five, five and two over three minutes; the waiting posts say when
their turn comes; a spread past the window tells the owners once; nothing is sent twice. Slot
jobs run at once, as the engine runs a rush, read together: one query for all their queue
entries, each organization's rows only its own."""

from __future__ import annotations

import asyncio
import uuid
from datetime import datetime, time, timedelta
from typing import Any
from zoneinfo import ZoneInfo

import httpx
import time_machine
from sqlalchemy import event
from sqlalchemy.ext.asyncio import AsyncEngine, AsyncSession, async_sessionmaker

from autopilot.config import Settings
from autopilot.content import service as content_service
from autopilot.kit.crypto import KeyRing
from autopilot.kit.time import wall_to_utc
from autopilot.worker import ledger
from tests.support.accounts import Account
from tests.support.jobs import job_runner
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


async def test_slot_jobs_running_at_once_read_together_each_organization_its_own(
    client: httpx.AsyncClient,
    alice: Account,
    bob: Account,
    sandbox: SandboxControl,
    settings: Settings,
    engine: AsyncEngine,
    sessions: async_sessionmaker[AsyncSession],
) -> None:
    posts: dict[str, Account] = {}
    alice, bob = [await lasting(client, owner, timezone="Europe/Paris") for owner in (alice, bob)]
    sandbox.set_clock_for_sign_in(MONDAY_NOON)
    with time_machine.travel(MONDAY_NOON, tick=True):
        for owner in (alice, bob):
            for n in range(4):
                integration = await connect(client, owner, member=f"{owner.email} member {n}")
                post = await approved(client, owner, f"{owner.email} post {n}", integration_id=integration["id"])
                assert (await schedule(client, owner, post["id"])).status_code == 200
                posts[post["id"]] = owner

    await run_at(SLOT - timedelta(minutes=5), sessions, settings)  # the pre-flight checks: only the slots are left
    statements: list[str] = []

    def seen(_conn: Any, _cursor: Any, statement: str, *_args: Any) -> None:
        statements.append(statement)

    event.listen(engine.sync_engine, "before_cursor_execute", seen)
    try:
        with time_machine.travel(SLOT, tick=False):
            async with sessions() as session, session.begin():
                claimed = await ledger.claim_due(session, owner="test", limit=50, lease_s=30, start=True)
            runner = job_runner(sessions, settings)
            outcomes = await asyncio.gather(*(runner.run(job) for job in claimed))
    finally:
        event.remove(engine.sync_engine, "before_cursor_execute", seen)

    assert outcomes == ["succeeded"] * len(posts)
    for post_id, owner in posts.items():
        assert (await content(client, owner, post_id))["state"] == "published"
    assert sorted(p["displayed_text"] for p in sandbox.posts()) == sorted(
        f"{o.email} post {n}" for o in (alice, bob) for n in range(4)
    )  # each once, by its own member
    entry_reads = [s for s in statements if s.lstrip().startswith("SELECT") and "FROM schedule_queue" in s]
    assert 1 <= len(entry_reads) < len(posts) / 2, entry_reads  # together, not one read per job

    # Read together, a key names a row only under its own organization.
    alices_post = next(p for p, o in posts.items() if o is alice)
    async with sessions() as session:
        crossed = await content_service.prepare_many(
            session, KeyRing(settings.encryption_keys), [(uuid.UUID(bob.org_id), uuid.UUID(alices_post))]
        )
    assert crossed[(uuid.UUID(bob.org_id), uuid.UUID(alices_post))].item is None
