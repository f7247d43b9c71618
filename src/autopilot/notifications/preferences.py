"""Per person and event kind: push, e-mail, in-app; and quiet hours in the person's own zone.
Only what a person changed is stored: a kind without a row follows its defaults (kinds.py)."""

from __future__ import annotations

import uuid
from collections.abc import Collection
from dataclasses import dataclass
from datetime import datetime, time, timedelta
from zoneinfo import ZoneInfo

from sqlalchemy import delete, select
from sqlalchemy.exc import IntegrityError
from sqlalchemy.ext.asyncio import AsyncSession

from autopilot.accounts.service import Caller
from autopilot.kit.errors import Conflict, Unprocessable
from autopilot.kit.time import wall_to_utc
from autopilot.notifications.kinds import EMAIL, IN_APP, KINDS, PUSH, EventKind
from autopilot.notifications.models import NotificationPreference, QuietHours
from autopilot.notifications.schemas import ChannelsIn, KindOut, PreferencesIn, PreferencesOut, QuietHoursIO


@dataclass(frozen=True)
class Quiet:
    """A daily window of local wall time; `end` before `start` crosses midnight."""

    start: time
    end: time

    @classmethod
    def of(cls, start: str, end: str) -> Quiet:
        return cls(time.fromisoformat(start), time.fromisoformat(end))

    def until(self, now: datetime, zone: str) -> datetime | None:
        """When the quiet period that *now* falls in ends (UTC), or None when *now* is not in one.
        Daylight-saving days follow `wall_to_utc` (an end time the change skips moves past the gap)."""
        tz = ZoneInfo(zone)
        local = now.astimezone(tz)
        clock, day = local.time().replace(tzinfo=None), local.date()
        if self.start < self.end:
            inside, end_day = self.start <= clock < self.end, day
        elif clock >= self.start:  # e.g. 23:00 in 22:00 → 07:00: ends tomorrow morning
            inside, end_day = True, day + timedelta(days=1)
        else:  # e.g. 05:00 in 22:00 → 07:00: ends this morning
            inside, end_day = clock < self.end, day
        return wall_to_utc(end_day, self.end, tz) if inside else None


def _defaults(kind: EventKind) -> set[str]:
    return set(kind.defaults & kind.offered)


async def channels_of(
    session: AsyncSession, org_id: uuid.UUID, user_ids: Collection[uuid.UUID], kind: EventKind
) -> dict[uuid.UUID, set[str]]:
    """The channels each of these users wants for *kind*."""
    chosen: dict[uuid.UUID, set[str]] = {user_id: _defaults(kind) for user_id in user_ids}
    if not chosen:
        return chosen
    rows = await session.scalars(
        select(NotificationPreference).where(
            NotificationPreference.org_id == org_id,
            NotificationPreference.kind == kind.name,
            NotificationPreference.user_id.in_(list(chosen)),
        )
    )
    for row in rows:
        wanted = {PUSH} if row.push else set()
        wanted |= {EMAIL} if row.email else set()
        wanted |= {IN_APP} if row.in_app else set()
        chosen[row.user_id] = wanted & kind.offered
    return chosen


async def quiet_hours_of(
    session: AsyncSession, org_id: uuid.UUID, user_ids: Collection[uuid.UUID]
) -> dict[uuid.UUID, Quiet]:
    """The quiet hours of those of these users who set some."""
    if not user_ids:
        return {}
    rows = await session.scalars(
        select(QuietHours).where(QuietHours.org_id == org_id, QuietHours.user_id.in_(list(user_ids)))
    )
    return {row.user_id: Quiet.of(row.start, row.end) for row in rows}


async def preferences(session: AsyncSession, caller: Caller) -> PreferencesOut:
    """The caller's channels for every kind (defaults where unchanged) and quiet hours."""
    user_id = caller.user.id
    kinds = []
    for kind in KINDS.values():
        wanted = (await channels_of(session, caller.org_id, [user_id], kind))[user_id]
        kinds.append(
            KindOut(
                kind=kind.name,
                label=kind.label,
                push=PUSH in wanted,
                email=EMAIL in wanted,
                in_app=(IN_APP in wanted) if IN_APP in kind.offered else None,
                urgent=kind.urgent,
            )
        )
    quiet = (await quiet_hours_of(session, caller.org_id, [user_id])).get(user_id)
    window = QuietHoursIO(start=f"{quiet.start:%H:%M}", end=f"{quiet.end:%H:%M}") if quiet else None
    return PreferencesOut(timezone=caller.user.timezone or "UTC", quiet_hours=window, kinds=kinds)


def _check(kinds: dict[str, ChannelsIn]) -> None:
    unknown = sorted(set(kinds) - set(KINDS))
    if unknown:
        raise Unprocessable(f"unknown kinds: {', '.join(unknown)} (known: {', '.join(KINDS)})")
    for name, channels in kinds.items():
        if channels.in_app and IN_APP not in KINDS[name].offered:
            raise Unprocessable(f"{name} has no in-app channel (the Approvals page shows the drafts)")


async def set_preferences(session: AsyncSession, caller: Caller, data: PreferencesIn) -> PreferencesOut:
    """Replace the caller's choices: kinds left out go back to their defaults; quiet hours null: none."""
    _check(data.kinds)
    org_id, user_id = caller.org_id, caller.user.id
    await session.execute(
        delete(NotificationPreference).where(
            NotificationPreference.org_id == org_id, NotificationPreference.user_id == user_id
        )
    )
    await session.execute(delete(QuietHours).where(QuietHours.org_id == org_id, QuietHours.user_id == user_id))
    session.add_all(
        NotificationPreference(
            org_id=org_id, user_id=user_id, kind=name, push=c.push, email=c.email, in_app=bool(c.in_app)
        )
        for name, c in data.kinds.items()
    )
    if data.quiet_hours is not None:
        session.add(QuietHours(org_id=org_id, user_id=user_id, start=data.quiet_hours.start, end=data.quiet_hours.end))
    try:
        await session.flush()
    except IntegrityError as exc:  # the same person saved twice at once (PostgreSQL): one wins whole
        raise Conflict("your preferences were saved from elsewhere at the same moment; reload and try again") from exc
    return await preferences(session, caller)
