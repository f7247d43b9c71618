"""Web Push subscriptions (one row per browser) and the push job that delivers to one of them.

Subscribing is an upsert on the endpoint (a unique constraint, not read-then-write), so the same
browser subscribing twice, even at the same instant, leaves one row with the latest keys. A push
is a ledger job per device, written in the caller's transaction; the handler (`tasks.send_push`)
calls pywebpush and reads the push service's answer: 404/410 forget the device, 429 waits for
Retry-After, 5xx and network trouble retry with backoff, anything else fails with the reason."""

from __future__ import annotations

import re
import uuid
from collections.abc import Collection
from datetime import datetime
from typing import Literal
from urllib.parse import urlsplit

from pydantic import BaseModel, Field
from sqlalchemy import delete, select, update
from sqlalchemy.ext.asyncio import AsyncSession, async_sessionmaker

from autopilot.accounts.service import Caller
from autopilot.config import Settings
from autopilot.kit.db import upsert_insert
from autopilot.kit.errors import NotFound, Unprocessable
from autopilot.kit.repository import TenantRepository
from autopilot.kit.time import utcnow
from autopilot.notifications.kinds import EventKind
from autopilot.notifications.models import PushSubscription
from autopilot.notifications.schemas import SubscriptionIn
from autopilot.worker import ledger

PUSH_KIND = "notifications.push"
PUSH_ATTEMPTS = 5
BODY_MAX = 240  # a notification shows a few lines; the whole payload must stay far below 3,993 bytes


class PushMessage(BaseModel):
    """What the service worker receives (the decrypted payload, as JSON) and shows."""

    kind: str
    title: str = Field(max_length=120)
    body: str = Field(max_length=BODY_MAX)
    url: str = Field(max_length=200)  # the page a tap opens
    tag: str = Field(max_length=64)  # a newer notification with the same tag replaces the shown one
    count: int | None = None  # approvals waiting, for the badge


class PushJob(BaseModel):
    subscription_id: uuid.UUID
    message: PushMessage
    ttl: int = Field(ge=0)
    urgency: Literal["very-low", "low", "normal", "high"]
    topic: str | None = Field(default=None, pattern=r"^[A-Za-z0-9_-]{1,32}$")


class Subscriptions(TenantRepository[PushSubscription]):
    model = PushSubscription
    noun = "push subscription"


subscriptions = Subscriptions()

_BROWSERS = (("Edg/", "Edge"), ("OPR/", "Opera"), ("Firefox/", "Firefox"), ("Chrome/", "Chrome"), ("Safari/", "Safari"))
_SYSTEMS = (
    ("Android", "Android"),
    ("iPhone", "iPhone"),
    ("iPad", "iPad"),
    ("Windows", "Windows"),
    ("Mac OS X", "macOS"),
    ("CrOS", "ChromeOS"),
    ("Linux", "Linux"),
)


def device_label(user_agent: str) -> str:
    """ "Chrome on Android": enough for a person to tell their devices apart in the list."""
    browser = next((name for mark, name in _BROWSERS if mark in user_agent), "")
    system = next((name for mark, name in _SYSTEMS if mark in user_agent), "")
    if browser and system:
        return f"{browser} on {system}"
    return browser or system or re.sub(r"\s+", " ", user_agent).strip()[:60] or "Unknown device"


async def subscribe(
    session: AsyncSession, settings: Settings, caller: Caller, data: SubscriptionIn, user_agent: str
) -> tuple[PushSubscription, bool]:
    """Store the caller's browser subscription, or update it (keys, owner, device) when its endpoint
    is known; (the row, whether it is new). The endpoint is the browser's own: whoever subscribes
    with it last owns it, as the browser now pushes to that person."""
    if settings.is_production and urlsplit(data.endpoint).scheme != "https":
        raise Unprocessable("the endpoint must use https")
    now, new_id = utcnow(), uuid.uuid4()
    values = {
        "org_id": caller.org_id,
        "user_id": caller.user.id,
        "p256dh": data.keys.p256dh,
        "auth": data.keys.auth,
        "device": device_label(user_agent),
        "failures": 0,
        "updated_at": now,
    }
    insert = upsert_insert(session, PushSubscription).values(
        id=new_id, endpoint=data.endpoint, created_at=now, last_success_at=None, **values
    )
    statement = insert.on_conflict_do_update(index_elements=["endpoint"], set_=values).returning(PushSubscription.id)
    row_id = await session.scalar(statement)
    row = await session.scalar(
        select(PushSubscription).where(PushSubscription.id == row_id).execution_options(populate_existing=True)
    )
    assert row is not None
    return row, row_id == new_id


