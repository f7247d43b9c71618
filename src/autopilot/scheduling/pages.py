"""The Calendar page: the queue in week and month views, in the user's own zone; move a post to a
free slot (tap a post, then a slot or a typed time; or drag it, with /static/calendar.js), take it
off the queue, swap two queued posts, pause an account's queue or change its posting schedule, and
the secret iCal link."""

from __future__ import annotations

import calendar as months
import uuid
from dataclasses import dataclass, field
from datetime import date, datetime, timedelta
from typing import Annotated, Any
from urllib.parse import urlencode
from zoneinfo import ZoneInfo

from fastapi import APIRouter, Form, Request
from fastapi.responses import HTMLResponse, RedirectResponse, Response
from pydantic import ValidationError
from sqlalchemy.ext.asyncio import AsyncSession

from autopilot.accounts.deps import PageCaller
from autopilot.accounts.service import Caller
from autopilot.config import Settings
from autopilot.content.models import Content
from autopilot.kit.deps import SessionDep, SettingsDep
from autopilot.kit.errors import Answered, AppError, NotFound, Unprocessable
from autopilot.kit.time import as_utc, utcnow
from autopilot.linkedin import service as linkedin
from autopilot.scheduling import service
from autopilot.scheduling.editor import Draft, saved_sentence
from autopilot.scheduling.models import QueueEntry
from autopilot.scheduling.schemas import WEEKDAYS, QueueIn
from autopilot.web.session import CsrfChecked
from autopilot.web.templating import Nav, readable, render, zone_names

router = APIRouter(include_in_schema=False)
NAV = [Nav("calendar", "Calendar", "/calendar", bar=4)]  # a daily section: in the phone's bottom bar
Field = Annotated[str, Form()]
PAGE = "/calendar"
CHOICES = 8  # free slots the move panel offers
STATES = {  # the queue entry's state as a badge: label and colour
    "queued": ("Queued", "busy"),
    "published": ("Published", "good"),
    "held": ("On hold", "bad"),
    "missed": ("Missed its slot", "bad"),
}
IN_FLIGHT = {"publishing": ("Publishing…", "busy"), "failed": ("Failed", "bad")}  # the content's state wins
MOVABLE = {"queued", "held", "missed"}
DONE = {
    "queued": "Added to the queue: it goes out in its account's next free slot, shown below.",
    "moved": "Moved.",
    "swapped": "Swapped.",
    "withdrawn": "Taken off the queue. The post stays approved.",
    "paused": "Queue paused: posts whose slot comes meanwhile are held, not published.",
    "resumed": "Queue resumed: held posts went to the next free slots.",
    "feed-stopped": "Your calendar link stopped working.",
}


@dataclass(frozen=True)
class Window:
    """The dates a view shows, in the user's zone, and where its arrows lead."""

    view: str
    first: date
    last: date
    previous: date
    next: date
    title: str

    def link(self, start: date | None = None, **extra: str) -> str:
        return f"{PAGE}?{urlencode({'view': self.view, 'start': (start or self.first).isoformat(), **extra})}"


def window(view: str, start: str, today: date) -> Window:
    """The week (from Monday) or month around *start* (YYYY-MM-DD; today when absent or unreadable)."""
    try:
        day = date.fromisoformat(start) if start else today
    except ValueError:
        day = today
    if view == "month":
        first = day.replace(day=1)
        last = first.replace(day=months.monthrange(first.year, first.month)[1])
        previous = (first - timedelta(days=1)).replace(day=1)
        return Window("month", first, last, previous, last + timedelta(days=1), f"{first:%B %Y}")
    first = day - timedelta(days=day.weekday())
    last = first + timedelta(days=6)
    return Window(
        "week", first, last, first - timedelta(days=7), first + timedelta(days=7), f"Week of {first:%d %b %Y}"
    )


def first_line(text: str) -> str:
    """How the calendar names a post: its first line."""
    text = text.strip()
    return text.splitlines()[0][:120] if text else "(empty post)"


@dataclass(frozen=True)
class Queued:
    """A post in the queue as the calendar shows it, at its time in the user's zone."""

    entry: QueueEntry
    item: Content
    local: datetime
    label: str
    tone: str
    kind: str = "post"

    @property
    def first_line(self) -> str:
        return first_line(self.item.text)

    @property
    def movable(self) -> bool:
        return self.entry.state in MOVABLE


