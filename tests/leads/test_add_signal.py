"""`add_signal`, the entry point other domains call: one lead per person, even when many calls for
a new person arrive at once, and a signal with a natural key recorded once."""

from __future__ import annotations

import asyncio
import uuid
from datetime import timedelta

import httpx
from sqlalchemy import func, select
from sqlalchemy.ext.asyncio import AsyncSession, async_sessionmaker

from autopilot.kit.time import utcnow
from autopilot.leads import service
from autopilot.leads.models import Lead, LeadSignal
from autopilot.leads.service import PersonRef
from tests.support.accounts import Account


async def test_concurrent_signals_for_one_new_person_make_one_lead(
    client: httpx.AsyncClient, alice: Account, sessions: async_sessionmaker[AsyncSession]
) -> None:
    org = uuid.UUID(alice.org_id)
    now = utcnow()

    async def inquiry(n: int) -> uuid.UUID:
        # Each caller knows a different part of the person: all three keys race at once.
        person = [
            PersonRef(name="Kim Park", company="Nimbus", profile_url="https://www.linkedin.com/in/kim-park"),
            PersonRef(name="Kim Park", company="Nimbus", profile_url="linkedin.com/in/kim-park/"),
            PersonRef(name="Kim Park", company="Nimbus"),
        ][n % 3]
        async with sessions() as session, session.begin():
            lead = await service.add_signal(
                session, org, person, "inbox_message", f"Could we book a call? ({n})", now - timedelta(minutes=n)
            )
            return lead.id

    ids = await asyncio.gather(*(inquiry(n) for n in range(9)))

    async with sessions() as session:
        assert await session.scalar(select(func.count()).select_from(Lead).where(Lead.org_id == org)) == 1
        assert await session.scalar(select(func.count()).select_from(LeadSignal).where(LeadSignal.org_id == org)) == 9
    assert len(set(ids)) == 1
    lead = (await client.get(f"/api/v1/leads/{ids[0]}", headers=alice.auth)).json()
    assert lead["profile_url"] and lead["company"] == "Nimbus"
    assert lead["last_signal_text"] == "Could we book a call? (0)"  # the newest
    assert "asks for a call" in lead["reasons"][0]


async def test_a_signal_with_a_natural_key_is_recorded_once(
    alice: Account, sessions: async_sessionmaker[AsyncSession]
) -> None:
    org = uuid.UUID(alice.org_id)
    person = PersonRef(name="Dana Lee", email="dana@acme.example")
    async with sessions() as session, session.begin():
        first = await service.record(
            session, org, person, "archive_message", "Book a call?", utcnow(), natural_key="m1"
        )
        again = await service.record(
            session, org, person, "archive_message", "Book a call?", utcnow(), natural_key="m1"
        )
        other = await service.record(
            session, org, person, "archive_message", "Book a call?", utcnow(), natural_key="m2"
        )
    assert (first.created, first.added) == (True, True)
    assert (again.created, again.added) == (False, False)
    assert (other.created, other.added) == (False, True)
