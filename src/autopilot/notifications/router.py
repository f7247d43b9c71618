"""Notifications API: alerts, Web Push subscriptions (this caller's devices) and preferences."""

from __future__ import annotations

import uuid
from typing import Annotated

from fastapi import APIRouter, Header, Request, Response

from autopilot.accounts.deps import CurrentCaller
from autopilot.kit.deps import SessionDep, SettingsDep, TransactionsDep
from autopilot.kit.openapi import PROBLEMS, problems
from autopilot.notifications import preferences, push, schemas, service, vapid

router = APIRouter(prefix="/api/v1", tags=["alerts"], responses=PROBLEMS)
UserAgent = Annotated[str, Header(max_length=1000)]


@router.get("/alerts")
async def alerts(session: SessionDep, caller: CurrentCaller) -> list[schemas.AlertOut]:
    """The organization's newest alerts, less the kinds you turned off in-app."""
    return [schemas.AlertOut.model_validate(a) for a in await service.alerts_for(session, caller)]


@router.get("/push/key", tags=["push"])
async def push_key(tx: TransactionsDep, settings: SettingsDep, request: Request) -> schemas.PushKeyOut:
    """The VAPID application server key for `pushManager.subscribe({applicationServerKey})`. It is
    public by design, so no token is needed."""
    key = await vapid.server_key(tx.sessions, settings, request.app.state.keyring)
    return schemas.PushKeyOut(key=key.public_key)


@router.post(
    "/push/subscriptions",
    tags=["push"],
    responses={201: {"model": schemas.SubscriptionOut, "description": "A new subscription"}, **problems(422)},
)
async def subscribe(
    data: schemas.SubscriptionIn,
    session: SessionDep,
    settings: SettingsDep,
    caller: CurrentCaller,
    response: Response,
    user_agent: UserAgent = "",
) -> schemas.SubscriptionOut:
    """Subscribe this browser (the body is `PushSubscription.toJSON()`). Subscribing again with the
    same endpoint updates its keys: 201 when new, 200 when it was known."""
    row, created = await push.subscribe(session, settings, caller, data, user_agent)
    response.status_code = 201 if created else 200
    return schemas.SubscriptionOut.model_validate(row)


@router.get("/push/subscriptions", tags=["push"])
async def subscriptions(session: SessionDep, caller: CurrentCaller) -> list[schemas.SubscriptionOut]:
    """Your subscribed browsers (devices), newest first."""
    return [schemas.SubscriptionOut.model_validate(s) for s in await push.devices(session, caller)]


@router.delete("/push/subscriptions/{subscription_id}", tags=["push"], status_code=204, responses=problems(404))
async def unsubscribe(subscription_id: uuid.UUID, session: SessionDep, caller: CurrentCaller) -> None:
    """Stop pushing to one of your devices."""
    await push.remove(session, caller, subscription_id)


@router.get("/notifications/preferences", tags=["push"])
async def get_preferences(session: SessionDep, caller: CurrentCaller) -> schemas.PreferencesOut:
    """Your channels (push, e-mail, in-app) per kind of event, and your quiet hours (in your zone)."""
    return await preferences.preferences(session, caller)


@router.put("/notifications/preferences", tags=["push"], responses=problems(409, 422))
async def put_preferences(
    data: schemas.PreferencesIn, session: SessionDep, caller: CurrentCaller
) -> schemas.PreferencesOut:
    """Replace your choices: a kind left out goes back to its defaults; `quiet_hours: null` for none.
    Pushes due in quiet hours wait for their end, except the urgent kinds."""
    return await preferences.set_preferences(session, caller, data)