@dataclass(frozen=True)
class FreeSlot:
    """A slot occurrence with a free seat: *at* and *timezone* are its wall time in its schedule's
    zone (what the move form sends), *local* the same instant in the user's zone."""

    integration_id: uuid.UUID
    account: str
    local: datetime
    at: str
    timezone: str
    kind: str = "slot"


@dataclass(frozen=True)
class Day:
    day: date
    items: list[Queued | FreeSlot] = field(default_factory=list)


@dataclass(frozen=True)
class Account:
    integration_id: uuid.UUID
    name: str
    rhythm: str
    paused: bool
    editor: Draft


def _queued(entry: QueueEntry, item: Content, zone: ZoneInfo) -> Queued:
    label, tone = IN_FLIGHT.get(item.state) or STATES.get(entry.state, (entry.state, "neutral"))
    return Queued(entry, item, as_utc(entry.due_at).astimezone(zone), label, tone)


async def _free(
    session: AsyncSession, caller: Caller, integration_id: uuid.UUID, name: str, first: date, last: date, zone: ZoneInfo
) -> list[FreeSlot]:
    found = await service.free_occurrences(session, caller, integration_id, first, last)
    return [
        FreeSlot(integration_id, name, instant.astimezone(zone), f"{local:%Y-%m-%dT%H:%M}", str(local.tzinfo))
        for local, instant in found
    ]


async def _page(
    request: Request,
    session: AsyncSession,
    settings: Settings,
    caller: Caller,
    *,
    view: str = "week",
    start: str = "",
    move: str = "",
    status_code: int = 200,
    draft: Draft | None = None,
    **context: Any,
) -> HTMLResponse:
    zone = ZoneInfo(caller.user.timezone)
    shown = window(view, start, datetime.now(zone).date())
    first_utc, end_utc = service.local_window(shown.first, shown.last, caller.user.timezone)
    days = {
        shown.first + timedelta(days=n): Day(shown.first + timedelta(days=n))
        for n in range(shown.last.day if view == "month" else 7)
    }
    for entry, item in await service.listing(session, caller.org_id, first_utc, end_utc):
        queued = _queued(entry, item, zone)
        days[queued.local.date()].items.append(queued)
    accounts: list[Account] = []
    for integration in await linkedin.list_integrations(session, caller):
        if integration.status == "disconnected":
            continue
        name = integration.name or "LinkedIn"
        rhythm = await service.rhythm(session, caller, integration.id)
        slots = ", ".join(f"{WEEKDAYS[d].capitalize()} {t:%H:%M}" for d, t in rhythm.slots) or "no slots"
        editor = draft if draft and draft.integration_id == str(integration.id) else Draft.of(rhythm)
        accounts.append(
            Account(integration.id, name, f"{slots} ({rhythm.schedule.timezone})", rhythm.schedule.paused, editor)
        )
        # The schedule's local dates may differ from the user's by a day either side.
        for slot in await _free(
            session, caller, integration.id, name, shown.first - timedelta(days=1), shown.last + timedelta(days=1), zone
        ):
            if slot.local.date() in days:
                days[slot.local.date()].items.append(slot)
    for day in days.values():
        day.items.sort(key=lambda i: (i.local, i.kind))
    moving, choices, swaps = await _moving(session, caller, move, zone)
    return render(
        request,
        "calendar.html",
        status_code,
        caller=caller,
        active="calendar",
        window=shown,
        days=[d for d in days.values() if d.items or view == "week"],
        today=datetime.now(zone).date(),
        zone=caller.user.timezone,
        accounts=accounts,
        moving=moving,
        choices=choices,
        swaps=swaps,
        zones=zone_names(),
        weekdays=WEEKDAYS,
        rule=service.DST_RULE,
        sandbox=settings.linkedin_sandbox,
        **context,
    )


async def _moving(
    session: AsyncSession, caller: Caller, move: str, zone: ZoneInfo
) -> tuple[Queued | None, list[FreeSlot], list[Queued]]:
    """The post being moved (tap flow), the next free slots of its account, and the account's other
    posts still waiting for their slot (to swap places with)."""
    if not move:
        return None, [], []
    try:
        entry, item = await service.entry_of(session, caller, _uuid(move))
    except AppError:
        return None, [], []
    schedule_today = (
        utcnow()
        .astimezone(ZoneInfo((await service.rhythm(session, caller, entry.integration_id)).schedule.timezone))
        .date()
    )
    choices = await _free(
        session, caller, entry.integration_id, "", schedule_today, schedule_today + timedelta(days=60), zone
    )
    return _queued(entry, item, zone), choices[:CHOICES], await _ahead(session, caller, entry, zone)


