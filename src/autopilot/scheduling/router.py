"""Scheduling API: posting schedules, slot occurrences, the queue, and the iCal feed."""

from __future__ import annotations

import uuid
from datetime import date, datetime, timedelta
from typing import Annotated, cast
from zoneinfo import ZoneInfo

from fastapi import APIRouter, Path, Query
from fastapi.responses import Response
from pydantic import TypeAdapter

from autopilot.accounts.deps import CurrentCaller
from autopilot.content.models import Content
from autopilot.kit.deps import SessionDep, SettingsDep
from autopilot.kit.openapi import PROBLEMS, problems
from autopilot.kit.time import utcnow
from autopilot.scheduling import schemas, service
from autopilot.scheduling.models import QueueEntry

router = APIRouter(tags=["scheduling"], responses=PROBLEMS)
api = "/api/v1"

From = Annotated[date | None, Query(alias="from", description="First local date, YYYY-MM-DD; default today")]
To = Annotated[
    date | None, Query(alias="to", description="Last local date (inclusive); default 4 weeks on; at most 366 days on")
]


def _schedule_out(current: service.Rhythm, moved: list[schemas.Move] | None = None) -> schemas.ScheduleOut:
    return schemas.ScheduleOut(
        integration_id=current.schedule.integration_id,
        timezone=current.schedule.timezone,
        capacity=current.schedule.capacity,
        paused=current.schedule.paused,
        slots=[schemas.SlotOut(day=schemas.WEEKDAYS[d], time=f"{t:%H:%M}") for d, t in current.slots],
        rule=service.DST_RULE,
        moved=moved or [],
    )


def entry_out(entry: QueueEntry, item: Content | None = None) -> schemas.EntryOut:
    out = schemas.EntryOut.model_validate(entry)
    if item is not None:
        out.content_state, out.text = item.state, item.text
    return out


@router.get(f"{api}/integrations/{{integration_id}}/schedule", responses=problems(404))
async def get_schedule(integration_id: uuid.UUID, session: SessionDep, caller: CurrentCaller) -> schemas.ScheduleOut:
    """The account's weekly slots (default Tuesday and Thursday 06:30 in the zone of who connected it)."""
    return _schedule_out(await service.rhythm(session, caller, integration_id))


@router.put(f"{api}/integrations/{{integration_id}}/schedule", responses=problems(404, 409, 422))
async def put_schedule(
    integration_id: uuid.UUID, data: schemas.ScheduleIn, session: SessionDep, caller: CurrentCaller
) -> schemas.ScheduleOut:
    """Replace the zone, slots and capacity. Posts queued in slots move to the new times (`moved`)."""
    current, moved = await service.change_schedule(session, caller, integration_id, data)
    return _schedule_out(current, moved)


@router.post(f"{api}/integrations/{{integration_id}}/schedule/pause", responses=problems(404))
async def pause(integration_id: uuid.UUID, session: SessionDep, caller: CurrentCaller) -> schemas.ScheduleOut:
    """Stop publishing from the queue: posts whose slot comes meanwhile are held, not published."""
    return _schedule_out(await service.set_paused(session, caller, integration_id, True))


@router.post(f"{api}/integrations/{{integration_id}}/schedule/resume", responses=problems(404, 409))
async def resume(integration_id: uuid.UUID, session: SessionDep, caller: CurrentCaller) -> schemas.ScheduleOut:
    """Publish from the queue again; posts held by the pause go to the next free slots, in order."""
    return _schedule_out(await service.set_paused(session, caller, integration_id, False))


@router.get(f"{api}/integrations/{{integration_id}}/slots", responses=problems(404, 422))
async def slots(
    integration_id: uuid.UUID, session: SessionDep, caller: CurrentCaller, first: From = None, last: To = None
) -> list[schemas.Occurrence]:
    """Each slot occurrence between two local dates of the schedule's zone, in local time and UTC,
    with the posts in it; `adjusted` marks one a daylight-saving change moved."""
    found = await service.occurrences(session, caller, integration_id, first, last)
    return [
        schemas.Occurrence(local=local.isoformat(), utc=instant, adjusted=moved, taken_by=taken)
        for local, instant, moved, taken in found
    ]


