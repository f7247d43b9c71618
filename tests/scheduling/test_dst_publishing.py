"""Publishing at the slot across daylight-saving changes, with the clock moved by time-machine:
a 06:30 slot goes out at 06:30 local the day before, the day of and the day after each change, in
five zones; a 02:30 slot on a spring-forward day goes out at the first minute after the gap."""

from __future__ import annotations

from datetime import date, datetime, time, timedelta
from zoneinfo import ZoneInfo

import httpx
import pytest
import time_machine
from sqlalchemy.ext.asyncio import AsyncSession, async_sessionmaker

from autopilot.config import Settings
from autopilot.kit.time import wall_to_utc
from tests.support.accounts import Account
from tests.support.linkedin import approved
from tests.support.linkedin_sandbox import SandboxControl
from tests.support.scheduling import connect_at, content, run_at, schedule, set_schedule

DAYS = ("mon", "tue", "wed", "thu", "fri", "sat", "sun")


async def published_locally(
    client: httpx.AsyncClient, account: Account, content_id: str, zone: ZoneInfo
) -> datetime | None:
    found = await content(client, account, content_id)
    if found["state"] != "published":
        return None
    return datetime.fromisoformat(found["published_at"]).astimezone(zone)


@pytest.mark.parametrize(
    ("zone_name", "change_day"),
    [
        ("Europe/Paris", date(2027, 3, 28)),  # 02:00 → 03:00
        ("Europe/Paris", date(2027, 10, 31)),  # 03:00 → 02:00
        ("America/New_York", date(2027, 3, 14)),
        ("America/New_York", date(2027, 11, 7)),
        ("Australia/Lord_Howe", date(2027, 4, 4)),  # 02:00 → 01:30 (half an hour)
        ("Australia/Lord_Howe", date(2027, 10, 3)),  # 02:00 → 02:30
        ("Asia/Kolkata", date(2027, 3, 28)),  # no daylight saving: +05:30 throughout
        ("America/Sao_Paulo", date(2027, 11, 7)),  # none since 2019, on its old change day
    ],
)
async def test_a_0630_slot_publishes_at_0630_local_on_both_sides_of_a_change(
    client: httpx.AsyncClient,
    alice: Account,
    sandbox: SandboxControl,
    settings: Settings,
    sessions: async_sessionmaker[AsyncSession],
    zone_name: str,
    change_day: date,
) -> None:
    zone = ZoneInfo(zone_name)
    days = [change_day - timedelta(days=1), change_day, change_day + timedelta(days=1)]
    before = datetime.combine(change_day - timedelta(days=2), time(12, 0), tzinfo=zone)
    alice = await connect_at(client, alice, sandbox, before, timezone=zone_name)
    with time_machine.travel(before, tick=False):
        await set_schedule(client, alice, zone_name, [(DAYS[d.weekday()], "06:30") for d in days])
        posts = [(await approved(client, alice, f"Post for {d}"))["id"] for d in days]
        for post, day in zip(posts, days, strict=True):
            queued = await schedule(client, alice, post)
            assert queued.json()["local_at"] == f"{day}T06:30", queued.text
    offsets = set()
    for post, day in zip(posts, days, strict=True):
        slot = wall_to_utc(day, time(6, 30), zone)
        offsets.add(slot.astimezone(zone).utcoffset())
        await run_at(slot - timedelta(minutes=1), sessions, settings)
        assert await published_locally(client, alice, post, zone) is None  # not a minute early
        await run_at(slot, sessions, settings)
        went = await published_locally(client, alice, post, zone)
        assert went is not None and (went.date(), went.hour, went.minute) == (day, 6, 30), (day, went)
    assert len(sandbox.posts()) == 3
    assert len(offsets) == (1 if zone_name in ("Asia/Kolkata", "America/Sao_Paulo") else 2)


@pytest.mark.parametrize(
    ("zone_name", "day", "wall", "expected"),
    [
        ("Europe/Paris", date(2027, 3, 28), "02:30", "03:00"),  # skipped: first minute after the gap
        ("America/New_York", date(2027, 3, 14), "02:30", "03:00"),
        ("Australia/Lord_Howe", date(2027, 10, 3), "02:15", "02:30"),  # a 30-minute gap
        ("Australia/Lord_Howe", date(2027, 10, 3), "02:30", "02:30"),  # just after it: exists
        ("Asia/Kolkata", date(2027, 3, 28), "02:30", "02:30"),
        ("America/Sao_Paulo", date(2027, 11, 7), "02:30", "02:30"),
    ],
)
async def test_a_slot_in_a_spring_forward_gap_publishes_at_the_first_minute_after_it(
    client: httpx.AsyncClient,
    alice: Account,
    sandbox: SandboxControl,
    settings: Settings,
    sessions: async_sessionmaker[AsyncSession],
    zone_name: str,
    day: date,
    wall: str,
    expected: str,
) -> None:
    zone = ZoneInfo(zone_name)
    before = datetime.combine(day - timedelta(days=2), time(12, 0), tzinfo=zone)
    alice = await connect_at(client, alice, sandbox, before, timezone=zone_name)
    with time_machine.travel(before, tick=False):
        changed = await set_schedule(client, alice, zone_name, [(DAYS[day.weekday()], wall)])
        slots = await client.get(
            f"/api/v1/integrations/{changed['integration_id']}/slots",
            params={"from": str(day), "to": str(day)},
            headers=alice.auth,
        )
        ((occurrence,),) = [slots.json()]
        assert occurrence["local"][11:16] == expected and occurrence["adjusted"] is (wall != expected)
        post = (await approved(client, alice, "Early bird"))["id"]
        assert (await schedule(client, alice, post)).json()["local_at"] == f"{day}T{expected}"
    hours, minutes = map(int, expected.split(":"))
    instant = datetime.fromisoformat(occurrence["utc"])
    await run_at(instant - timedelta(minutes=1), sessions, settings)
    assert await published_locally(client, alice, post, zone) is None
    await run_at(instant, sessions, settings)
    went = await published_locally(client, alice, post, zone)
    assert went is not None and (went.date(), went.hour, went.minute) == (day, hours, minutes)
