"""Scheduling: weekly slots in the author's zone, the queue, and what happens at the slot.

The database is the schedule: a queued post is a `schedule_queue` row with its UTC instant and a
ledger job at that instant (no broker ETA). Slots are wall-clock times expanded per date with
zoneinfo (`kit.time.wall_to_utc`): a time a spring-forward change skips moves to the first valid
minute after the gap; a time a fall-back change repeats takes its first occurrence. An explicit
"schedule at" time that does not exist is refused instead (the person chose that exact time).

At the slot the job checks, in order, before anything reaches LinkedIn:
1. catch-up: more than `schedule_catch_up_s` late (an outage) → missed, owner told;
2. no burst: late, and a newer post of the same account is due too → this one is missed, so an
   account never fires several old posts at once after an outage;
3. paused queue → held; not approved (edited since) → held, owner told, nothing published;
then publishes through content's Publication, effectively once. Pre-flight jobs the evening before
(21:00 local) and an hour before each post tell the owner what would stop it while there is time."""

from __future__ import annotations

import hashlib
import secrets
import uuid
from collections.abc import Sequence
from dataclasses import dataclass
from datetime import UTC, date, datetime, time, timedelta
from typing import Any, NamedTuple
from zoneinfo import ZoneInfo

from sqlalchemy import delete, func, select, update
from sqlalchemy.exc import IntegrityError
from sqlalchemy.ext.asyncio import AsyncSession

from autopilot.accounts.service import Caller, timezone_of
from autopilot.config import Settings
from autopilot.content import service as content
from autopilot.content.models import Content, ContentState
from autopilot.kit.crypto import KeyRing
from autopilot.kit.db import upsert_insert
from autopilot.kit.errors import Conflict, NotFound, Unprocessable
from autopilot.kit.repository import TenantRepository
from autopilot.kit.time import as_utc, utcnow, wall_to_utc, weekly_occurrences
from autopilot.linkedin import service as linkedin
from autopilot.linkedin.models import Integration
from autopilot.notifications.service import alert_owners
from autopilot.scheduling.models import DEFAULT_SLOTS, CalendarFeed, PostingSchedule, QueueEntry, WeeklySlot
from autopilot.scheduling.schemas import WEEKDAYS, Move, QueueIn, ScheduleIn
from autopilot.worker import ledger

SLOT_KIND = "schedule.publish"
PREFLIGHT_KIND = "schedule.preflight"
DST_RULE = (
    "A slot time that a daylight-saving change skips (spring forward) moves to the first valid minute "
    "after the gap; one it repeats (fall back) takes its first occurrence."
)
HORIZON_DAYS = 400  # how far ahead "next free slot" looks
RANGE_DAYS = 366  # the longest window a listing may ask for


class Schedules(TenantRepository[PostingSchedule]):
    model = PostingSchedule
    noun = "schedule"


class Entries(TenantRepository[QueueEntry]):
    model = QueueEntry
    noun = "queue entry"


schedules, entries = Schedules(), Entries()


@dataclass(frozen=True)
class Rhythm:
    """A schedule with its slots, ready to expand."""

    schedule: PostingSchedule
    slots: tuple[tuple[int, time], ...]

    @property
    def zone(self) -> ZoneInfo:
        return ZoneInfo(self.schedule.timezone)

    def occurrences(self, first: date, last: date) -> list[tuple[datetime, datetime]]:
        return weekly_occurrences(self.slots, self.zone, first, last)


def _clock(value: str) -> time:
    hours, minutes = value.split(":")
    return time(int(hours), int(minutes))


def local_label(moment: datetime, zone: str) -> str:
    """ "Tue 30 Mar 2027 06:30 (Europe/Paris)"."""
    return f"{moment.astimezone(ZoneInfo(zone)):%a %d %b %Y %H:%M} ({zone})"


def adjusted(local: datetime, slot_time: time) -> bool:
    return (local.hour, local.minute) != (slot_time.hour, slot_time.minute)


# -- the weekly rhythm ------------------------------------------------------------------------


async def rhythm(session: AsyncSession, caller: Caller, integration_id: uuid.UUID, *, create: bool = False) -> Rhythm:
    """The connection's schedule. Until someone changes it or queues a post it is the default,
    Tuesday and Thursday 06:30 in the zone of the member who connected it; *create* stores it."""
    integration = await linkedin.integrations.get(session, caller.org_id, integration_id)
    return await _rhythm(session, integration, create=create)