async def _ahead(session: AsyncSession, caller: Caller, moving: QueueEntry, zone: ZoneInfo) -> list[Queued]:
    """The account's other queued posts still ahead, when *moving* is one too (only those can swap)."""
    now = utcnow()
    if moving.state != "queued" or as_utc(moving.due_at) <= now:
        return []
    rows = await service.listing(session, caller.org_id, now, now + timedelta(days=service.HORIZON_DAYS))
    return [
        _queued(entry, item, zone)
        for entry, item in rows
        if entry.integration_id == moving.integration_id
        and entry.state == "queued"
        and entry.content_id != moving.content_id
    ]


def _uuid(value: str) -> uuid.UUID:
    try:
        return uuid.UUID(value)
    except ValueError:
        raise NotFound(f"no such post or account: {value[:40]!r}") from None


def _sentence(exc: AppError) -> str:
    return exc.detail[:1].upper() + exc.detail[1:] + ("" if exc.detail.endswith(".") else ".")


@router.get("/calendar", response_class=HTMLResponse)
async def calendar_page(request: Request, session: SessionDep, settings: SettingsDep, caller: PageCaller) -> Response:
    query = request.query_params
    return await _page(
        request,
        session,
        settings,
        caller,
        view=query.get("view", "week"),
        start=query.get("start", ""),
        move=query.get("move", ""),
        notice=DONE.get(query.get("done", "")),
    )


async def _refusal(
    request: Request,
    session: AsyncSession,
    settings: Settings,
    caller: Caller,
    exc: AppError,
    *,
    draft: Draft | None = None,
    **where: str,
) -> AppError:
    """The page again with the error said plainly; raising it rolls the request's changes back."""
    page = await _page(
        request, session, settings, caller, status_code=exc.status, error=_sentence(exc), draft=draft, **where
    )
    return Answered(page, exc.detail)


def _back(view: str, start: str, done: str, day: date | None = None) -> RedirectResponse:
    shown = window(view, start, day or date.today())
    return RedirectResponse(shown.link(day, done=done), status_code=303)


@router.post("/calendar/move")
async def move(
    request: Request,
    session: SessionDep,
    settings: SettingsDep,
    caller: PageCaller,
    _csrf: CsrfChecked,
    content_id: Field = "",
    at: Field = "",
    timezone: Field = "",
    view: Field = "week",
    start: Field = "",
) -> Response:
    """Move a queued post to a free slot or a typed local time (the tap flow and the drop of a drag)."""
    try:
        if not at:
            raise Unprocessable("choose a free slot, or type a date and time")
        try:
            choice = QueueIn(at=at, timezone=timezone or caller.user.timezone)
        except ValidationError as exc:
            raise Unprocessable(readable(exc)) from exc
        entry = await service.queue(session, caller, _uuid(content_id), choice)
    except AppError as exc:  # 404 another organization's post, 409 a taken slot, 422 a past or skipped time
        raise await _refusal(request, session, settings, caller, exc, view=view, start=start, move=content_id) from exc
    day = as_utc(entry.due_at).astimezone(ZoneInfo(caller.user.timezone)).date()
    return _back(view, start, "moved", day)


@router.post("/calendar/queue")
async def add_to_queue(
    request: Request,
    session: SessionDep,
    settings: SettingsDep,
    caller: PageCaller,
    _csrf: CsrfChecked,
    content_id: Field = "",
) -> Response:
    """ "Add to queue" from the Posts page: approved content into its account's next free slot; the
    calendar then opens on the week it went to."""
    try:
        entry = await service.queue(session, caller, _uuid(content_id), QueueIn(slot="next"))
    except AppError as exc:  # 404 another organization's post, 409 not approved or no free slot
        raise await _refusal(request, session, settings, caller, exc, view="week", start="") from exc
    day = as_utc(entry.due_at).astimezone(ZoneInfo(caller.user.timezone)).date()
    return _back("week", "", "queued", day)


