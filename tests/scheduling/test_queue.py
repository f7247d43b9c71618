"""The queue: approved content into the next free slot or at an explicit local time, published by
the job engine at that instant and not before."""

from __future__ import annotations

import asyncio
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


async def test_the_queue_refuses_what_it_cannot_do_with_a_clear_reason(
    client: httpx.AsyncClient, alice: Account, sandbox: SandboxControl
) -> None:
    monday = datetime(2027, 3, 22, 12, 0, tzinfo=PARIS)
    alice = await connect_at(client, alice, sandbox, monday, timezone="Europe/Paris")
    with time_machine.travel(monday, tick=False):
        draft = await client.post("/api/v1/content", json={"text": "Not approved yet"}, headers=alice.auth)
        refused = await schedule(client, alice, draft.json()["id"])
        assert refused.status_code == 409 and "only approved content" in refused.json()["detail"]
        first, second = [(await approved(client, alice, f"Post {n}"))["id"] for n in (1, 2)]
        at_paris = {"at": "2027-03-30T06:30", "timezone": "Europe/Paris"}
        assert (await schedule(client, alice, first, **at_paris)).status_code == 200
        taken = await schedule(client, alice, second, **at_paris)
        assert taken.status_code == 409 and "is taken" in taken.json()["detail"]
        past = await schedule(client, alice, second, at="2027-03-01T06:30", timezone="Europe/Paris")
        assert past.status_code == 422 and "in the past" in past.json()["detail"]
        gap = await schedule(client, alice, second, at="2027-03-28T02:30", timezone="Europe/Paris")
        assert gap.status_code == 422 and "does not exist in Europe/Paris" in gap.json()["detail"]
        assert "03:00" in gap.json()["detail"]
        for bad in (
            {},
            {"slot": "next", "at": "2027-03-30T06:30"},
            {"at": "tomorrow"},
            {"at": "2027-03-30T06:30+02:00"},
        ):
            answer = await client.post(f"/api/v1/content/{second}/schedule", json=bad, headers=alice.auth)
            assert answer.status_code == 422, (bad, answer.text)
        # A repeated hour (fall back) takes its first occurrence, summer time: 02:30+02:00.
        fold = await schedule(client, alice, second, at="2027-10-31T02:30", timezone="Europe/Paris")
        assert fold.status_code == 200
        assert datetime.fromisoformat(fold.json()["due_at"]) == datetime(2027, 10, 31, 0, 30, tzinfo=ZoneInfo("UTC"))
        listing = await client.get(
            "/api/v1/schedule", params={"from": "2027-03-22", "to": "2027-12-31"}, headers=alice.auth
        )
        assert [e["content_id"] for e in listing.json()] == [first, second]
        too_wide = await client.get(
            "/api/v1/schedule", params={"from": "2027-01-01", "to": "2028-06-01"}, headers=alice.auth
        )
        assert too_wide.status_code == 422


async def test_concurrent_requests_never_put_two_posts_in_one_seat(
    client: httpx.AsyncClient, alice: Account, sandbox: SandboxControl
) -> None:
    """Ten posts asked into the next free slot at once, and ten into one explicit slot at once:
    the first fill ten different slots; of the others exactly one wins, nine get 409."""
    monday = datetime(2027, 3, 22, 12, 0, tzinfo=PARIS)
    alice = await connect_at(client, alice, sandbox, monday, timezone="Europe/Paris")
    with time_machine.travel(monday, tick=True):
        posts = [(await approved(client, alice, f"Rush {n}"))["id"] for n in range(20)]
        nexts = await asyncio.gather(*(schedule(client, alice, p) for p in posts[:10]))
        explicit = await asyncio.gather(
            *(schedule(client, alice, p, at="2028-01-04T06:30", timezone="Europe/Paris") for p in posts[10:])
        )
    placed = [a.json()["due_at"] for a in nexts if a.status_code == 200]
    assert all(a.status_code in (200, 409) for a in nexts), [a.text for a in nexts]
    assert len(placed) == len(set(placed)) >= 1  # never two in one seat (a loser may be told to retry)
    assert sorted(a.status_code for a in explicit) == [200] + [409] * 9


async def test_reordering_swaps_two_posts_and_their_jobs(
    client: httpx.AsyncClient,
    alice: Account,
    bob: Account,
    sandbox: SandboxControl,
    settings: Settings,
    sessions: async_sessionmaker[AsyncSession],
) -> None:
    monday = datetime(2027, 3, 1, 12, 0, tzinfo=PARIS)
    alice = await connect_at(client, alice, sandbox, monday, timezone="Europe/Paris")
    with time_machine.travel(monday, tick=False):
        tuesday, thursday = [(await approved(client, alice, text))["id"] for text in ("Tuesday's", "Thursday's")]
        for post in (tuesday, thursday):
            assert (await schedule(client, alice, post)).status_code == 200
        swapped = await client.post(
            "/api/v1/schedule/swap", json={"first": tuesday, "second": thursday}, headers=alice.auth
        )
        assert swapped.status_code == 200, swapped.text
        assert [e["local_at"] for e in swapped.json()] == ["2027-03-04T06:30", "2027-03-02T06:30"]
        same = await client.post(
            "/api/v1/schedule/swap", json={"first": tuesday, "second": tuesday}, headers=alice.auth
        )
        assert same.status_code == 422
    await run_at(datetime(2027, 3, 2, 6, 30, tzinfo=PARIS), sessions, settings)
    assert [p["displayed_text"] for p in sandbox.posts()] == ["Thursday's"]  # the old job did not run
    await run_at(datetime(2027, 3, 4, 6, 30, tzinfo=PARIS), sessions, settings)
    assert sorted(p["displayed_text"] for p in sandbox.posts()) == ["Thursday's", "Tuesday's"]