async def _rhythm(session: AsyncSession, integration: Integration, *, create: bool) -> Rhythm:
    found = await session.scalar(select(PostingSchedule).where(PostingSchedule.integration_id == integration.id))
    if found is None and not create:  # a read: the default, not stored (reads may not write)
        zone = await timezone_of(session, integration.connected_by)
        default = PostingSchedule(
            org_id=integration.org_id, integration_id=integration.id, timezone=zone, capacity=1, paused=False
        )
        return Rhythm(default, tuple(sorted((d, _clock(t)) for d, t in DEFAULT_SLOTS)))
    if found is None:  # concurrent first uses store one schedule (a unique row, insert-or-skip)
        zone = await timezone_of(session, integration.connected_by)
        now = utcnow()
        new_id = uuid.uuid4()
        values = {"id": new_id, "org_id": integration.org_id, "integration_id": integration.id, "timezone": zone}
        insert = upsert_insert(session, PostingSchedule).values(
            **values, capacity=1, paused=False, created_at=now, updated_at=now
        )
        created = await session.execute(insert.on_conflict_do_nothing(index_elements=["integration_id"]))
        if created.rowcount == 1:  # type: ignore[attr-defined]
            session.add_all(
                WeeklySlot(org_id=integration.org_id, schedule_id=new_id, weekday=d, at=t) for d, t in DEFAULT_SLOTS
            )
            await session.flush()
        found = await session.scalar(select(PostingSchedule).where(PostingSchedule.integration_id == integration.id))
        assert found is not None
    rows = await session.execute(
        select(WeeklySlot.weekday, WeeklySlot.at).where(WeeklySlot.schedule_id == found.id).order_by(WeeklySlot.weekday)
    )
    return Rhythm(found, tuple(sorted((weekday, _clock(at)) for weekday, at in rows)))


async def change_schedule(
    session: AsyncSession, caller: Caller, integration_id: uuid.UUID, data: ScheduleIn
) -> tuple[Rhythm, list[Move]]:
    """Replace the zone, slots and capacity; queued posts that follow the slots move to the new
    times, in their order, and each one's note says where it went."""
    current = await rhythm(session, caller, integration_id, create=True)
    locked = await session.scalar(
        select(PostingSchedule).where(PostingSchedule.id == current.schedule.id).with_for_update()
    )
    assert locked is not None
    locked.timezone, locked.capacity, locked.updated_at = data.timezone, data.capacity, utcnow()
    await session.execute(delete(WeeklySlot).where(WeeklySlot.schedule_id == locked.id))
    wanted = sorted({(WEEKDAYS.index(s.day), s.time) for s in data.slots})
    session.add_all(WeeklySlot(org_id=caller.org_id, schedule_id=locked.id, weekday=d, at=t) for d, t in wanted)
    await session.flush()
    fresh = await rhythm(session, caller, integration_id, create=True)
    return fresh, await _retime(session, fresh)


async def _retime(session: AsyncSession, new: Rhythm) -> list[Move]:
    now = utcnow()
    moving = list(
        await session.scalars(
            select(QueueEntry)
            .where(
                QueueEntry.integration_id == new.schedule.integration_id,
                QueueEntry.from_slot.is_(True),
                QueueEntry.state == "queued",
                QueueEntry.due_at > now,
            )
            .order_by(QueueEntry.due_at, QueueEntry.seat)
        )
    )
    for index, entry in enumerate(moving):  # free their seats first: they may swap places
        entry.seat = -(index + 1)
    await session.flush()
    moves = []
    for entry in moving:
        before = f"{entry.local_at} ({entry.timezone})"
        local, due, seat = await _next_free(session, new, after=now)
        await _place(session, entry, local, due, seat, zone=new.schedule.timezone, from_slot=True)
        moved = await content.move_publication(session, entry.org_id, entry.content_id, kind=SLOT_KIND, run_at=due)
        await _plan(session, entry, moved)
        after = f"{entry.local_at} ({entry.timezone})"
        if after != before:
            entry.note = f"moved from {before} to {after} when the posting schedule changed"
            moves.append(Move(content_id=entry.content_id, before=before, after=after))
    await session.flush()
    return moves


