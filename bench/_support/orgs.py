"""Many organizations, each with a connected LinkedIn member and one approved post queued in a
slot that lands on one UTC instant, made through the product's own models and services.

Accounts (organization, owner, membership) are inserted in bulk through the ORM models; the
LinkedIn connection goes through `linkedin.service.store_grant` with tokens the sandbox minted
(`POST /_sandbox/tokens/mint`); content through `content.service.create/approve`; the schedule
through `scheduling.service.change_schedule` and the queue through `scheduling.service.queue`,
so every queue entry and ledger job is the product's own."""

from __future__ import annotations

import time
import uuid
from collections.abc import Callable
from dataclasses import dataclass
from datetime import UTC, datetime, timedelta
from typing import Any
from zoneinfo import ZoneInfo

import httpx

from autopilot.accounts.models import Membership, Organization, Role, User
from autopilot.accounts.service import Caller, create_personal_token
from autopilot.content import service as content
from autopilot.content.schemas import ContentIn
from autopilot.kit.crypto import KeyRing, hash_password_now
from autopilot.kit.db import make_engine, make_sessionmaker
from autopilot.kit.time import as_utc
from autopilot.linkedin import service as linkedin
from autopilot.linkedin.client import Tokens
from autopilot.scheduling import service as scheduling
from autopilot.scheduling.schemas import WEEKDAYS, QueueIn, ScheduleIn, SlotIn

# Zones with whole, half and quarter hour offsets, both hemispheres, with and without DST.
ZONES = (
    "Europe/Paris", "America/New_York", "Asia/Kolkata", "Australia/Sydney", "America/Los_Angeles",
    "Asia/Tokyo", "Europe/London", "America/Sao_Paulo", "Africa/Nairobi", "Asia/Kathmandu",
    "Pacific/Auckland", "America/St_Johns", "Europe/Berlin", "Asia/Singapore", "UTC",
)  # fmt: skip
BATCH = 250  # organizations per transaction
PROBE_HOURS = (8, 11, 14, 17)  # the probe organization's posts: four a day, on the next 250 days


@dataclass
class Member:
    org_id: uuid.UUID
    user: User
    org: Organization
    zone: str
    name: str
    sub: str = ""
    integration_id: uuid.UUID | None = None
    content_id: uuid.UUID | None = None

    @property
    def caller(self) -> Caller:
        return Caller(user=self.user, org=self.org, role=Role.OWNER, token_id=uuid.uuid4())

    @property
    def author(self) -> str:
        return f"urn:li:person:{self.sub}"


def mint(sandbox_url: str, names: list[str]) -> list[dict[str, Any]]:
    """Tokens for *names* from the sandbox's control API, in chunks."""
    out: list[dict[str, Any]] = []
    with httpx.Client(timeout=120) as http:
        for start in range(0, len(names), 2000):
            answer = http.post(f"{sandbox_url}/_sandbox/tokens/mint", json={"members": names[start : start + 2000]})
            answer.raise_for_status()
            out += answer.json()["elements"]
    return out


def _tokens(minted: dict[str, Any]) -> Tokens:
    now = datetime.now(UTC)
    refresh_in = minted.get("refresh_token_expires_in")
    return Tokens(
        access_token=minted["access_token"],
        access_expires_at=now + timedelta(seconds=minted["expires_in"]),
        scopes=frozenset(minted["scope"].split(",")),
        refresh_token=minted.get("refresh_token"),
        refresh_expires_at=now + timedelta(seconds=refresh_in) if refresh_in else None,
        id_token=None,
    )


def slot_at(target: datetime, zone: str) -> SlotIn:
    """The weekly slot in *zone* whose next occurrence is the instant *target*."""
    local = target.astimezone(ZoneInfo(zone))
    return SlotIn(day=WEEKDAYS[local.weekday()], time=f"{local:%H:%M}")


