"""Notification pages: the preferences form (/settings/notifications), and the JSON routes the
service worker's page script calls to subscribe and unsubscribe this browser (session cookie +
X-CSRF-Token header)."""

from __future__ import annotations

import uuid
from typing import Annotated

from fastapi import APIRouter, Header, Request
from fastapi.responses import HTMLResponse, JSONResponse, RedirectResponse, Response
from pydantic import ValidationError

from autopilot.accounts.deps import MaybeCaller, PageCaller
from autopilot.accounts.service import Caller
from autopilot.kit.deps import SessionDep, SettingsDep
from autopilot.kit.errors import Unauthorized
from autopilot.notifications import preferences, push, schemas
from autopilot.notifications.kinds import CHANNELS, KINDS
from autopilot.web.session import CsrfChecked, CsrfHeaderChecked
from autopilot.web.templating import readable, refuse, render

router = APIRouter(include_in_schema=False)
PAGE = "notifications.html"
UserAgent = Annotated[str, Header(max_length=1000)]


async def _page(
    request: Request, session: SessionDep, caller: Caller, status: int = 200, **context: object
) -> Response:
    return render(
        request,
        PAGE,
        status,
        caller=caller,
        active="settings",
        prefs=await preferences.preferences(session, caller),
        devices=await push.devices(session, caller),
        **context,
    )


@router.get("/settings/notifications", response_class=HTMLResponse)
async def notifications_page(request: Request, session: SessionDep, caller: PageCaller) -> Response:
    return await _page(request, session, caller, notice=request.query_params.get("notice"))


@router.post("/settings/notifications", response_class=HTMLResponse)
async def save(request: Request, session: SessionDep, caller: PageCaller, _csrf: CsrfChecked) -> Response:
    form = await request.form()
    kinds = {
        name: {channel: form.get(f"{name}.{channel}") == "on" for channel in CHANNELS if channel in kind.offered}
        for name, kind in KINDS.items()
    }
    start, end = str(form.get("quiet_start") or ""), str(form.get("quiet_end") or "")
    try:
        quiet = schemas.QuietHoursIO(start=start, end=end) if start or end else None
        data = schemas.PreferencesIn.model_validate({"kinds": kinds, "quiet_hours": quiet})
    except ValidationError as exc:
        current = await preferences.preferences(session, caller)
        raise refuse(
            request, PAGE, 422, caller=caller, active="settings", prefs=current,
            devices=await push.devices(session, caller), error=readable(exc),
        ) from exc  # fmt: skip
    saved = await preferences.set_preferences(session, caller, data)
    return render(
        request, PAGE, caller=caller, active="settings", prefs=saved,
        devices=await push.devices(session, caller), notice="Notification settings saved.",
    )  # fmt: skip


@router.post("/settings/notifications/devices/{subscription_id}/remove")
async def remove_device(
    subscription_id: uuid.UUID, session: SessionDep, caller: PageCaller, _csrf: CsrfChecked
) -> Response:
    await push.remove(session, caller, subscription_id)
    return RedirectResponse("/settings/notifications?notice=Device%20removed.", status_code=303)


def _signed_in(caller: Caller | None) -> Caller:
    if caller is None:
        raise Unauthorized("log in first: your session has ended")
    return caller


@router.post("/push/subscribe")
async def subscribe(
    data: schemas.SubscriptionIn,
    session: SessionDep,
    settings: SettingsDep,
    caller: MaybeCaller,
    _csrf: CsrfHeaderChecked,
    user_agent: UserAgent = "",
) -> Response:
    """This browser's `PushSubscription.toJSON()`: 201 when new, 200 when its endpoint was known."""
    row, created = await push.subscribe(session, settings, _signed_in(caller), data, user_agent)
    body = schemas.SubscriptionOut.model_validate(row).model_dump(mode="json")
    return JSONResponse(body, status_code=201 if created else 200)


@router.post("/push/unsubscribe", status_code=204)
async def unsubscribe(
    data: schemas.UnsubscribeIn, session: SessionDep, caller: MaybeCaller, _csrf: CsrfHeaderChecked
) -> Response:
    """The browser unsubscribed: forget its endpoint (204 whether or not it was known)."""
    await push.remove_endpoint(session, _signed_in(caller), data.endpoint)
    return Response(status_code=204)