async def set_paused(session: AsyncSession, caller: Caller, integration_id: uuid.UUID, paused: bool) -> Rhythm:
    """Pause: posts due meanwhile are held, never published. Resume: held posts and those whose
    time passed go to the next free slots, in their order."""
    current = await rhythm(session, caller, integration_id, create=True)
    await session.execute(
        update(PostingSchedule)
        .where(PostingSchedule.id == current.schedule.id)
        .values(paused=paused, updated_at=utcnow())
    )
    await session.refresh(current.schedule)
    if not paused:
        now = utcnow()
        waiting = list(
            await session.scalars(
                select(QueueEntry)
                .where(
                    QueueEntry.integration_id == integration_id,
                    (QueueEntry.state == "held") & (QueueEntry.held_for == "paused")
                    | (QueueEntry.state == "queued") & (QueueEntry.due_at <= now),
                )
                .order_by(QueueEntry.due_at)
            )
        )
        for entry in waiting:
            await queue(
                session, caller, entry.content_id, QueueIn(slot="next"), note="queued again when the queue resumed"
            )
    return current


async def occurrences(
    session: AsyncSession, caller: Caller, integration_id: uuid.UUID, first: date | None, last: date | None
) -> list[tuple[datetime, datetime, bool, list[uuid.UUID]]]:
    """Each slot occurrence from *first* to *last* (local dates; default the next four weeks):
    local, UTC, moved by DST, taken by."""
    current = await rhythm(session, caller, integration_id)
    first = first or utcnow().astimezone(current.zone).date()
    last = last or first + timedelta(days=27)
    _check_range(first, last)
    found = current.occurrences(first, last)
    taken: dict[datetime, list[uuid.UUID]] = {}
    if found:
        rows = await session.execute(
            select(QueueEntry.due_at, QueueEntry.content_id).where(
                QueueEntry.org_id == caller.org_id,
                QueueEntry.integration_id == integration_id,
                QueueEntry.due_at >= found[0][1],
                QueueEntry.due_at <= found[-1][1],
            )
        )
        for due, content_id in rows:
            taken.setdefault(as_utc(due), []).append(content_id)
    result = []
    for local, instant in found:  # moved: no slot of that weekday has this wall time (a DST gap)
        moved = all(adjusted(local, t) for d, t in current.slots if d == local.weekday())
        result.append((local, instant, moved, taken.get(instant, [])))
    return result


async def free_occurrences(
    session: AsyncSession, caller: Caller, integration_id: uuid.UUID, first: date, last: date
) -> list[tuple[datetime, datetime]]:
    """The slot occurrences from *first* to *last* (local dates of the schedule) that are still
    ahead and have a free seat: (local, UTC), in time order. What a calendar offers as targets."""
    capacity = (await rhythm(session, caller, integration_id)).schedule.capacity
    now = utcnow()
    found = await occurrences(session, caller, integration_id, first, last)
    return [(local, instant) for local, instant, _moved, taken in found if instant > now and len(taken) < capacity]


async def entry_of(session: AsyncSession, caller: Caller, content_id: uuid.UUID) -> tuple[QueueEntry, Content]:
    """The caller's queue entry of *content_id* with its content; NotFound when it is not queued
    (or belongs to another organization)."""
    row = (
        await session.execute(
            select(QueueEntry, Content)
            .join(Content, Content.id == QueueEntry.content_id)
            .where(QueueEntry.org_id == caller.org_id, QueueEntry.content_id == content_id)
        )
    ).first()
    if row is None:
        raise NotFound(f"content {content_id} is not in the queue")
    return row[0], row[1]


def _check_range(first: date, last: date) -> None:
    if last < first:
        raise Unprocessable("`to` is before `from`")
    if (last - first).days > RANGE_DAYS:
        raise Unprocessable(f"ask for at most {RANGE_DAYS} days at a time")


# -- the queue --------------------------------------------------------------------------------


async def _seats_taken(session: AsyncSession, integration_id: uuid.UUID, due: datetime) -> set[int]:
    rows = await session.scalars(
        select(QueueEntry.seat).where(QueueEntry.integration_id == integration_id, QueueEntry.due_at == due)
    )
    return set(rows)


