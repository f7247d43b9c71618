"""Company Pages: the LinkedIn pages a connected member administers, their daily post and follower
statistics, synced once a day for the pages the user tracks (research G §2).

This is an optional connection. Reading a page takes the `rw_organization_admin` scope of LinkedIn's
Community Management API, a reviewed product granted only to registered organizations; without it
nothing is asked of LinkedIn and the page says so, offering to reconnect with the scope when this
installation's LinkedIn app is configured for it (AUTOPILOT_LINKEDIN_COMMUNITY_SCOPES).

Budget: the Development tier allows about 500 calls a day per app and 100 per member (research G
§2.1, third-party figures; whether per endpoint or for the product is not documented, so we count
all Company Page calls in one budget). A sync costs three calls (daily post statistics, daily
follower gains, the follower total), whatever the number of days asked for.

Figures are stored as LinkedIn gives them: net counts (reactions, follower gains) can be negative,
and only charts may clamp them. Days are UTC days, as LinkedIn buckets them."""

from __future__ import annotations

import uuid
from collections.abc import Awaitable, Callable
from dataclasses import dataclass
from datetime import UTC, date, datetime, timedelta
from typing import Any, TypeVar

import structlog
from pydantic import BaseModel, ConfigDict, Field
from sqlalchemy import func, select, update
from sqlalchemy.ext.asyncio import AsyncSession, async_sessionmaker

from autopilot.accounts.service import Caller
from autopilot.analytics.models import CompanyPage, CompanyPageDay
from autopilot.config import Settings
from autopilot.kit.db import upsert_insert
from autopilot.kit.errors import Unprocessable
from autopilot.kit.repository import TenantRepository
from autopilot.kit.time import as_utc, utcnow
from autopilot.linkedin import service as linkedin
from autopilot.linkedin.client import LinkedInClient, ScopeMissing, TokenRejected
from autopilot.linkedin.models import Integration, IntegrationStatus
from autopilot.worker import ledger
from autopilot.worker.policy import JobError, RateLimited
from autopilot.worker.registry import JobServices

log = structlog.get_logger(__name__)
T = TypeVar("T")

COMMUNITY_SCOPE = "rw_organization_admin"
BUDGET = "community_management"
DEVELOPMENT_TIER = (100, 500)  # calls a UTC day per member, per app
SYNC_KIND = "analytics.company_page_sync"
SYNC_EVERY = timedelta(days=1)
STALE_TOLERANCE = timedelta(minutes=1)
FIRST_SYNC_DAYS = 365  # LinkedIn answers at most the last 12 months; one call either way
LATER_SYNC_DAYS = 30  # recent days are revised by LinkedIn: read them again
NEEDS_PRODUCT = (
    "Company Pages need LinkedIn's Community Management API (scope rw_organization_admin), a product "
    "LinkedIn reviews and grants only to registered organizations."
)
UNSUPPORTED = NEEDS_PRODUCT + " This connection was not granted it."
NOT_CONFIGURED = (
    " This installation's LinkedIn app does not ask for it: an administrator can set "
    "AUTOPILOT_LINKEDIN_COMMUNITY_SCOPES once LinkedIn has approved the app for Community Management."
)


class CompanyPages(TenantRepository[CompanyPage]):
    model = CompanyPage
    noun = "company page"


pages = CompanyPages()


@dataclass(frozen=True)
class Connection:
    """A LinkedIn connection as Company Pages see it: may it read pages, and if not, why."""

    integration_id: uuid.UUID
    name: str
    supported: bool
    message: str
    can_reconnect: bool  # the app is configured to ask for the scope: reconnecting can grant it


@dataclass(frozen=True)
class Recent:
    """A page's last 30 days (None: LinkedIn gave no day in that period)."""

    impressions: int | None
    clicks: int | None
    reactions: int | None
    comments: int | None
    shares: int | None
    follower_gain: int | None


@dataclass(frozen=True)
class PageView:
    page: CompanyPage
    recent: Recent


def community_scopes(settings: Settings) -> str:
    return settings.linkedin_community_scopes.strip()


