"""The schedule as an iCal (RFC 5545) feed behind a secret, revocable address: it parses back with
the icalendar library and shows each post at its local time; a revoked or unknown address → 404."""

from __future__ import annotations

from datetime import datetime
from urllib.parse import urlsplit
from zoneinfo import ZoneInfo

import httpx
import time_machine
from icalendar import Calendar

from tests.support.accounts import Account
from tests.support.linkedin import approved
from tests.support.linkedin_sandbox import SandboxControl
from tests.support.scheduling import connect_at, schedule

NEW_YORK = ZoneInfo("America/New_York")


async def test_the_feed_parses_back_with_local_times_and_a_revoked_address_answers_404(
    client: httpx.AsyncClient, alice: Account, sandbox: SandboxControl
) -> None:
    friday = datetime(2027, 3, 12, 12, 0, tzinfo=NEW_YORK)  # the clocks change on Sunday the 14th
    alice = await connect_at(client, alice, sandbox, friday, timezone="America/New_York")
    with time_machine.travel(friday, tick=False):
        before = (await approved(client, alice, "Before the change\nmore text"))["id"]
        after = (await approved(client, alice, "After the change"))["id"]
        assert (await schedule(client, alice, before, at="2027-03-13T06:30")).status_code == 200
        assert (await schedule(client, alice, after, at="2027-03-16T06:30")).status_code == 200
        made = await client.post("/api/v1/calendar/feed", headers=alice.auth)
        assert made.status_code == 201
        feed = urlsplit(made.json()["url"]).path
        answer = await client.get(feed)  # no credentials: the address is the secret
    assert answer.status_code == 200 and answer.headers["content-type"].startswith("text/calendar")
    calendar = Calendar.from_ical(answer.content)
    events = sorted(calendar.walk("VEVENT"), key=lambda e: e.decoded("dtstart"))
    assert [str(e["summary"]) for e in events] == ["LinkedIn: Before the change", "LinkedIn: After the change"]
    local = [e.decoded("dtstart").astimezone(NEW_YORK) for e in events]
    assert [(t.day, t.hour, t.minute) for t in local] == [(13, 6, 30), (16, 6, 30)]
    assert {t.utcoffset() for t in local} == {ZoneInfo("America/New_York").utcoffset(t) for t in local}
    assert len({t.utcoffset() for t in local}) == 2  # one each side of the change, both 06:30 local
    # A new address replaces the old one; a revoked or unknown one is not found.
    with time_machine.travel(friday, tick=False):
        rotated = urlsplit((await client.post("/api/v1/calendar/feed", headers=alice.auth)).json()["url"]).path
        assert (await client.get(feed)).status_code == 404
        assert (await client.get(rotated)).status_code == 200
        assert (await client.delete("/api/v1/calendar/feed", headers=alice.auth)).status_code == 204
        assert (await client.get(rotated)).status_code == 404
        unknown = await client.get("/calendar/feed/" + "x" * 43 + ".ics")
        assert unknown.status_code == 404 and unknown.headers["content-type"] == "application/problem+json"
