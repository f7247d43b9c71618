"""A weekly slot is a wall-clock time in the author's zone: 06:30 stays 06:30 local on both sides
of every daylight-saving change; a time a change skips moves to the first minute after the gap;
a time that happens twice takes its first occurrence."""

from __future__ import annotations

from datetime import UTC, date, datetime, time
from zoneinfo import ZoneInfo

import pytest

from autopilot.kit.time import wall_to_utc, weekly_occurrences

TUE, THU, SUN = 1, 3, 6
SLOTS = [(TUE, time(6, 30)), (THU, time(6, 30))]


@pytest.mark.parametrize(
    ("zone", "before", "after"),
    [
        ("Europe/Paris", date(2027, 3, 23), date(2027, 3, 30)),  # spring forward on 2027-03-28
        ("Europe/Paris", date(2026, 10, 20), date(2026, 10, 27)),  # fall back on 2026-10-25
        ("America/New_York", date(2027, 3, 9), date(2027, 3, 16)),  # 2027-03-14
        ("America/New_York", date(2026, 10, 27), date(2026, 11, 3)),  # 2026-11-01
        ("Australia/Lord_Howe", date(2026, 9, 29), date(2026, 10, 6)),  # +30 min on 2026-10-04
        ("Australia/Lord_Howe", date(2027, 3, 30), date(2027, 4, 6)),  # -30 min on 2027-04-04
        ("Asia/Kolkata", date(2027, 3, 23), date(2027, 3, 30)),  # no DST, +05:30
        ("America/Sao_Paulo", date(2026, 11, 3), date(2026, 11, 10)),  # no DST since 2019
    ],
)
def test_a_0630_slot_is_0630_local_on_both_sides_of_a_change(zone: str, before: date, after: date) -> None:
    tz = ZoneInfo(zone)
    for day in (before, after):
        ((local, instant),) = weekly_occurrences([(day.weekday(), time(6, 30))], tz, day, day)
        assert (local.hour, local.minute) == (6, 30) and local.date() == day
        assert instant == local.astimezone(UTC)
    offsets = {weekly_occurrences([(d.weekday(), time(6, 30))], tz, d, d)[0][0].utcoffset() for d in (before, after)}
    assert len(offsets) == (1 if zone in ("Asia/Kolkata", "America/Sao_Paulo") else 2)


@pytest.mark.parametrize(
    ("zone", "day", "wall", "expected_local"),
    [
        ("Europe/Paris", date(2027, 3, 28), time(2, 30), datetime(2027, 3, 28, 3, 0)),
        ("America/New_York", date(2027, 3, 14), time(2, 30), datetime(2027, 3, 14, 3, 0)),
        ("Australia/Lord_Howe", date(2026, 10, 4), time(2, 15), datetime(2026, 10, 4, 2, 30)),
        ("Europe/Paris", date(2027, 3, 28), time(3, 0), datetime(2027, 3, 28, 3, 0)),  # exists
        ("Europe/Paris", date(2027, 3, 28), time(1, 59), datetime(2027, 3, 28, 1, 59)),  # before the gap
    ],
)
def test_a_skipped_time_moves_to_the_first_minute_after_the_gap(
    zone: str, day: date, wall: time, expected_local: datetime
) -> None:
    tz = ZoneInfo(zone)
    instant = wall_to_utc(day, wall, tz)
    assert instant.astimezone(tz).replace(tzinfo=None) == expected_local


def test_a_time_that_happens_twice_takes_the_first() -> None:
    paris = ZoneInfo("Europe/Paris")
    assert wall_to_utc(date(2026, 10, 25), time(2, 30), paris) == datetime(2026, 10, 25, 0, 30, tzinfo=UTC)
    lord_howe = ZoneInfo("Australia/Lord_Howe")  # 02:00 → 01:30: 01:45 happens twice
    assert wall_to_utc(date(2027, 4, 4), time(1, 45), lord_howe) == datetime(
        2027, 4, 3, 14, 45, tzinfo=UTC
    )  # +11:00, summer time


def test_the_default_rhythm_over_a_month_in_order() -> None:
    found = weekly_occurrences(SLOTS, ZoneInfo("Europe/Paris"), date(2027, 3, 1), date(2027, 3, 31))
    assert [local.day for local, _ in found] == [2, 4, 9, 11, 16, 18, 23, 25, 30]
    assert [instant.hour for _, instant in found] == [5] * 8 + [4]  # CET, then CEST after the 28th
    assert all((local.hour, local.minute) == (6, 30) for local, _ in found)