def connection_of(settings: Settings, integration: Integration) -> Connection:
    """Whether this connection may read Company Pages, in the words the page shows."""
    can_reconnect = COMMUNITY_SCOPE in community_scopes(settings).split()
    if integration.status != IntegrationStatus.CONNECTED.value:
        message = "This LinkedIn connection needs reconnecting on the Integrations page."
        return Connection(integration.id, integration.name, False, message, can_reconnect)
    if COMMUNITY_SCOPE in integration.scope_set:
        return Connection(integration.id, integration.name, True, "", can_reconnect)
    message = UNSUPPORTED + ("" if can_reconnect else NOT_CONFIGURED)
    return Connection(integration.id, integration.name, False, message, can_reconnect)


async def connections(session: AsyncSession, settings: Settings, org_id: uuid.UUID) -> list[Connection]:
    """The organization's LinkedIn connections (disconnected ones left out), with their support."""
    query = linkedin.integrations.scoped(org_id).order_by(Integration.created_at)
    found = await session.scalars(query.where(Integration.status != IntegrationStatus.DISCONNECTED.value))
    return [connection_of(settings, i) for i in found]


async def listed(session: AsyncSession, org_id: uuid.UUID) -> list[PageView]:
    """Every known page of the organization, tracked first, each with its last 30 days."""
    query = pages.scoped(org_id).order_by(CompanyPage.tracked.desc(), CompanyPage.name, CompanyPage.id)
    found = list(await session.scalars(query))
    recent = await _recent(session, org_id, [p.id for p in found])
    return [PageView(p, recent.get(p.id, Recent(None, None, None, None, None, None))) for p in found]


async def _recent(session: AsyncSession, org_id: uuid.UUID, page_ids: list[uuid.UUID]) -> dict[uuid.UUID, Recent]:
    if not page_ids:
        return {}
    since = utcnow().date() - timedelta(days=30)
    d = CompanyPageDay
    rows = await session.execute(
        select(
            d.page_id,
            func.sum(d.impressions),
            func.sum(d.clicks),
            func.sum(d.reactions),
            func.sum(d.comments),
            func.sum(d.shares),
            func.sum(func.coalesce(d.organic_follower_gain, 0) + func.coalesce(d.paid_follower_gain, 0)),
        )
        .where(d.org_id == org_id, d.page_id.in_(page_ids), d.day >= since)
        .group_by(d.page_id)
    )
    return {row[0]: Recent(*(None if value is None else int(value) for value in row[1:])) for row in rows}


async def page_days(session: AsyncSession, org_id: uuid.UUID, page_id: uuid.UUID, days: int) -> list[CompanyPageDay]:
    """The page's last *days* days, oldest first (404 for another organization's page)."""
    await pages.get(session, org_id, page_id)
    since = utcnow().date() - timedelta(days=days)
    query = (
        select(CompanyPageDay)
        .where(CompanyPageDay.org_id == org_id, CompanyPageDay.page_id == page_id, CompanyPageDay.day >= since)
        .order_by(CompanyPageDay.day)
    )
    return list(await session.scalars(query))


async def view(session: AsyncSession, org_id: uuid.UUID, page_id: uuid.UUID) -> PageView:
    page = await pages.get(session, org_id, page_id)
    recent = await _recent(session, org_id, [page.id])
    return PageView(page, recent.get(page.id, Recent(None, None, None, None, None, None)))


async def set_tracked(session: AsyncSession, org_id: uuid.UUID, page_id: uuid.UUID, tracked: bool) -> CompanyPage:
    """Track a page (its first sync is enqueued in this transaction) or stop tracking it. A guarded
    update: tracking a page already tracked enqueues nothing more."""
    page = await pages.get(session, org_id, page_id)
    now = utcnow()
    changed = await session.execute(
        update(CompanyPage)
        .where(CompanyPage.org_id == org_id, CompanyPage.id == page_id, CompanyPage.tracked.is_(not tracked))
        .values(tracked=tracked, updated_at=now, **({"next_sync_at": now} if tracked else {"next_sync_at": None}))
        .execution_options(synchronize_session=False)
    )
    if tracked and changed.rowcount == 1:  # type: ignore[attr-defined]
        await enqueue_sync(session, page, now)
    await session.refresh(page)
    return page


async def enqueue_sync(session: AsyncSession, page: CompanyPage, at: datetime) -> None:
    await ledger.enqueue(
        session,
        kind=SYNC_KIND,
        payload={"page_id": str(page.id)},
        org_id=page.org_id,
        run_at=at,
        dedupe_key=f"company-page:{page.id}:{at:%Y%m%dT%H%M%S}",
    )