async def _next_free(session: AsyncSession, current: Rhythm, *, after: datetime) -> tuple[datetime, datetime, int]:
    """The first slot occurrence after *after* with a free seat: (local, UTC, seat)."""
    if not current.slots:
        raise Conflict("this account's posting schedule has no slots: add one, or schedule at an explicit time")
    start = after.astimezone(current.zone).date()
    for week in range(0, HORIZON_DAYS, 28):
        first = start + timedelta(days=week)
        for local, due in current.occurrences(first, first + timedelta(days=27)):
            if due <= after:
                continue
            free = set(range(current.schedule.capacity)) - await _seats_taken(
                session, current.schedule.integration_id, due
            )
            if free:
                return local, due, min(free)
    raise Conflict(f"every slot of the next {HORIZON_DAYS} days is taken: add slots or raise the capacity")


def exact_instant(at: datetime, zone: ZoneInfo) -> datetime:
    """An explicit local time: refused when a DST change skips it; a repeated one is its first occurrence."""
    instant = wall_to_utc(at.date(), at.time(), zone)
    if instant.astimezone(zone).replace(tzinfo=None) != at.replace(second=0, microsecond=0):
        raise Unprocessable(
            f"{at:%Y-%m-%d %H:%M} does not exist in {zone.key}: the clocks skip it (daylight saving); "
            f"the first time after the change is {instant.astimezone(zone):%H:%M}"
        )
    return instant


async def queue(
    session: AsyncSession, caller: Caller, content_id: uuid.UUID, data: QueueIn, *, note: str = ""
) -> QueueEntry:
    """Put approved content in the next free slot or at an explicit local time; content already
    queued moves. 409 when it is not approved or the slot is full, 422 for a past or missing time."""
    item = await content.get(session, caller, content_id)
    integration = await content.publishing_integration(session, caller, item)
    current = await _rhythm(session, integration, create=True)
    now = utcnow()
    entry = await session.scalar(entries.scoped(caller.org_id).where(QueueEntry.content_id == item.id))
    if data.at is not None:
        zone = ZoneInfo(data.timezone or current.schedule.timezone)
        wanted = datetime.fromisoformat(data.at).replace(second=0, microsecond=0)
        due = exact_instant(wanted, zone)
        if due <= now:
            raise Unprocessable(f"{wanted:%Y-%m-%d %H:%M} in {zone.key} is in the past")
        seats = set(range(current.schedule.capacity)) - await _seats_taken(session, integration.id, due)
        if entry is not None and entry.due_at == due:
            return entry  # already there
        if not seats:
            raise Conflict(f"the slot {local_label(due, zone.key)} is taken: choose another time or move that post")
        local, seat, zone_name, from_slot = due.astimezone(zone), min(seats), zone.key, False
    else:
        local, due, seat = await _next_free(session, current, after=now)
        zone_name, from_slot = current.schedule.timezone, True
    if item.state == ContentState.SCHEDULED and entry is not None and entry.state == "queued":
        item = await content.move_publication(
            session, caller.org_id, item.id, kind=SLOT_KIND, run_at=due, actor_id=caller.user.id
        )
    else:
        item = await content.start_publication(session, caller, item.id, kind=SLOT_KIND, run_at=due)
    if entry is None:
        entry = QueueEntry(org_id=caller.org_id, content_id=item.id, integration_id=integration.id)
        session.add(entry)
    entry.integration_id, entry.state, entry.held_for, entry.note = integration.id, "queued", "", note
    await _place(session, entry, local, due, seat, zone=zone_name, from_slot=from_slot)
    await _plan(session, entry, item)
    return entry


async def _place(
    session: AsyncSession, entry: QueueEntry, local: datetime, due: datetime, seat: int, *, zone: str, from_slot: bool
) -> None:
    """Seat the entry; the unique seat refuses a concurrent taker (409 rather than two in one seat)."""
    entry.due_at, entry.seat, entry.local_at, entry.timezone = due, seat, f"{local:%Y-%m-%dT%H:%M}", zone
    entry.from_slot, entry.updated_at = from_slot, utcnow()
    try:
        async with session.begin_nested():
            await session.flush()
    except IntegrityError:
        raise Conflict(f"the slot {local_label(due, zone)} was just taken by another post: try again") from None


async def _plan(session: AsyncSession, entry: QueueEntry, published_by: Content) -> None:
    """Bind the entry to the job that publishes it at its time, and plan the pre-flight checks."""
    entry.job_id = published_by.publish_job_id
    await session.flush()
    await _plan_preflights(session, entry)


