"""Learned best time for one LinkedIn connection: its own posts' engagement rate per weekly slot,
fed to the Thompson-sampling learner (`besttime.py`, prior Tue/Thu 06:30), the suggestion with its
evidence, and applying it to the connection's weekly slots through the scheduling domain (queued
posts move as scheduling moves them on any schedule change).

A post counts in the slot of its publication time in the schedule's zone, rounded to the nearest
half hour (a post published at 06:32 belongs to 06:30). Its reward is engagements / impressions:
the export's engagement count when known, else reactions + comments + reposts as far as known;
a post without impressions says nothing about its slot and is left out.

"Apply automatically" is a per-connection preference: when on, a weekly job applies the
suggestion if it differs from the schedule; when off, the user only sees the suggestion."""

from __future__ import annotations

import uuid
from dataclasses import dataclass
from datetime import datetime, timedelta
from zoneinfo import ZoneInfo

from pydantic import BaseModel, Field
from sqlalchemy import or_, select
from sqlalchemy.ext.asyncio import AsyncSession

from autopilot.accounts import service as accounts
from autopilot.accounts.service import Caller
from autopilot.analytics import besttime
from autopilot.analytics.besttime import Observation, Slot
from autopilot.analytics.models import AnalyticsPost, BestTimePreference
from autopilot.kit.db import upsert_insert
from autopilot.kit.errors import NotFound
from autopilot.kit.inputs import Input
from autopilot.kit.time import as_utc, utcnow
from autopilot.linkedin import service as linkedin
from autopilot.scheduling import service as scheduling
from autopilot.scheduling.schemas import WEEKDAYS, Move, ScheduleIn, SlotIn
from autopilot.worker import ledger

WEEKLY_KIND = "analytics.best_time_weekly"
WEEK = timedelta(days=7)
DEFAULT_TIMES = ("06:30", "08:30", "12:00")
# A slot is proposed only on this many of the account's own posts: one lucky post at an odd hour
# can win most posterior draws (its prior is worth about one post), and a schedule should not move on it.
MIN_POSTS = 3


class SlotEvidenceOut(BaseModel):
    day: str = Field(description="mon … sun")
    time: str = Field(description="HH:MM in the schedule's zone")
    posts: int
    impressions: int
    engagements: int
    observed_rate: float | None = Field(description="engagements / impressions over its posts; null without posts")
    mean_rate: float = Field(description="The learner's estimate of the slot's engagement rate")
    interval: tuple[float, float] = Field(description="Central 90 % credible interval of the rate")
    probability_best: float = Field(description="Chance this slot is the best of the candidates")


class BestTimeOut(BaseModel):
    integration_id: uuid.UUID
    timezone: str
    current: list[str] = Field(description='The weekly slots now, as "Tue 06:30"')
    suggested: list[str] = Field(description="The slots the evidence favours, as many as the schedule has")
    changes: bool = Field(description="True when applying would change the weekly slots")
    posts_counted: int = Field(description="Posts with impressions that the suggestion rests on")
    auto_apply: bool
    applied_at: datetime | None
    evidence: list[SlotEvidenceOut] = Field(description="Each candidate slot, most likely best first")


class BestTimeApplyIn(Input):
    integration_id: uuid.UUID


class AutoApplyIn(Input):
    integration_id: uuid.UUID
    auto_apply: bool


class AppliedOut(BaseModel):
    integration_id: uuid.UUID
    slots: list[str]
    moved: list[Move] = Field(default_factory=list, description="Queued posts the change moved")


class WeeklyRef(BaseModel):
    integration_id: uuid.UUID


@dataclass(frozen=True)
class Found:
    timezone: str
    current: tuple[Slot, ...]
    suggestion: besttime.Suggestion
    proposed: tuple[Slot, ...]
    posts: int


def _nearest_half_hour(local: datetime) -> Slot:
    minutes = round((local.hour * 60 + local.minute) / 30) * 30
    day = local.weekday()
    if minutes == 24 * 60:  # 23:50 belongs to midnight of the next day
        minutes, day = 0, (day + 1) % 7
    return Slot(day, f"{minutes // 60:02d}:{minutes % 60:02d}")