# -- talking to LinkedIn ----------------------------------------------------------------------


class Reader:
    """Company Page calls for one connection: each call first counts against the daily budget (its
    own short transaction, so calls made stay counted whatever happens next), with a valid token;
    an expired token is refreshed once."""

    def __init__(
        self, sessions: async_sessionmaker[AsyncSession], services: JobServices, integration: Integration
    ) -> None:
        self.sessions, self.services, self.integration = sessions, services, integration
        self.settings = services.settings

    async def call(self, api: LinkedInClient, request: Callable[[LinkedInClient, str], Awaitable[T]]) -> T:
        per_member, per_app = DEVELOPMENT_TIER
        async with self.sessions() as session, session.begin():
            await linkedin.spend_budget(session, self.integration, BUDGET, per_member=per_member, per_app=per_app)
        services, org_id = self.services, self.integration.org_id
        args = (self.sessions, self.settings, services.http, services.keyring, org_id, self.integration.id)
        token, _ = await linkedin.access_token(*args, readers=services.readers)
        try:
            return await request(api, token)
        except TokenRejected as rejected:
            token, _ = await linkedin.token_rejected(*args, rejected, token)
            return await request(api, token)


def _organization(urn: str) -> Callable[[LinkedInClient, str], Awaitable[dict[str, Any]]]:
    return lambda api, token: api.organization(token, urn)


def _require_scope(settings: Settings, integration: Integration) -> None:
    connection = connection_of(settings, integration)
    if not connection.supported:
        raise Unprocessable(connection.message)


async def discover(
    sessions: async_sessionmaker[AsyncSession], services: JobServices, org_id: uuid.UUID, integration_id: uuid.UUID
) -> list[CompanyPage]:
    """Ask LinkedIn which pages this connection's member administers and remember them (new ones
    untracked; names refreshed). Without the scope: 422 with the reason, and no call is made."""
    async with sessions() as session:
        integration = await linkedin.integrations.get(session, org_id, integration_id)
        session.expunge(integration)
    _require_scope(services.settings, integration)
    reader = Reader(sessions, services, integration)
    found: list[tuple[str, dict[str, Any]]] = []
    async with linkedin.client(services.settings, services.http) as api:
        for urn in await reader.call(api, lambda a, t: a.administered_pages(t)):
            found.append((urn, await reader.call(api, _organization(urn))))
    async with sessions() as session, session.begin():
        now = utcnow()
        for urn, record in found:
            name = str(record.get("localizedName") or urn)[:200]
            vanity = str(record.get("vanityName") or "")[:200]
            insert = upsert_insert(session, CompanyPage)
            await session.execute(
                insert.values(
                    id=uuid.uuid4(), org_id=org_id, integration_id=integration_id, organization_urn=urn, name=name,
                    vanity_name=vanity, tracked=False, sync_state="pending", sync_detail="", created_at=now,
                    updated_at=now,
                ).on_conflict_do_update(
                    index_elements=["org_id", "integration_id", "organization_urn"],
                    set_={"name": name, "vanity_name": vanity, "updated_at": now},
                )
            )  # fmt: skip
        query = pages.scoped(org_id).where(CompanyPage.integration_id == integration_id).order_by(CompanyPage.name)
        result = list(await session.scalars(query))
        session.expunge_all()
    log.info("company_pages.discovered", integration_id=str(integration_id), pages=len(found))
    return result


def _ms(day: date) -> int:
    return int(datetime.combine(day, datetime.min.time(), UTC).timestamp() * 1000)


def _day_of(element: dict[str, Any]) -> date | None:
    start = (element.get("timeRange") or {}).get("start")
    return None if start is None else datetime.fromtimestamp(int(start) / 1000, UTC).date()


def _int(value: Any) -> int | None:
    return None if value is None else int(value)


async def _mark(
    sessions: async_sessionmaker[AsyncSession], page: CompanyPage, state: str, detail: str, next_at: datetime | None
) -> None:
    """Record why a sync did not complete, in its own transaction (the job's rolls back)."""
    async with sessions() as session, session.begin():
        await session.execute(
            update(CompanyPage)
            .where(CompanyPage.org_id == page.org_id, CompanyPage.id == page.id, CompanyPage.tracked.is_(True))
            .values(sync_state=state, sync_detail=detail[:500], next_sync_at=next_at, updated_at=utcnow())
            .execution_options(synchronize_session=False)
        )