async def devices(session: AsyncSession, caller: Caller) -> list[PushSubscription]:
    """The caller's own subscribed browsers, newest first."""
    query = subscriptions.scoped(caller.org_id).where(PushSubscription.user_id == caller.user.id)
    return list(await session.scalars(query.order_by(PushSubscription.created_at.desc())))


async def remove(session: AsyncSession, caller: Caller, subscription_id: uuid.UUID) -> None:
    """Forget one of the caller's devices; another person's (or organization's) id reads as missing."""
    found = await subscriptions.find(session, caller.org_id, subscription_id)
    if found is None or found.user_id != caller.user.id:
        raise NotFound(f"no push subscription with id {subscription_id}")
    await session.delete(found)
    await session.flush()


async def remove_endpoint(session: AsyncSession, caller: Caller, endpoint: str) -> None:
    """The browser unsubscribed: forget its endpoint if it is the caller's (nothing happens otherwise)."""
    await session.execute(
        delete(PushSubscription).where(
            PushSubscription.org_id == caller.org_id,
            PushSubscription.user_id == caller.user.id,
            PushSubscription.endpoint == endpoint,
        )
    )


async def devices_of(
    session: AsyncSession, org_id: uuid.UUID, user_ids: Collection[uuid.UUID]
) -> dict[uuid.UUID, list[uuid.UUID]]:
    """The subscription ids of each of these users (users without a device are left out)."""
    if not user_ids:
        return {}
    rows = await session.execute(
        select(PushSubscription.user_id, PushSubscription.id)
        .where(PushSubscription.org_id == org_id, PushSubscription.user_id.in_(list(user_ids)))
        .order_by(PushSubscription.id)
    )
    found: dict[uuid.UUID, list[uuid.UUID]] = {}
    for user_id, subscription_id in rows.all():
        found.setdefault(user_id, []).append(subscription_id)
    return found


async def queue(
    session: AsyncSession,
    org_id: uuid.UUID,
    subscription_id: uuid.UUID,
    event: EventKind,
    message: PushMessage,
    *,
    run_at: datetime | None = None,
    dedupe_key: str | None = None,
) -> int:
    """Enqueue one push to one device in the caller's transaction, with the kind's TTL, Urgency and Topic."""
    job = PushJob(
        subscription_id=subscription_id, message=message, ttl=event.ttl_s, urgency=event.urgency, topic=event.topic
    )
    return await ledger.enqueue(
        session,
        kind=PUSH_KIND,
        org_id=org_id,
        payload=job.model_dump(mode="json"),
        run_at=run_at,
        dedupe_key=dedupe_key,
    )


async def target(session: AsyncSession, org_id: uuid.UUID, subscription_id: uuid.UUID) -> PushSubscription | None:
    """The device a push job is for; None once it was removed."""
    return await subscriptions.find(session, org_id, subscription_id)


async def delivered(session: AsyncSession, subscription_id: uuid.UUID) -> None:
    await session.execute(
        update(PushSubscription)
        .where(PushSubscription.id == subscription_id)
        .values(last_success_at=utcnow(), failures=0)
        .execution_options(synchronize_session=False)
    )


async def gone(session: AsyncSession, subscription_id: uuid.UUID) -> None:
    """The push service says the subscription expired or was dropped (404/410): forget it."""
    await session.execute(delete(PushSubscription).where(PushSubscription.id == subscription_id))


async def count_failure(sessions: async_sessionmaker[AsyncSession], subscription_id: uuid.UUID) -> None:
    """One more failure in a row, in its own short transaction: the job's own rolls back on failure."""
    async with sessions() as session, session.begin():
        await session.execute(
            update(PushSubscription)
            .where(PushSubscription.id == subscription_id)
            .values(failures=PushSubscription.failures + 1)
            .execution_options(synchronize_session=False)
        )