def _engagements(post: AnalyticsPost) -> int | None:
    if post.engagements is not None:
        return max(post.engagements, 0)
    known = [v for v in (post.reactions, post.comments, post.reposts) if v is not None]
    return sum(max(v, 0) for v in known) if known else None


async def observations(
    session: AsyncSession, org_id: uuid.UUID, integration_id: uuid.UUID, zone: str
) -> list[Observation]:
    """The connection's posts (and imported ones not tied to a connection) as slot observations."""
    rows = await session.scalars(
        select(AnalyticsPost).where(
            AnalyticsPost.org_id == org_id,
            or_(AnalyticsPost.integration_id == integration_id, AnalyticsPost.integration_id.is_(None)),
            AnalyticsPost.published_at.is_not(None),
            AnalyticsPost.impressions > 0,
        )
    )
    found = []
    for post in rows:
        engagements = _engagements(post)
        if engagements is None or post.published_at is None or post.impressions is None:
            continue
        local = as_utc(post.published_at).astimezone(ZoneInfo(zone))
        found.append(Observation(_nearest_half_hour(local), post.impressions, engagements))
    return found


def _label(slot: Slot) -> str:
    return str(slot)


def _slot_in(slot: Slot) -> SlotIn:
    return SlotIn.model_validate({"day": WEEKDAYS[slot.weekday], "time": slot.at})


def propose(suggestion: besttime.Suggestion, current: tuple[Slot, ...]) -> tuple[Slot, ...]:
    """As many slots as the schedule has, most likely best first, only slots with MIN_POSTS posts of
    the account; while fewer slots have them, the current slots fill the rest (unchanged)."""
    tried = [e.slot for e in suggestion.evidence if e.posts >= MIN_POSTS]
    wanted = list(tried[: len(current)])
    for slot in current:
        if len(wanted) >= len(current):
            break
        if slot not in wanted:
            wanted.append(slot)
    return tuple(sorted(wanted))


async def best_time(session: AsyncSession, caller: Caller, integration_id: uuid.UUID) -> Found:
    """The connection's suggestion from its own posts (404 for another organization's connection)."""
    rhythm = await scheduling.rhythm(session, caller, integration_id)
    return await _best_time(session, caller.org_id, integration_id, rhythm)


async def _best_time(
    session: AsyncSession, org_id: uuid.UUID, integration_id: uuid.UUID, rhythm: scheduling.Rhythm
) -> Found:
    zone = rhythm.schedule.timezone
    current = tuple(sorted(Slot(day, f"{at:%H:%M}") for day, at in rhythm.slots))
    weekdays = set(besttime.PROVEN_WEEKDAYS) | {s.weekday for s in current}
    candidates = set(besttime.candidate_grid(weekdays, DEFAULT_TIMES)) | set(current)
    seen = await observations(session, org_id, integration_id, zone)
    suggestion = besttime.suggest(seen, sorted(candidates), seed=0)
    return Found(zone, current, suggestion, propose(suggestion, current), len(seen))


async def preference(session: AsyncSession, org_id: uuid.UUID, integration_id: uuid.UUID) -> BestTimePreference | None:
    found: BestTimePreference | None = await session.scalar(
        select(BestTimePreference).where(
            BestTimePreference.org_id == org_id, BestTimePreference.integration_id == integration_id
        )
    )
    return found


def as_out(integration_id: uuid.UUID, found: Found, pref: BestTimePreference | None) -> BestTimeOut:
    return BestTimeOut(
        integration_id=integration_id,
        timezone=found.timezone,
        current=[_label(s) for s in found.current],
        suggested=[_label(s) for s in found.proposed],
        changes=found.proposed != found.current,
        posts_counted=found.posts,
        auto_apply=bool(pref and pref.auto_apply),
        applied_at=as_utc(pref.applied_at) if pref and pref.applied_at else None,
        evidence=[
            SlotEvidenceOut(
                day=WEEKDAYS[e.slot.weekday],
                time=e.slot.at,
                posts=e.posts,
                impressions=e.impressions,
                engagements=e.engagements,
                observed_rate=e.observed_rate,
                mean_rate=e.posterior_mean,
                interval=e.interval,
                probability_best=e.probability_best,
            )
            for e in found.suggestion.evidence
        ],
    )