@router.post(f"{api}/content/{{content_id}}/schedule", responses=problems(404, 409, 422))
async def schedule_content(
    content_id: uuid.UUID, data: schemas.QueueIn, session: SessionDep, caller: CurrentCaller
) -> schemas.EntryOut:
    """`{"slot": "next"}` puts approved content in the next free slot; `{"at": "2027-03-30T06:30",
    "timezone": "Europe/Paris"}` at that local time. Queued content moves. 409: not approved, or the
    slot is taken; 422: a time in the past, or one a daylight-saving change skips."""
    entry = await service.queue(session, caller, content_id, data)
    return entry_out(entry)


@router.delete(f"{api}/content/{{content_id}}/schedule", status_code=204, responses=problems(404, 409))
async def unschedule(content_id: uuid.UUID, session: SessionDep, caller: CurrentCaller) -> None:
    """Take content off the queue; it stays approved."""
    await service.withdraw(session, caller, content_id)


@router.post(f"{api}/schedule/swap", responses=problems(404, 409, 422))
async def swap(data: schemas.SwapIn, session: SessionDep, caller: CurrentCaller) -> list[schemas.EntryOut]:
    """Reorder the queue: two posts of one account still waiting for their slot trade places."""
    return [entry_out(entry) for entry in await service.swap(session, caller, data.first, data.second)]


LISTING = TypeAdapter(list[schemas.EntryRow])


@router.get(f"{api}/schedule", responses=problems(422), response_model=list[schemas.EntryOut])
async def schedule_listing(
    session: SessionDep,
    caller: CurrentCaller,
    first: Annotated[
        date | None, Query(alias="from", description="First local date (your zone); default today")
    ] = None,
    last: Annotated[
        date | None, Query(alias="to", description="Last local date, inclusive; default 30 days on")
    ] = None,
) -> Response:
    """What is queued between two local dates of your zone, in time order (at most 2,000)."""
    zone = caller.user.timezone
    today = datetime.now(ZoneInfo(zone)).date()
    start, end = service.local_window(first or today, last or (first or today) + timedelta(days=30), zone)
    rows = await service.listed(session, caller.org_id, start, end)
    # Rows from our own tables, already typed: serialised in one pass, without building models.
    return Response(LISTING.dump_json(cast(list[schemas.EntryRow], rows)), media_type="application/json")


@router.post(f"{api}/calendar/feed", status_code=201)
async def new_feed(session: SessionDep, caller: CurrentCaller, settings: SettingsDep) -> schemas.FeedOut:
    """A secret iCal address of your schedule for your calendar app; a new one replaces the old."""
    token = await service.new_feed(session, caller)
    return schemas.FeedOut(url=f"{settings.public_url}/calendar/feed/{token}.ics")


@router.delete(f"{api}/calendar/feed", status_code=204)
async def revoke_feed(session: SessionDep, caller: CurrentCaller) -> None:
    """Stop the secret iCal address from working."""
    await service.revoke_feed(session, caller)


@router.get(
    "/calendar/feed/{token}.ics",
    response_class=Response,
    responses={200: {"content": {"text/calendar": {}}}, **problems(404)},
)
async def feed(
    token: Annotated[str, Path(min_length=20, max_length=100, pattern=r"^[A-Za-z0-9_-]+$")],
    session: SessionDep,
    settings: SettingsDep,
) -> Response:
    """The read-only iCal (RFC 5545) feed behind a secret address; unknown or revoked → 404."""
    org_id, _user = await service.feed_owner(session, token)
    now = utcnow()
    rows = await service.listing(session, org_id, now - timedelta(days=30), now + timedelta(days=366))
    return Response(
        service.ical(rows, base_url=settings.public_url),
        media_type="text/calendar; charset=utf-8",
        headers={"Cache-Control": "private, max-age=300"},
    )