class Population:
    """The organizations of one run on one database, built in two phases: `connect` (accounts,
    LinkedIn connections, approved posts: no instant needed) then `queue_at` (schedules and queue)."""

    def __init__(self, url: str, ring: KeyRing, sandbox_url: str, say: Callable[[str], None]) -> None:
        self.url, self.ring, self.sandbox_url, self.say = url, ring, sandbox_url, say
        self.engine = make_engine(url)
        self.sessions = make_sessionmaker(self.engine)
        self.members: list[Member] = []
        self.probe: Member | None = None
        self.probe_token = ""

    async def close(self) -> None:
        await self.engine.dispose()

    async def connect(self, orgs: int) -> float:
        """Every organization with its owner, a connected member and one approved post; the probe
        organization too. Returns seconds per organization (for planning the second phase)."""
        started = time.monotonic()
        run = uuid.uuid4().hex[:6]
        password = hash_password_now("slot-rush-password")
        everyone: list[Member] = []
        for i in range(orgs + 1):
            zone = ZONES[i % len(ZONES)]
            org = Organization(id=uuid.uuid4(), name=f"Rush org {i}")
            user = User(
                id=uuid.uuid4(), email=f"rush-{run}-{i}@example.com", name=f"Author {i}", password_hash=password,
                timezone=zone,
            )  # fmt: skip
            everyone.append(Member(org.id, user, org, zone, f"Rush {run} Member {i}"))
        for start in range(0, len(everyone), BATCH):
            chunk = everyone[start : start + BATCH]
            minted = mint(self.sandbox_url, [m.name for m in chunk])
            async with self.sessions() as session, session.begin():
                session.add_all([m.org for m in chunk] + [m.user for m in chunk])
                await session.flush()
                session.add_all([Membership(org_id=m.org_id, user_id=m.user.id, role=Role.OWNER) for m in chunk])
                await session.flush()
                for member, token in zip(chunk, minted, strict=True):
                    member.sub = token["sub"]
                    grant = linkedin.Grant(_tokens(token), token["sub"], member.name, token["email"], "")
                    started_by = linkedin.StartedBy(member.org_id, member.user.id, "")
                    integration = await linkedin.store_grant(session, self.ring, started_by, grant)
                    member.integration_id = integration.id
                    text = f"Slot rush post of {member.name}: what a morning #rush"
                    item = await content.create(session, member.caller, ContentIn(text=text))
                    await content.approve(session, member.caller, item.id)
                    member.content_id = item.id
            self.say(f"set-up: {min(start + BATCH, len(everyone)):,}/{len(everyone):,} organizations connected")
        self.probe, self.members = everyone[0], everyone[1:]
        return (time.monotonic() - started) / len(everyone)

    async def queue_at(self, target: datetime) -> None:
        """Each organization's weekly slot set to *target*'s wall time in its zone (so they differ
        locally and all fall on *target*), and its post queued in the next free slot."""
        done = 0
        for start in range(0, len(self.members), BATCH):
            chunk = self.members[start : start + BATCH]
            async with self.sessions() as session, session.begin():
                for m in chunk:
                    assert m.integration_id is not None and m.content_id is not None
                    rhythm = ScheduleIn(timezone=m.zone, slots=[slot_at(target, m.zone)])
                    await scheduling.change_schedule(session, m.caller, m.integration_id, rhythm)
                    entry = await scheduling.queue(session, m.caller, m.content_id, QueueIn(slot="next"))
                    if as_utc(entry.due_at) != target:
                        raise RuntimeError(f"{m.name} was queued at {entry.due_at}, not {target}")
            done += len(chunk)
            self.say(f"set-up: {done:,}/{len(self.members):,} posts queued for {target:%H:%M:%S} UTC")

    async def fill_probe(self, posts: int) -> None:
        """The probe organization: *posts* more approved posts queued at explicit local times on the
        coming days (never during the rush), and a personal API token for its owner."""
        probe = self.probe
        assert probe is not None
        zone = ZoneInfo(probe.zone)
        today = datetime.now(zone).date()
        per_day = len(PROBE_HOURS)
        async with self.sessions() as session, session.begin():
            for i in range(posts):
                day = today + timedelta(days=1 + i // per_day)
                at = f"{day.isoformat()}T{PROBE_HOURS[i % per_day]:02d}:00"
                item = await content.create(session, probe.caller, ContentIn(text=f"Planned post {i} #later"))
                await content.approve(session, probe.caller, item.id)
                await scheduling.queue(session, probe.caller, item.id, QueueIn(at=at, timezone=probe.zone))
            self.probe_token = (await create_personal_token(session, probe.caller, "slot rush probe")).raw
        self.say(f"set-up: probe organization has {posts:,} scheduled posts")