async def _plan_preflights(session: AsyncSession, entry: QueueEntry) -> None:
    zone = ZoneInfo(entry.timezone)
    local = entry.due_at.astimezone(zone)
    evening = wall_to_utc(local.date() - timedelta(days=1), time(21, 0), zone)
    hour_before = entry.due_at - timedelta(hours=1)
    now = utcnow()
    for name, at in (("evening", evening), ("hour", hour_before)):
        if at > now:
            await ledger.enqueue(
                session, kind=PREFLIGHT_KIND, org_id=entry.org_id, run_at=at, max_attempts=3,
                payload={"content_id": str(entry.content_id), "due": entry.due_at.isoformat(), "when": name},
                dedupe_key=f"preflight:{entry.content_id}:{entry.due_at.isoformat()}:{name}",
            )  # fmt: skip


async def withdraw(session: AsyncSession, caller: Caller, content_id: uuid.UUID) -> None:
    """Take content off the queue (back to approved); its seat is free again."""
    entry = await session.scalar(entries.scoped(caller.org_id).where(QueueEntry.content_id == content_id))
    if entry is None:
        raise NotFound(f"content {content_id} is not in the queue")
    await content.withdraw(session, caller.org_id, content_id, caller.user.id)
    await session.delete(entry)
    await session.flush()


async def swap(session: AsyncSession, caller: Caller, first_id: uuid.UUID, second_id: uuid.UUID) -> list[QueueEntry]:
    """Reorder: two queued posts of one account trade places (time, seat, zone), both jobs moved
    in one transaction. Both rows are locked first, in a fixed order, so concurrent swaps of
    overlapping pairs cannot deadlock or lose a post."""
    if first_id == second_id:
        raise Unprocessable("choose two different posts to swap")
    pair = list(
        await session.scalars(
            entries.scoped(caller.org_id)
            .where(QueueEntry.content_id.in_([first_id, second_id]))
            .order_by(QueueEntry.id)
            .with_for_update()
        )
    )
    found = {e.content_id: e for e in pair}
    for wanted in (first_id, second_id):
        if wanted not in found:
            raise NotFound(f"content {wanted} is not in the queue")
    a, b = found[first_id], found[second_id]
    if a.integration_id != b.integration_id:
        raise Conflict("these posts belong to different LinkedIn accounts: move one instead")
    now = utcnow()
    if any(e.state != "queued" or as_utc(e.due_at) <= now for e in (a, b)):
        raise Conflict("only posts still waiting for their slot can swap places")
    places = [(e.due_at, e.seat, e.local_at, e.timezone, e.from_slot) for e in (a, b)]
    a.seat, b.seat = -1, -2  # free both seats before taking the other's
    await session.flush()
    for entry, (due, seat, local_at, zone, from_slot) in zip((a, b), reversed(places), strict=True):
        entry.due_at, entry.seat, entry.local_at, entry.timezone, entry.from_slot = due, seat, local_at, zone, from_slot
        entry.note, entry.updated_at = "swapped places with another post", now
        await session.flush()
        moved = await content.move_publication(
            session, caller.org_id, entry.content_id, kind=SLOT_KIND, run_at=due, actor_id=caller.user.id
        )
        await _plan(session, entry, moved)
    return [a, b]


async def listing(
    session: AsyncSession, org_id: uuid.UUID, first: datetime, last: datetime, limit: int = 2000
) -> Sequence[tuple[QueueEntry, Content]]:
    """Queue entries of the organization between two instants, with their content, in time order."""
    rows = await session.execute(
        select(QueueEntry, Content)
        .join(Content, Content.id == QueueEntry.content_id)
        .where(QueueEntry.org_id == org_id, QueueEntry.due_at >= first, QueueEntry.due_at < last)
        .order_by(QueueEntry.due_at, QueueEntry.seat)
        .limit(limit)
    )
    return [(entry, item) for entry, item in rows]


LISTED = (
    QueueEntry.content_id, QueueEntry.integration_id, QueueEntry.due_at, QueueEntry.local_at,
    QueueEntry.timezone, QueueEntry.from_slot, QueueEntry.state, QueueEntry.note,
    Content.state.label("content_state"), Content.text,
)  # fmt: skip


