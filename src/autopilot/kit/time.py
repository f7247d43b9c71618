"""Time helpers: everything stored is UTC; user zones are IANA names."""

from __future__ import annotations

from datetime import UTC, datetime
from functools import lru_cache
from zoneinfo import available_timezones


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