async def sync(
    session: AsyncSession,
    sessions: async_sessionmaker[AsyncSession],
    services: JobServices,
    org_id: uuid.UUID,
    page_id: uuid.UUID,
) -> None:
    """One daily sync of a tracked page: its daily post statistics and follower gains and its follower
    total, stored in *session* (the job's transaction) and the next sync planned a day later.
    Missing scope: marked unsupported, nothing asked of LinkedIn, not retried. Throttled (429 or our
    own budget): marked and re-raised, so the job engine waits (Retry-After, or its backoff)."""
    async with (services.readers or sessions)() as reading:
        page = await pages.find(reading, org_id, page_id)
        integration = await linkedin.integrations.find(reading, org_id, page.integration_id) if page else None
        reading.expunge_all()
    if page is None or not page.tracked:
        return  # untracked (or gone) since this sync was planned
    if page.next_sync_at is not None and as_utc(page.next_sync_at) > utcnow() + STALE_TOLERANCE:
        return  # planned before the page was tracked again: the newer plan stands, this chain ends
    if integration is None:
        await _mark(sessions, page, "error", "the LinkedIn connection of this page no longer exists", None)
        return
    if COMMUNITY_SCOPE not in integration.scope_set:
        await _mark(sessions, page, "unsupported", connection_of(services.settings, integration).message, None)
        return
    today = utcnow().date()
    first = today - timedelta(days=LATER_SYNC_DAYS if page.synced_at else FIRST_SYNC_DAYS)
    start, end = _ms(first), _ms(today)
    urn = page.organization_urn
    reader = Reader(sessions, services, integration)
    try:
        async with linkedin.client(services.settings, services.http) as api:
            shares = await reader.call(api, lambda a, t: a.page_share_statistics(t, urn, start, end))
            gains = await reader.call(api, lambda a, t: a.page_follower_gains(t, urn, start, end))
            followers = await reader.call(api, lambda a, t: a.page_followers(t, urn))
    except ScopeMissing as exc:
        await _mark(sessions, page, "unsupported", f"{UNSUPPORTED} ({exc})", None)
        return
    except RateLimited as exc:
        wait = exc.retry_after_s
        retry_at = utcnow() + timedelta(seconds=wait) if wait is not None else None
        await _mark(sessions, page, "rate_limited", f"LinkedIn is throttling, retrying later: {exc}", retry_at)
        log.info("company_pages.throttled", page_id=str(page_id), retry_after_s=wait)
        raise
    except JobError as exc:
        await _mark(sessions, page, "error", str(exc), None)
        raise
    await _store(session, page, shares, gains, followers)
    log.info("company_pages.synced", page_id=str(page_id), days=len(shares), followers=followers)


async def _store(
    session: AsyncSession,
    page: CompanyPage,
    shares: list[dict[str, Any]],
    gains: list[dict[str, Any]],
    followers: int,
) -> None:
    days: dict[date, dict[str, int | None]] = {}
    for element in shares:
        day = _day_of(element)
        if day is None:
            continue
        stats = element.get("totalShareStatistics") or {}
        # Time buckets omit unique impressions; one sample spells it with an "s": read both (§2.2).
        unique = stats.get("uniqueImpressionsCount", stats.get("uniqueImpressionsCounts"))
        days.setdefault(day, {}).update(
            impressions=_int(stats.get("impressionCount")),
            unique_impressions=_int(unique),
            clicks=_int(stats.get("clickCount")),
            reactions=_int(stats.get("likeCount")),
            comments=_int(stats.get("commentCount")),
            shares=_int(stats.get("shareCount")),
        )
    for element in gains:
        day = _day_of(element)
        if day is None:
            continue
        figures = element.get("followerGains") or {}
        days.setdefault(day, {}).update(
            organic_follower_gain=_int(figures.get("organicFollowerGain")),
            paid_follower_gain=_int(figures.get("paidFollowerGain")),
        )
    now = utcnow()
    latest = max(days) if days else None
    for day, values in sorted(days.items()):
        if day == latest:
            values["followers"] = followers
        insert = upsert_insert(session, CompanyPageDay)
        await session.execute(
            insert.values(page_id=page.id, day=day, org_id=page.org_id, updated_at=now, **values).on_conflict_do_update(
                index_elements=["page_id", "day"], set_={**values, "updated_at": now}
            )
        )
    next_at = now + SYNC_EVERY
    done = await session.execute(
        update(CompanyPage)
        .where(CompanyPage.org_id == page.org_id, CompanyPage.id == page.id, CompanyPage.tracked.is_(True))
        .values(
            followers=followers, sync_state="ok", sync_detail="", synced_at=now, next_sync_at=next_at, updated_at=now
        )
        .execution_options(synchronize_session=False)
    )
    if done.rowcount == 1:  # type: ignore[attr-defined]
        await enqueue_sync(session, page, next_at)