@router.post("/calendar/withdraw")
async def withdraw(
    request: Request,
    session: SessionDep,
    settings: SettingsDep,
    caller: PageCaller,
    _csrf: CsrfChecked,
    content_id: Field = "",
    view: Field = "week",
    start: Field = "",
) -> Response:
    """Take a post off the queue; it stays approved."""
    try:
        await service.withdraw(session, caller, _uuid(content_id))
    except AppError as exc:
        raise await _refusal(request, session, settings, caller, exc, view=view, start=start) from exc
    return _back(view, start, "withdrawn")


@router.post("/calendar/swap")
async def swap_places(
    request: Request,
    session: SessionDep,
    settings: SettingsDep,
    caller: PageCaller,
    _csrf: CsrfChecked,
    content_id: Field = "",
    other: Field = "",
    view: Field = "week",
    start: Field = "",
) -> Response:
    """Reorder: two queued posts of one account trade their times."""
    try:
        if not other:
            raise Unprocessable("choose the post to swap with")
        first, _second = await service.swap(session, caller, _uuid(content_id), _uuid(other))
    except AppError as exc:  # 404 another organization's post, 409 another account's or a past one
        raise await _refusal(request, session, settings, caller, exc, view=view, start=start, move=content_id) from exc
    day = as_utc(first.due_at).astimezone(ZoneInfo(caller.user.timezone)).date()
    return _back(view, start, "swapped", day)


# Declared before pause_or_resume, whose {action} would otherwise take "schedule" (first match wins).
@router.post("/calendar/accounts/{integration_id}/schedule", response_class=HTMLResponse)
async def change_schedule(
    integration_id: str,
    request: Request,
    session: SessionDep,
    settings: SettingsDep,
    caller: PageCaller,
    _csrf: CsrfChecked,
    view: Field = "week",
    start: Field = "",
) -> Response:
    """Save an account's zone, weekly slots and posts per slot; the page says which queued posts moved."""
    form = await request.form()
    fields = {name: [str(v) for v in form.getlist(name)] for name in ("timezone", "capacity", "day", "time", "remove")}
    draft = Draft.read(integration_id, fields)
    try:
        account = _uuid(integration_id)
        wanted = draft.schedule(await service.rhythm(session, caller, account))
        _rhythm, moves = await service.change_schedule(session, caller, account, wanted)
        first_lines = {m.content_id: await _first_line(session, caller, m.content_id) for m in moves}
    except AppError as exc:  # 404 another organization's account, 422 a bad zone, time or no change
        raise await _refusal(request, session, settings, caller, exc, draft=draft, view=view, start=start) from exc
    notice = saved_sentence(moves, first_lines)
    return await _page(request, session, settings, caller, view=view, start=start, notice=notice)


async def _first_line(session: AsyncSession, caller: Caller, content_id: uuid.UUID) -> str:
    _entry, item = await service.entry_of(session, caller, content_id)
    return first_line(item.text)


@router.post("/calendar/accounts/{integration_id}/{action}")
async def pause_or_resume(
    integration_id: str,
    action: str,
    request: Request,
    session: SessionDep,
    settings: SettingsDep,
    caller: PageCaller,
    _csrf: CsrfChecked,
    view: Field = "week",
    start: Field = "",
) -> Response:
    """Pause or resume one account's queue."""
    try:
        if action not in ("pause", "resume"):
            raise NotFound(f"no such action: {action[:20]!r}")
        await service.set_paused(session, caller, _uuid(integration_id), action == "pause")
    except AppError as exc:
        raise await _refusal(request, session, settings, caller, exc, view=view, start=start) from exc
    return _back(view, start, "paused" if action == "pause" else "resumed")


@router.post("/calendar/feed", response_class=HTMLResponse)
async def new_feed(
    request: Request,
    session: SessionDep,
    settings: SettingsDep,
    caller: PageCaller,
    _csrf: CsrfChecked,
    view: Field = "week",
    start: Field = "",
) -> Response:
    """A new secret iCal address, shown this once (an earlier one stops working)."""
    token = await service.new_feed(session, caller)
    feed_url = f"{settings.public_url}/calendar/feed/{token}.ics"
    return await _page(request, session, settings, caller, view=view, start=start, feed_url=feed_url)


@router.post("/calendar/feed/stop")
async def stop_feed(
    session: SessionDep, caller: PageCaller, _csrf: CsrfChecked, view: Field = "week", start: Field = ""
) -> Response:
    """Stop the secret iCal address from working."""
    await service.revoke_feed(session, caller)
    return _back(view, start, "feed-stopped")
