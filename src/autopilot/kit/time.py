"""Time helpers: everything stored is UTC; user zones are IANA names."""

from __future__ import annotations

from collections.abc import Iterable
from datetime import UTC, date, datetime, time, timedelta
from functools import lru_cache
from zoneinfo import ZoneInfo, available_timezones


def utcnow() -> datetime:
    """The current instant, timezone-aware UTC."""
    return datetime.now(UTC)


def as_utc(value: datetime) -> datetime:
    """Normalise a datetime read back from a database (SQLite returns naive UTC)."""
    return value.replace(tzinfo=UTC) if value.tzinfo is None else value.astimezone(UTC)


# The IANA database's geographic areas: a user's zone is one of their Area/Location names, or UTC.
# The system's zone directory also holds names that are not places (localtime is the host's own
# setting, Factory a placeholder, posixrules, posix/… and right/… copies, legacy aliases like EST).
ZONE_AREAS = frozenset(
    {"Africa", "America", "Antarctica", "Arctic", "Asia", "Atlantic", "Australia", "Europe", "Indian", "Pacific"}
)


@lru_cache(maxsize=1)
def iana_zones() -> frozenset[str]:
    """The zone names a user may choose: UTC and every Area/Location of the IANA database."""
    return frozenset(name for name in available_timezones() if name == "UTC" or name.partition("/")[0] in ZONE_AREAS)


def is_iana_zone(name: str) -> bool:
    """True when *name* is UTC or an Area/Location zone of the IANA database (e.g. Europe/Paris)."""
    return name in iana_zones()


def wall_to_utc(day: date, at: time, zone: ZoneInfo) -> datetime:
    """The instant a wall-clock time of *zone* stands for, with the rules for the two days a year
    that do not have it exactly once:
    - a time skipped by a spring-forward change (02:30 in Europe/Paris on the last Sunday of March)
      moves to the first valid minute after the gap (03:00);
    - a time that happens twice at a fall-back change takes its first occurrence (summer time)."""
    local = datetime.combine(day, at.replace(tzinfo=None, fold=0), tzinfo=zone)
    instant = local.astimezone(UTC)
    if instant.astimezone(zone).replace(tzinfo=None) == local.replace(tzinfo=None):
        return instant
    # Skipped: walk from the earlier reading of this wall time to the change itself (changes fall on
    # whole minutes; a gap is at most a few hours), the first instant whose wall time is later.
    candidate = local.replace(fold=1).astimezone(UTC).replace(second=0, microsecond=0)
    wall = local.replace(tzinfo=None)
    while candidate.astimezone(zone).replace(tzinfo=None) <= wall:
        candidate += timedelta(minutes=1)
    return candidate


def weekly_occurrences(
    slots: Iterable[tuple[int, time]], zone: ZoneInfo, first: date, last: date
) -> list[tuple[datetime, datetime]]:
    """(local, UTC) of each weekly slot — (weekday 0 = Monday, wall time) — on every day from
    *first* to *last* inclusive, in time order; DST days follow `wall_to_utc`."""
    wanted = sorted(set(slots))
    found = []
    day = first
    while day <= last:
        for weekday, at in wanted:
            if day.weekday() == weekday:
                instant = wall_to_utc(day, at, zone)
                found.append((instant.astimezone(zone), instant))
        day += timedelta(days=1)
    return sorted(found, key=lambda pair: pair[1])