# -- API shapes -------------------------------------------------------------------------------


class ConnectionOut(BaseModel):
    integration_id: uuid.UUID
    name: str
    supported: bool = Field(description="the connection was granted rw_organization_admin")
    message: str = Field(description="why Company Pages are unavailable for it, in words ('' when supported)")
    can_reconnect: bool = Field(description="reconnecting can ask for the scope (the app is configured for it)")


class RecentOut(BaseModel):
    """The last 30 days; null: LinkedIn gave no day in that period."""

    impressions: int | None
    clicks: int | None
    reactions: int | None
    comments: int | None
    shares: int | None
    follower_gain: int | None


class CompanyPageOut(BaseModel):
    id: uuid.UUID
    integration_id: uuid.UUID
    organization_urn: str
    name: str
    vanity_name: str
    tracked: bool
    followers: int | None
    sync_state: str = Field(description="pending | ok | unsupported | rate_limited | error")
    sync_detail: str
    synced_at: datetime | None
    next_sync_at: datetime | None
    last_30_days: RecentOut

    @classmethod
    def of(cls, found: PageView) -> CompanyPageOut:
        page = found.page
        return cls(
            id=page.id,
            integration_id=page.integration_id,
            organization_urn=page.organization_urn,
            name=page.name,
            vanity_name=page.vanity_name,
            tracked=page.tracked,
            followers=page.followers,
            sync_state=page.sync_state,
            sync_detail=page.sync_detail,
            synced_at=page.synced_at,
            next_sync_at=page.next_sync_at,
            last_30_days=RecentOut(**vars(found.recent)),
        )


class CompanyPagesOut(BaseModel):
    connections: list[ConnectionOut]
    pages: list[CompanyPageOut]


class PageDayOut(BaseModel):
    """One UTC day as LinkedIn reported it; counts may be negative (net figures)."""

    model_config = ConfigDict(from_attributes=True)

    day: date
    impressions: int | None
    unique_impressions: int | None
    clicks: int | None
    reactions: int | None
    comments: int | None
    shares: int | None
    organic_follower_gain: int | None
    paid_follower_gain: int | None
    followers: int | None


class CompanyPageDetailOut(CompanyPageOut):
    days: list[PageDayOut]


class ConnectOut(BaseModel):
    authorization_url: str


async def overview(session: AsyncSession, settings: Settings, org_id: uuid.UUID) -> CompanyPagesOut:
    """The connections with their support and every known page (the API's and the page's list)."""
    return CompanyPagesOut(
        connections=[ConnectionOut(**vars(c)) for c in await connections(session, settings, org_id)],
        pages=[CompanyPageOut.of(p) for p in await listed(session, org_id)],
    )


async def detail(session: AsyncSession, org_id: uuid.UUID, page_id: uuid.UUID, days: int) -> CompanyPageDetailOut:
    found = await view(session, org_id, page_id)
    series = [PageDayOut.model_validate(d) for d in await page_days(session, org_id, page_id, days)]
    return CompanyPageDetailOut(**CompanyPageOut.of(found).model_dump(), days=series)


async def start_reconnect(session: AsyncSession, caller: Caller, settings: Settings, return_to: str = "") -> str:
    """LinkedIn's authorization URL asking also for the Community Management scopes; 422 when this
    installation's LinkedIn app is not configured for them."""
    extra = community_scopes(settings)
    if COMMUNITY_SCOPE not in extra.split():
        raise Unprocessable(NEEDS_PRODUCT + NOT_CONFIGURED)
    return await linkedin.start_connect(session, caller, settings, return_to=return_to, extra_scopes=extra)