async def listed(
    session: AsyncSession, org_id: uuid.UUID, first: datetime, last: datetime, limit: int = 2000
) -> list[dict[str, Any]]:
    """The listing as plain rows (the API's fields), read without building ORM objects: the
    schedule of a busy organization (a thousand posts) is read often, also during a rush."""
    result = await session.execute(
        select(*LISTED)
        .join(Content, Content.id == QueueEntry.content_id)
        .where(QueueEntry.org_id == org_id, QueueEntry.due_at >= first, QueueEntry.due_at < last)
        .order_by(QueueEntry.due_at, QueueEntry.seat)
        .limit(limit)
    )
    keys = list(result.keys())  # once: Row._asdict() rebuilds the key view on every row (a third of the cost)
    return [dict(zip(keys, row, strict=True)) for row in result]


def local_window(first: date, last: date, zone: str) -> tuple[datetime, datetime]:
    """From the start of *first* to the end of *last* in *zone*, as UTC instants."""
    _check_range(first, last)
    tz = ZoneInfo(zone)
    start = wall_to_utc(first, time(0, 0), tz)
    end = wall_to_utc(last + timedelta(days=1), time(0, 0), tz)
    return start, end


# -- at the slot (jobs) -----------------------------------------------------------------------


@dataclass(frozen=True)
class SlotVerdict:
    go: bool
    state: ContentState | None = None
    held_for: str = ""
    reason: str = ""
    tell_owner: bool = False


async def verdict(
    session: AsyncSession, settings: Settings, entry: QueueEntry, item: Content, *, paused: bool
) -> SlotVerdict:
    """Whether the post may go out now (*paused*: its account's queue is); otherwise how to set it
    aside and why."""
    now = utcnow()
    due = as_utc(entry.due_at)

    def label() -> str:  # only for a post set aside: a rush's slots all go ahead, in 15 zones or more
        return local_label(due, entry.timezone)

    late = (now - due).total_seconds()
    if item.attempts == 0:  # once a call was made, only reconciliation decides (never "missed")
        if late > settings.schedule_catch_up_s:
            return SlotVerdict(
                False, ContentState.MISSED, reason=f"missed: due {label()}, but publishing could only start "
                f"{_duration(late)} late, outside the {_duration(settings.schedule_catch_up_s)} catch-up window; "
                "queue it again or publish it now", tell_owner=True,
            )  # fmt: skip
        if late > settings.schedule_late_grace_s and await _newer_due(session, entry, now):
            return SlotVerdict(
                False, ContentState.MISSED, reason=f"missed: due {label()}; a later post of this account is due "
                "as well and only one goes out after a delay (no burst of old posts); queue it again", tell_owner=True,
            )  # fmt: skip
    if paused and item.attempts == 0:
        return SlotVerdict(False, ContentState.HELD, "paused", f"held: the queue was paused at {label()}; resume it")
    if item.approved_at is None:
        return SlotVerdict(
            False, ContentState.HELD, "approval", f"held, not published: it was not approved by its slot {label()}; "
            "approve it, then queue it again or publish it now", tell_owner=True,
        )  # fmt: skip
    return SlotVerdict(True)


