"""The queue: approved content into the next free slot or at an explicit local time, published by
the job engine at that instant and not before."""

from __future__ import annotations

from datetime import datetime, timedelta
from zoneinfo import ZoneInfo

import httpx
import time_machine
from sqlalchemy.ext.asyncio import AsyncSession, async_sessionmaker

from autopilot.config import Settings
from tests.support.accounts import Account
from tests.support.linkedin import approved
from tests.support.linkedin_sandbox import SandboxControl
from tests.support.scheduling import connect_at, content, run_at, schedule

PARIS = ZoneInfo("Europe/Paris")


async def test_next_slot_is_tuesday_0630_in_the_authors_zone_and_publishes_then(
    client: httpx.AsyncClient,
    alice: Account,
    sandbox: SandboxControl,
    settings: Settings,
    sessions: async_sessionmaker[AsyncSession],
) -> None:
    monday = datetime(2027, 3, 1, 12, 0, tzinfo=PARIS)
    alice = await connect_at(client, alice, sandbox, monday, timezone="Europe/Paris")
    with time_machine.travel(monday, tick=False):
        post = await approved(client, alice, "Tuesday morning thoughts")
        queued = await schedule(client, alice, post["id"])
        assert queued.status_code == 200, queued.text
        assert queued.json()["local_at"] == "2027-03-02T06:30"
        assert queued.json()["timezone"] == "Europe/Paris"
        second = await approved(client, alice, "Thursday morning thoughts")
        assert (await schedule(client, alice, second["id"])).json()["local_at"] == "2027-03-04T06:30"
    slot = datetime(2027, 3, 2, 6, 30, tzinfo=PARIS)
    await run_at(slot - timedelta(minutes=1), sessions, settings)
    assert (await content(client, alice, post["id"]))["state"] == "scheduled"
    assert sandbox.posts() == []
    await run_at(slot, sessions, settings)
    done = await content(client, alice, post["id"])
    assert done["state"] == "published", done
    assert datetime.fromisoformat(done["published_at"]).astimezone(PARIS).strftime("%H:%M") == "06:30"
    assert [p["displayed_text"] for p in sandbox.posts()] == ["Tuesday morning thoughts"]
