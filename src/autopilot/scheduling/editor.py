"""The Calendar page's posting-schedule editor: the form as the person filled it (shown again when
it is refused, so nothing typed is lost), read into a `ScheduleIn`, and the sentence that says which
queued posts the change moved."""

from __future__ import annotations

import uuid
from collections.abc import Mapping
from dataclasses import dataclass
from datetime import datetime

from pydantic import ValidationError

from autopilot.kit.errors import Unprocessable
from autopilot.scheduling.schemas import WEEKDAYS, Move, ScheduleIn, SlotIn
from autopilot.scheduling.service import Rhythm
from autopilot.web.templating import readable

BLANK_ROWS = 2  # empty "add a slot" rows under the slots; ignored when left empty
MAX_CAPACITY = 10  # as ScheduleIn allows


@dataclass(frozen=True)
class SlotRow:
    day: str
    time: str
    removed: bool = False


@dataclass(frozen=True)
class Draft:
    """One account's schedule as the editor shows it: the stored one, or what the person sent."""

    integration_id: str
    timezone: str
    capacity: str
    rows: tuple[SlotRow, ...]
    sent: bool = False  # shown again after a refusal: the editor opens on it

    @classmethod
    def of(cls, current: Rhythm) -> Draft:
        rows = tuple(SlotRow(WEEKDAYS[d], f"{t:%H:%M}") for d, t in current.slots)
        return cls(
            str(current.schedule.integration_id), current.schedule.timezone, str(current.schedule.capacity), rows
        )

    @classmethod
    def read(cls, integration_id: str, fields: Mapping[str, list[str]]) -> Draft:
        """The submitted form (each field's values, in order); rows whose time is empty are dropped
        (the blank "add a slot" rows)."""
        removed = set(fields.get("remove", []))
        rows = tuple(
            SlotRow(day, time.strip(), str(index) in removed)
            for index, (day, time) in enumerate(zip(fields.get("day", []), fields.get("time", []), strict=False))
            if time.strip()
        )
        timezone, capacity = (next(iter(fields.get(name, [])), "").strip() for name in ("timezone", "capacity"))
        return cls(integration_id, timezone, capacity, rows, sent=True)

    @property
    def blanks(self) -> range:
        return range(len(self.rows), len(self.rows) + BLANK_ROWS)

    def schedule(self, current: Rhythm) -> ScheduleIn:
        """What to save, or a readable refusal: a bad zone, time or capacity, or no change at all."""
        slots = []
        for number, row in enumerate(self.rows, start=1):
            if row.removed:
                continue
            try:
                slots.append(SlotIn(day=row.day, time=row.time))
            except ValidationError as exc:
                raise Unprocessable(f"slot {number}: {readable(exc).partition(': ')[2]}") from exc
        if not (self.capacity.isdigit() and 1 <= int(self.capacity) <= MAX_CAPACITY):
            raise Unprocessable(f"posts per slot: give a whole number from 1 to {MAX_CAPACITY}")
        try:
            wanted = ScheduleIn(timezone=self.timezone, slots=slots, capacity=int(self.capacity))
        except ValidationError as exc:
            raise Unprocessable(readable(exc).replace("timezone:", "time zone:", 1)) from exc
        if _same(wanted, current):
            raise Unprocessable("nothing changed: edit the zone, a slot or the posts per slot, then save")
        return wanted


def _same(wanted: ScheduleIn, current: Rhythm) -> bool:
    slots = {(WEEKDAYS.index(slot.day), slot.time) for slot in wanted.slots}
    stored = current.schedule.timezone, current.schedule.capacity, {(d, f"{t:%H:%M}") for d, t in current.slots}
    return (wanted.timezone, wanted.capacity, slots) == stored


def _when(label: str) -> tuple[str, str]:
    """ "2027-03-30T06:30 (Europe/Paris)" as ("Tue 30 Mar 06:30", "Europe/Paris")."""
    local, _, zone = label.partition(" (")
    return f"{datetime.fromisoformat(local):%a %d %b %H:%M}", zone.removesuffix(")")


def _quoted(first_line: str) -> str:
    return f"“{first_line[:40]}…”" if len(first_line) > 40 else f"“{first_line}”"


def saved_sentence(moves: list[Move], first_lines: Mapping[uuid.UUID, str]) -> str:
    """ "Posting schedule saved. 1 queued post moved to the new times: “First line” Tue 30 Mar
    06:30 → Wed 31 Mar 07:00 (Europe/Paris)." """
    if not moves:
        return "Posting schedule saved. No queued post had to move."
    said = []
    for move in moves:
        (before, old_zone), (after, new_zone) = _when(move.before), _when(move.after)
        where = (
            f"{before} → {after} ({new_zone})"
            if old_zone == new_zone
            else f"{before} ({old_zone}) → {after} ({new_zone})"
        )
        said.append(f"{_quoted(first_lines.get(move.content_id, 'a post'))} {where}")
    count = f"{len(moves)} queued post{'s' if len(moves) > 1 else ''}"
    return f"Posting schedule saved. {count} moved to the new times: {'; '.join(said)}."