async def _record(
    session: AsyncSession, org_id: uuid.UUID, integration_id: uuid.UUID, **values: object
) -> BestTimePreference:
    """Insert or update the connection's preference row (one per connection)."""
    now = utcnow()
    defaults: dict[str, object] = {"auto_apply": False, "applied_slots": ""}
    insert = upsert_insert(session, BestTimePreference).values(
        id=uuid.uuid4(),
        org_id=org_id,
        integration_id=integration_id,
        created_at=now,
        updated_at=now,
        **{**defaults, **values},
    )
    await session.execute(
        insert.on_conflict_do_update(index_elements=["integration_id"], set_={**values, "updated_at": now})
    )
    found = await preference(session, org_id, integration_id)
    assert found is not None
    await session.refresh(found)
    return found


async def apply(session: AsyncSession, caller: Caller, integration_id: uuid.UUID) -> AppliedOut:
    """Put the suggested slots in the connection's weekly schedule (same zone and capacity);
    scheduling moves the queued posts that follow the slots."""
    rhythm = await scheduling.rhythm(session, caller, integration_id)
    found = await _best_time(session, caller.org_id, integration_id, rhythm)
    return await _apply(session, caller, integration_id, rhythm, found)


async def _apply(
    session: AsyncSession, caller: Caller, integration_id: uuid.UUID, rhythm: scheduling.Rhythm, found: Found
) -> AppliedOut:
    moved: list[Move] = []
    if found.proposed != found.current:
        wanted = ScheduleIn(
            timezone=rhythm.schedule.timezone,
            slots=[_slot_in(s) for s in found.proposed],
            capacity=rhythm.schedule.capacity,
        )
        _fresh, moved = await scheduling.change_schedule(session, caller, integration_id, wanted)
    labels = ", ".join(_label(s) for s in found.proposed)
    await _record(session, caller.org_id, integration_id, applied_at=utcnow(), applied_slots=labels)
    return AppliedOut(integration_id=integration_id, slots=[_label(s) for s in found.proposed], moved=moved)


async def set_auto_apply(
    session: AsyncSession, caller: Caller, integration_id: uuid.UUID, on: bool
) -> BestTimePreference:
    """Switch "apply automatically" for the connection; switching it on plans the weekly job."""
    await linkedin.integrations.get(session, caller.org_id, integration_id)  # 404 for another tenant's
    pref = await _record(session, caller.org_id, integration_id, auto_apply=on, chosen_by=caller.user.id)
    if on:
        await _plan_week(session, caller.org_id, integration_id, utcnow() + WEEK)
    return pref


async def _plan_week(session: AsyncSession, org_id: uuid.UUID, integration_id: uuid.UUID, at: datetime) -> int:
    year, week, _ = at.isocalendar()
    return await ledger.enqueue(
        session,
        kind=WEEKLY_KIND,
        payload={"integration_id": str(integration_id)},
        org_id=org_id,
        run_at=at,
        dedupe_key=f"{integration_id}:{year}-W{week:02d}",  # one run per connection and week
    )


async def weekly(session: AsyncSession, org_id: uuid.UUID, integration_id: uuid.UUID) -> AppliedOut | None:
    """The weekly job: apply the suggestion only when the user chose "apply automatically", then
    plan next week's run. Switched off (or the connection gone): nothing changes, nothing is planned."""
    pref = await preference(session, org_id, integration_id)
    if pref is None or not pref.auto_apply:
        return None
    if await linkedin.integrations.find(session, org_id, integration_id) is None:
        return None
    acting = await accounts.acting_for(session, org_id, pref.chosen_by)
    if acting is None:  # whoever chose it left the organization: nobody's choice is applied any more
        return None
    rhythm = await scheduling.rhythm(session, acting, integration_id)
    found = await _best_time(session, org_id, integration_id, rhythm)
    outcome = await _apply(session, acting, integration_id, rhythm, found)
    await _plan_week(session, org_id, integration_id, utcnow() + WEEK)
    return outcome


async def integration_of(session: AsyncSession, caller: Caller, integration_id: uuid.UUID | None) -> uuid.UUID:
    """The connection asked for, or the organization's first one."""
    if integration_id is not None:
        return integration_id
    found = await linkedin.list_integrations(session, caller)
    if not found:
        raise NotFound("no LinkedIn connection yet: connect one to learn its best posting time")
    return found[0].id