def _duration(seconds: float) -> str:
    minutes = int(seconds // 60)
    return f"{minutes // 60} h {minutes % 60:02d} min" if minutes >= 60 else f"{minutes} min"


async def _newer_due(session: AsyncSession, entry: QueueEntry, now: datetime) -> bool:
    newer = await session.scalar(
        select(func.count())
        .select_from(QueueEntry)
        .where(
            QueueEntry.integration_id == entry.integration_id,
            QueueEntry.state == "queued",
            QueueEntry.due_at > entry.due_at,
            QueueEntry.due_at <= now,
        )
    )
    return bool(newer)


@dataclass(frozen=True)
class SlotRead:
    """What a slot job reads before it publishes (JobContext.read_together: the jobs of a rush read
    together): its queue entry, what the publication needs, and the verdict."""

    org_id: uuid.UUID
    content_id: uuid.UUID
    job_id: int
    settings: Settings
    keyring: KeyRing


class SlotReading(NamedTuple):
    entry: QueueEntry | None  # None: withdrawn or moved since (the job that serves it now is another)
    prepared: content.Prepared | None
    ruling: SlotVerdict | None  # None: no entry, or the content is gone


async def slot_readings(session: AsyncSession, reads: list[SlotRead]) -> list[SlotReading | BaseException]:
    """Many slot jobs' reads in one transaction, one query per table however many jobs: the
    entries they serve, their publications' content, tokens, accounts and media, the pauses."""
    if not reads:
        return []
    rows = await session.scalars(
        select(QueueEntry).where(
            QueueEntry.org_id.in_({r.org_id for r in reads}), QueueEntry.content_id.in_({r.content_id for r in reads})
        )
    )
    found = {(entry.org_id, entry.content_id): entry for entry in rows}
    served = {
        (r.org_id, r.content_id): entry
        for r in reads
        if (entry := found.get((r.org_id, r.content_id))) is not None and entry.job_id == r.job_id
    }
    prepared = await content.prepare_many(session, reads[0].keyring, list(served))
    accounts = {entry.integration_id for entry in served.values()}
    paused = set(
        await session.scalars(
            select(PostingSchedule.integration_id).where(
                PostingSchedule.integration_id.in_(accounts), PostingSchedule.paused.is_(True)
            )
        )
    )
    readings: list[SlotReading | BaseException] = []
    for read in reads:
        entry = served.get((read.org_id, read.content_id))
        if entry is None:
            readings.append(SlotReading(None, None, None))
            continue
        ready = prepared[(read.org_id, read.content_id)]
        ruling = None
        if ready.item is not None:
            ruling = await verdict(session, read.settings, entry, ready.item, paused=entry.integration_id in paused)
        readings.append(SlotReading(entry, ready, ruling))
    return readings


async def set_aside(
    session: AsyncSession, settings: Settings, entry_id: uuid.UUID, job_id: int, ruling: SlotVerdict
) -> None:
    """Hold the post or mark it missed (content and queue entry, in the job's transaction), and
    tell the owner when the verdict says so."""
    assert ruling.state is not None
    entry = await session.get(QueueEntry, entry_id)
    if entry is None:
        return
    changed = await content.set_aside(session, entry.org_id, entry.content_id, job_id, ruling.state, ruling.reason)
    if not changed:
        return
    entry.state, entry.held_for, entry.note = ruling.state.value, ruling.held_for, ruling.reason
    await session.flush()
    if ruling.tell_owner:
        await alert_owners(
            session, entry.org_id, kind=f"post_{ruling.state.value}", job_id=job_id,
            message=f"A scheduled LinkedIn post was {ruling.reason}", email=bool(settings.smtp_host),
        )  # fmt: skip


async def spread(session: AsyncSession, settings: Settings, entry: QueueEntry, reason: str, turn: datetime) -> None:
    """A post waiting for its turn in a rush: its status says when it goes; past the spread window
    the owners are told (once an hour) that the pacing is too tight for their rush."""
    window = timedelta(seconds=settings.schedule_spread_window_s)
    beyond = turn > as_utc(entry.due_at) + window
    status = reason + (f", beyond the {_duration(window.total_seconds())} spread window" if beyond else "")
    await content.say(session, entry.org_id, entry.content_id, status)
    await session.execute(update(QueueEntry).where(QueueEntry.id == entry.id).values(note=status, updated_at=utcnow()))
    if beyond:
        pace, due = settings.linkedin_app_posts_per_minute, local_label(as_utc(entry.due_at), entry.timezone)
        await alert_owners(
            session, entry.org_id, kind="schedule_spread", quiet_for=timedelta(hours=1), email=bool(settings.smtp_host),
            message=f"Posts due {due} are spread past the {_duration(window.total_seconds())} window by the app's "
            f"pacing of {pace} posts a minute (AUTOPILOT_LINKEDIN_APP_POSTS_PER_MINUTE); they still go out "
            "unless the catch-up window passes.",
        )  # fmt: skip


@dataclass(frozen=True)
class SlotPublished:
    entry_id: uuid.UUID
    post: content.Published


async def record_published(session: AsyncSession, items: list[SlotPublished]) -> None:
    """The slot jobs' successes, many at once: the posts' URNs (content.record_published) and their
    queue entries closed, in one statement each."""
    kept = {p.content_id for p in await content.record_published(session, [i.post for i in items])}
    closed = [i.entry_id for i in items if i.post.content_id in kept]
    if closed:
        await session.execute(
            update(QueueEntry).where(QueueEntry.id.in_(closed)).values(state="published", note="", updated_at=utcnow())
        )


async def published(session: AsyncSession, entry_id: uuid.UUID) -> None:
    await session.execute(
        update(QueueEntry).where(QueueEntry.id == entry_id).values(state="published", note="", updated_at=utcnow())
    )


async def preflight_target(
    session: AsyncSession, org_id: uuid.UUID, content_id: uuid.UUID, due: datetime
) -> QueueEntry | None:
    """The queue entry a pre-flight check was planned for, if it still waits for that instant."""
    entry = await session.scalar(entries.scoped(org_id).where(QueueEntry.content_id == content_id))
    return entry if entry is not None and entry.state == "queued" and as_utc(entry.due_at) == due else None


async def preflight(
    session: AsyncSession,
    ring: KeyRing,
    settings: Settings,
    org_id: uuid.UUID,
    content_id: uuid.UUID,
    due: datetime,
    when: str,
) -> list[str]:
    """Check what would stop the post at its slot; tell the owner while there is time to fix it."""
    entry = await preflight_target(session, org_id, content_id, due)
    if entry is None:
        return []  # moved, withdrawn or done since this check was planned
    item = await session.get(Content, content_id)
    integration = await session.get(Integration, entry.integration_id)
    if item is None or integration is None:
        return []
    problems = await linkedin.readiness(session, ring, settings, integration, due)
    if item.approved_at is None:
        problems.append("the post is not approved (it was edited or never approved): it will be held, not published")
    schedule = await session.scalar(
        select(PostingSchedule).where(PostingSchedule.integration_id == entry.integration_id)
    )
    if schedule is not None and schedule.paused:
        problems.append("the queue is paused: resume it or the post is held")
    if problems:
        label = local_label(due, entry.timezone)
        entry.note = f"pre-flight ({when}): " + "; ".join(problems)
        await alert_owners(
            session, org_id, kind="preflight", message=f"The post due {label} will not go out as things stand: "
            + "; ".join(problems) + ". Fix it before then.", email=bool(settings.smtp_host),
        )  # fmt: skip
    return problems


# -- the iCal feed ----------------------------------------------------------------------------


def _feed_hash(token: str) -> str:
    return hashlib.sha256(token.encode()).hexdigest()


async def new_feed(session: AsyncSession, caller: Caller) -> str:
    """A new secret feed token for the caller (an earlier one stops working)."""
    await session.execute(delete(CalendarFeed).where(CalendarFeed.user_id == caller.user.id))
    token = secrets.token_urlsafe(32)
    session.add(
        CalendarFeed(token_hash=_feed_hash(token), org_id=caller.org_id, user_id=caller.user.id, created_at=utcnow())
    )
    await session.flush()
    return token


async def revoke_feed(session: AsyncSession, caller: Caller) -> None:
    await session.execute(delete(CalendarFeed).where(CalendarFeed.user_id == caller.user.id))


async def feed_owner(session: AsyncSession, token: str) -> tuple[uuid.UUID, uuid.UUID]:
    """(org, user) of a feed token; NotFound for an unknown or revoked one."""
    found = await session.scalar(select(CalendarFeed).where(CalendarFeed.token_hash == _feed_hash(token)))
    if found is None:
        raise NotFound("no such calendar feed")
    return found.org_id, found.user_id


def ical(rows: Sequence[tuple[QueueEntry, Content]], *, base_url: str) -> bytes:
    """RFC 5545 text: one event per queued post, times in UTC (calendar apps show them in the
    viewer's zone); the summary is the post's first line."""
    from icalendar import Calendar, Event

    calendar = Calendar()
    calendar.add("prodid", "-//TechLead AutoPilot//schedule//EN")
    calendar.add("version", "2.0")
    calendar.add("x-wr-calname", "LinkedIn posts")
    stamp = utcnow()
    for entry, item in rows:
        event = Event()
        first_line = item.text.strip().splitlines()[0] if item.text.strip() else "LinkedIn post"
        event.add("uid", f"{entry.content_id}@autopilot")
        event.add("dtstamp", stamp)
        event.add("dtstart", as_utc(entry.due_at).astimezone(UTC))
        event.add("duration", timedelta(minutes=15))
        event.add("summary", f"LinkedIn: {first_line[:80]}")
        event.add("description", f"{item.state} · {entry.local_at} ({entry.timezone})\n\n{item.text}")
        event.add("url", f"{base_url}/calendar")
        calendar.add_component(event)
    return bytes(calendar.to_ical())
