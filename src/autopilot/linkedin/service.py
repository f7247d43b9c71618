"""Connect a LinkedIn member, keep the tokens alive, and lend a valid access token to callers.

Tokens live in the vault, encrypted; this module is the only reader. A refresh happens under a
row lock on the integration (`SELECT … FOR UPDATE` on PostgreSQL, the write lock on SQLite), so
any number of callers on any number of processes cause one refresh: the others wait for the lock
and then find the fresh token. Without a refresh token, owners are reminded 14, 7 and 1 days
before expiry (jobs enqueued at connection time: the database is the schedule). A token LinkedIn
rejects marks the integration "needs reconnect"; the posts waiting on it are held by the job
engine (never failed) and released when the member reconnects."""

from __future__ import annotations

import hashlib
import secrets
import uuid
from collections import Counter
from collections.abc import AsyncIterator, Collection, Mapping
from contextlib import asynccontextmanager
from dataclasses import dataclass
from datetime import date, datetime, timedelta
from typing import Any

import httpx
from sqlalchemy import select, update
from sqlalchemy.ext.asyncio import AsyncSession, async_sessionmaker

from autopilot.accounts.service import Caller
from autopilot.config import Settings
from autopilot.kit.crypto import KeyRing
from autopilot.kit.db import upsert_insert
from autopilot.kit.errors import BadRequest, Forbidden, NotFound
from autopilot.kit.http import ClientPool
from autopilot.kit.repository import TenantRepository
from autopilot.kit.time import utcnow
from autopilot.linkedin.client import LinkedInClient, OAuthError, TokenRejected, Tokens
from autopilot.linkedin.models import DailyUsage, Integration, IntegrationStatus, OAuthState, Reminder
from autopilot.notifications.service import alert_owners
from autopilot.vault.service import delete_secrets, find_secret, find_secrets, put_secret
from autopilot.worker import ledger
from autopilot.worker.policy import AuthFailed, JobError, RateLimited

STATE_TTL = timedelta(minutes=10)
REFRESH_MARGIN = timedelta(minutes=5)  # an access token this close to expiry is refreshed first
PROACTIVE_REFRESH = timedelta(days=7)  # with a refresh token, refresh this long before expiry
REMINDER_DAYS = (14, 7, 1)
SANDBOX_CLIENT = ("sandbox-client-id", "sandbox-client-secret")
CALLBACK_PATH = "/api/v1/integrations/linkedin/callback"


class Integrations(TenantRepository[Integration]):
    model = Integration
    noun = "integration"


integrations = Integrations()


@dataclass(frozen=True)
class Capabilities:
    can_post: bool
    can_read_posts: bool
    can_read_analytics: bool
    can_read_comments: bool


def capabilities(scopes: frozenset[str]) -> Capabilities:
    return Capabilities(
        can_post="w_member_social" in scopes,
        can_read_posts="r_member_social" in scopes,
        can_read_analytics="r_member_postAnalytics" in scopes,
        can_read_comments="r_member_social_feed" in scopes or "r_member_social" in scopes,
    )


def _secret(integration_id: uuid.UUID, kind: str) -> str:
    return f"linkedin:{integration_id}:{kind}"


def redirect_uri(settings: Settings) -> str:
    return settings.public_url + CALLBACK_PATH


def sandbox_feed_url(settings: Settings) -> str | None:
    """The sandbox's member feed (HTML: the posts as members read them); None with real LinkedIn."""
    return f"{settings.linkedin_urls[1]}/_sandbox/feed" if settings.linkedin_sandbox else None


@asynccontextmanager
async def client(settings: Settings, pool: ClientPool) -> AsyncIterator[LinkedInClient]:
    client_id, client_secret = (
        (settings.linkedin_client_id, settings.linkedin_client_secret)
        if not settings.linkedin_sandbox
        else SANDBOX_CLIENT
    )
    auth_url, api_url = settings.linkedin_urls
    async with pool.client() as http:
        yield LinkedInClient(
            http,
            auth_url=auth_url,
            api_url=api_url,
            version=settings.linkedin_version,
            client_id=client_id,
            client_secret=client_secret,
            timeout=settings.linkedin_timeout_s,
        )


def _hash(state: str) -> str:
    return hashlib.sha256(state.encode()).hexdigest()


# -- connecting -------------------------------------------------------------------------------


async def start_connect(
    session: AsyncSession, caller: Caller, settings: Settings, *, return_to: str = "", extra_scopes: str = ""
) -> str:
    """Record a single-use state for this user and answer LinkedIn's authorization URL (asking for
    the configured scopes plus *extra_scopes*, e.g. Community Management's for Company Pages)."""
    state = secrets.token_urlsafe(32)
    now = utcnow()
    session.add(
        OAuthState(
            state_hash=_hash(state),
            org_id=caller.org_id,
            user_id=caller.user.id,
            return_to=return_to,
            created_at=now,
            expires_at=now + STATE_TTL,
        )
    )
    await session.flush()
    auth_url, _ = settings.linkedin_urls
    probe = LinkedInClient(
        httpx.AsyncClient(),  # never used: the URL is built, not fetched
        auth_url=auth_url,
        api_url="",
        version=settings.linkedin_version,
        client_id=settings.linkedin_client_id or SANDBOX_CLIENT[0],
        client_secret="",
    )
    scopes = " ".join(dict.fromkeys(f"{settings.linkedin_scopes} {extra_scopes}".split()))
    return probe.authorization_url(redirect_uri=redirect_uri(settings), state=state, scopes=scopes)


@dataclass(frozen=True)
class StartedBy:
    org_id: uuid.UUID
    user_id: uuid.UUID
    return_to: str


async def consume_state(session: AsyncSession, state: str) -> StartedBy:
    """Use the state once: a guarded update, so two callbacks with one state cannot both pass."""
    now = utcnow()
    row = (
        await session.execute(
            update(OAuthState)
            .where(OAuthState.state_hash == _hash(state), OAuthState.used_at.is_(None), OAuthState.expires_at > now)
            .values(used_at=now)
            .returning(OAuthState.org_id, OAuthState.user_id, OAuthState.return_to)
        )
    ).first()
    if row is None:
        raise BadRequest(
            "This LinkedIn authorization is unknown, already used or older than 10 minutes: start connecting again."
        )
    return StartedBy(org_id=row.org_id, user_id=row.user_id, return_to=row.return_to)


@dataclass(frozen=True)
class Grant:
    tokens: Tokens
    member_id: str
    name: str
    email: str
    picture: str


async def exchange(settings: Settings, pool: ClientPool, code: str) -> Grant:
    """Code → tokens → verified id_token → userinfo. Network only: no transaction is open."""
    async with client(settings, pool) as linkedin:
        try:
            tokens = await linkedin.exchange_code(code, redirect_uri(settings))
        except OAuthError as exc:
            raise BadRequest(f"LinkedIn refused the authorization code: {exc.description or exc.error}") from exc
        claims: dict[str, Any] = {}
        if tokens.id_token:
            try:
                claims = await linkedin.verify_id_token(tokens.id_token)
            except Exception as exc:  # a forged or foreign id_token: nothing is stored
                raise BadRequest(f"LinkedIn's identity token did not verify ({type(exc).__name__})") from exc
        info = await linkedin.userinfo(tokens.access_token)
    member_id = str(info.get("sub") or "")
    if not member_id or (claims and claims.get("sub") != member_id):
        raise BadRequest("LinkedIn's identity token and profile name different members: nothing was connected")
    return Grant(
        tokens=tokens,
        member_id=member_id,
        name=str(info.get("name", "")),
        email=str(info.get("email", "")),
        picture=str(info.get("picture", "")),
    )


async def store_grant(session: AsyncSession, ring: KeyRing, started: StartedBy, grant: Grant) -> Integration:
    """Create or update the organization's integration for this member, tokens in the vault.
    A reconnect without a refresh token keeps the one stored before; held posts are released."""
    tokens = grant.tokens
    existing = await session.scalar(
        select(Integration)
        .where(Integration.org_id == started.org_id, Integration.member_id == grant.member_id)
        .with_for_update()
    )
    if existing is None:
        integration = Integration(org_id=started.org_id, member_id=grant.member_id, refresh_expires_at=None)
        session.add(integration)
    else:
        integration = existing
    integration.connected_by = started.user_id
    integration.name, integration.email, integration.picture = grant.name, grant.email, grant.picture
    integration.scopes = " ".join(sorted(tokens.scopes))
    integration.status, integration.status_reason = IntegrationStatus.CONNECTED.value, ""
    integration.access_expires_at = tokens.access_expires_at
    await session.flush()
    await put_secret(session, ring, started.org_id, _secret(integration.id, "access"), tokens.access_token)
    if tokens.refresh_token:
        integration.refresh_expires_at = tokens.refresh_expires_at
        await put_secret(session, ring, started.org_id, _secret(integration.id, "refresh"), tokens.refresh_token)
    await _plan_token_jobs(session, integration, has_refresh=await _has_refresh(session, ring, integration))
    await ledger.release_held(session, org_id=started.org_id, error_class="auth")
    return integration


async def _has_refresh(session: AsyncSession, ring: KeyRing, integration: Integration) -> bool:
    refresh = await find_secret(session, ring, integration.org_id, _secret(integration.id, "refresh"))
    usable = integration.refresh_expires_at is None or integration.refresh_expires_at > utcnow()
    return bool(refresh) and usable


async def _plan_token_jobs(session: AsyncSession, integration: Integration, *, has_refresh: bool) -> None:
    """Enqueue what this expiry needs: a proactive refresh, or reminders and the expiry itself.
    Keys name the expiry, so a later connection plans its own and the stale ones find nothing to do."""
    expires = integration.access_expires_at
    stamp = int(expires.timestamp())
    payload = {"integration_id": str(integration.id), "expires_at": expires.isoformat()}
    now = utcnow()
    if has_refresh:
        await ledger.enqueue(
            session,
            kind="linkedin.refresh",
            payload=payload,
            org_id=integration.org_id,
            run_at=max(now, expires - PROACTIVE_REFRESH),
            dedupe_key=f"refresh:{integration.id}:{stamp}",
        )
        return
    for days in REMINDER_DAYS:
        at = expires - timedelta(days=days)
        if at > now:
            await ledger.enqueue(
                session,
                kind="linkedin.reminder",
                payload={**payload, "days_before": days},
                org_id=integration.org_id,
                run_at=at,
                dedupe_key=f"reminder:{integration.id}:{stamp}:{days}",
            )
    await ledger.enqueue(
        session,
        kind="linkedin.expired",
        payload=payload,
        org_id=integration.org_id,
        run_at=max(now, expires),
        dedupe_key=f"expired:{integration.id}:{stamp}",
    )


async def list_integrations(session: AsyncSession, caller: Caller) -> list[Integration]:
    query = integrations.scoped(caller.org_id).order_by(Integration.created_at)
    return list(await session.scalars(query))


async def disconnect(session: AsyncSession, caller: Caller, integration_id: uuid.UUID) -> Integration:
    integration = await integrations.get(session, caller.org_id, integration_id)
    if not caller.is_manager and integration.connected_by != caller.user.id:
        raise Forbidden("only the member who connected it, an owner or an admin can disconnect it")
    await delete_secrets(
        session, caller.org_id, [_secret(integration.id, "access"), _secret(integration.id, "refresh")]
    )
    integration.status, integration.status_reason = IntegrationStatus.DISCONNECTED.value, "disconnected by a user"
    integration.refresh_expires_at = None
    await session.flush()
    return integration


# -- lending a token --------------------------------------------------------------------------


async def needs_reconnect(session: AsyncSession, integration: Integration, reason: str, *, email: bool) -> None:
    """Mark the integration and tell the owners once (a guarded update: concurrent callers alert once)."""
    result = await session.execute(
        update(Integration)
        .where(Integration.id == integration.id, Integration.status == IntegrationStatus.CONNECTED.value)
        .values(status=IntegrationStatus.NEEDS_RECONNECT.value, status_reason=reason[:500], updated_at=utcnow())
        .execution_options(synchronize_session=False)
    )
    if result.rowcount == 1:  # type: ignore[attr-defined]
        await alert_owners(
            session,
            integration.org_id,
            kind="linkedin_reconnect",
            message=f"LinkedIn ({integration.name or integration.member_id}) needs to be reconnected: {reason}. "
            "Posts waiting for it are on hold and will go out once you reconnect on the Integrations page.",
            email=email,
        )


async def _locked(session: AsyncSession, org_id: uuid.UUID, integration_id: uuid.UUID) -> Integration:
    found = await session.scalar(
        select(Integration)
        .where(Integration.id == integration_id, Integration.org_id == org_id)
        .with_for_update()
        .execution_options(populate_existing=True)
    )
    if found is None:
        raise NotFound(f"no integration with id {integration_id}")
    return found


async def stored_access_token(
    session: AsyncSession, ring: KeyRing, org_id: uuid.UUID, integration_id: uuid.UUID
) -> str | None:
    """The integration's access token as stored, read in the caller's transaction. Read it before
    the integration (see access_token), and use it only when `usable_now` says so."""
    return (await stored_access_tokens(session, ring, [(org_id, integration_id)])).get((org_id, integration_id))


async def stored_access_tokens(
    session: AsyncSession, ring: KeyRing, keys: Collection[tuple[uuid.UUID, uuid.UUID]]
) -> dict[tuple[uuid.UUID, uuid.UUID], str]:
    """`stored_access_token` for many (organization, integration) pairs, in one query."""
    names = {(org_id, _secret(integration_id, "access")): (org_id, integration_id) for org_id, integration_id in keys}
    found = await find_secrets(session, ring, list(names))
    return {names[key]: token for key, token in found.items()}


def _far_from_expiry(integration: Integration) -> bool:
    return integration.access_expires_at - utcnow() > REFRESH_MARGIN


def usable_now(integration: Integration) -> bool:
    """Connected, with an access token far enough from its expiry to use without a refresh."""
    return integration.status == IntegrationStatus.CONNECTED.value and _far_from_expiry(integration)


async def access_token(
    sessions: async_sessionmaker[AsyncSession],
    settings: Settings,
    pool: ClientPool,
    ring: KeyRing,
    org_id: uuid.UUID,
    integration_id: uuid.UUID,
    *,
    force_refresh: bool = False,
    unless_expiry_after: datetime | None = None,
    rejected: str | None = None,
    readers: async_sessionmaker[AsyncSession] | None = None,
) -> tuple[str, Integration]:
    """A usable access token for the integration, refreshed first when it is about to expire
    (or when LinkedIn just said it expired: *force_refresh*). Raises AuthFailed when a person must
    reconnect. Each step is its own short transaction; the refresh holds the integration's lock.
    The first step only reads: with *readers* (SQLite's read-only connections) it does not queue
    for the write lock."""
    async with (readers or sessions)() as session, session.begin():
        # The token first, then its expiry: under READ COMMITTED (PostgreSQL) a refresh committing
        # between the two reads then shows an old token with a new expiry (used, LinkedIn says
        # 401, and the newer token is found), never a new token with an old expiry, which would
        # be taken for stale and refreshed a second time.
        token = await stored_access_token(session, ring, org_id, integration_id)
        integration = await integrations.get(session, org_id, integration_id)
        fresh = _far_from_expiry(integration) and not force_refresh
        if unless_expiry_after is not None and integration.access_expires_at > unless_expiry_after:
            fresh = True  # refreshed since the caller planned this refresh
        if rejected is not None:  # LinkedIn said the token *rejected* expired: refresh unless replaced since
            fresh = token != rejected and _far_from_expiry(integration)
        if integration.status != IntegrationStatus.CONNECTED.value or token is None:
            raise AuthFailed(f"LinkedIn is not connected ({integration.status}): reconnect it on the Integrations page")
        if fresh:
            return token, integration
    return await _refresh(sessions, settings, pool, ring, org_id, integration_id, stale_token=rejected or token)


async def _refresh(
    sessions: async_sessionmaker[AsyncSession],
    settings: Settings,
    pool: ClientPool,
    ring: KeyRing,
    org_id: uuid.UUID,
    integration_id: uuid.UUID,
    *,
    stale_token: str,
) -> tuple[str, Integration]:
    email = bool(settings.smtp_host)
    async with sessions() as session, session.begin():
        integration = await _locked(session, org_id, integration_id)  # every other refresher waits here
        token = await find_secret(session, ring, org_id, _secret(integration_id, "access"))
        if token and token != stale_token and _far_from_expiry(integration):
            return token, integration  # someone refreshed while we waited for the lock
        refresh = await find_secret(session, ring, org_id, _secret(integration_id, "refresh"))
        if integration.status != IntegrationStatus.CONNECTED.value:
            raise AuthFailed(f"LinkedIn is not connected ({integration.status}): reconnect it on the Integrations page")
        if not refresh or (integration.refresh_expires_at and integration.refresh_expires_at <= utcnow()):
            failure: AuthFailed | None = AuthFailed("the LinkedIn access token expired and no refresh token is held")
        else:
            failure = None
            async with client(settings, pool) as linkedin:
                try:
                    tokens = await linkedin.refresh(refresh)
                except OAuthError as exc:
                    if not exc.must_reauthorize:
                        raise
                    failure = AuthFailed(f"LinkedIn refused the refresh token: {exc.description or exc.error}")
        if failure is None:
            integration.access_expires_at = tokens.access_expires_at
            if tokens.scopes:
                integration.scopes = " ".join(sorted(tokens.scopes))
            await put_secret(session, ring, org_id, _secret(integration_id, "access"), tokens.access_token)
            if tokens.refresh_token and tokens.refresh_token != refresh:
                await put_secret(session, ring, org_id, _secret(integration_id, "refresh"), tokens.refresh_token)
            if tokens.refresh_expires_at:
                integration.refresh_expires_at = tokens.refresh_expires_at
            await session.flush()
            await _plan_token_jobs(session, integration, has_refresh=True)
            return tokens.access_token, integration
        await needs_reconnect(session, integration, str(failure), email=email)
    raise failure


async def token_rejected(
    sessions: async_sessionmaker[AsyncSession],
    settings: Settings,
    pool: ClientPool,
    ring: KeyRing,
    org_id: uuid.UUID,
    integration_id: uuid.UUID,
    error: TokenRejected,
    used_token: str,
) -> tuple[str, Integration]:
    """LinkedIn said 401. An expired token is refreshed once (when we can); a revoked or invalid
    one marks the integration for reconnection. Returns a fresh token or raises AuthFailed."""
    if error.code == "EXPIRED_ACCESS_TOKEN":
        return await access_token(sessions, settings, pool, ring, org_id, integration_id, rejected=used_token)
    async with sessions() as session, session.begin():
        integration = await integrations.get(session, org_id, integration_id)
        await needs_reconnect(session, integration, str(error), email=bool(settings.smtp_host))
    raise AuthFailed(f"{error}; reconnect LinkedIn on the Integrations page")


# -- daily budgets ----------------------------------------------------------------------------


def _next_midnight_utc(now: datetime) -> datetime:
    return datetime.combine(now.date() + timedelta(days=1), datetime.min.time(), tzinfo=now.tzinfo)


class Paced(RateLimited):
    """The app's own per-minute pacing of post creation is spent: this call waits for its turn."""

    def __init__(self, message: str, *, retry_after_s: float, turn: datetime) -> None:
        super().__init__(message, retry_after_s=retry_after_s)
        self.turn = turn


async def pace(sessions: async_sessionmaker[AsyncSession], settings: Settings, endpoint: str) -> None:
    """With `linkedin_app_posts_per_minute`, post creation is paced per UTC minute: a call past
    the minute's budget is Paced to a later minute, the k-th one over to minute k // budget + 1, so
    a rush spreads evenly instead of everyone retrying at the same second. The count is committed
    even when the call is refused, so each refused call keeps its place."""
    per_minute = settings.linkedin_app_posts_per_minute
    if endpoint != "posts.create" or not per_minute:
        return
    now = utcnow()
    async with sessions() as session, session.begin():
        calls = await _count(session, now.date(), f"app:{endpoint}:minute:{now:%H%M}")
    if calls > per_minute:
        minute = now.replace(second=0, microsecond=0)
        turn = minute + timedelta(minutes=1 + (calls - per_minute - 1) // per_minute)
        raise Paced(
            f"spread: the app sends at most {per_minute} posts a minute to LinkedIn and this minute's are "
            f"taken; its turn comes at {turn:%H:%M} UTC",
            retry_after_s=(turn - now).total_seconds(),
            turn=turn,
        )


async def spend(session: AsyncSession, settings: Settings, integration: Integration, endpoint: str) -> None:
    """Count one call against the member's and the app's budget of the UTC day, atomically and
    before the call (so concurrent workers share one budget), in the caller's transaction: a
    refusal rolls the count back with it. RateLimited until midnight UTC when either is spent.
    Only post creation has a member budget we know (150 a day, contract §6)."""
    await spend_many(session, settings, [integration], endpoint)


async def spend_many(session: AsyncSession, settings: Settings, integrations: list[Integration], endpoint: str) -> None:
    """`spend` for one call per integration given, counted in one statement (publish jobs record
    their attempts in batches): RateLimited when any bucket goes over, and the caller's transaction,
    rolled back, counts none of them."""
    now = utcnow()
    app = f"app:{endpoint}"
    counts, limits = Counter({app: len(integrations)}), {app: settings.linkedin_app_daily_calls}
    if endpoint == "posts.create":
        for integration in integrations:
            member = f"member:{integration.member_id}:{endpoint}"
            counts[member] += 1
            limits[member] = settings.linkedin_member_daily_posts
    counted = await _count_many(session, now.date(), counts)
    for bucket, limit in limits.items():
        if counted[bucket] > limit:
            wait = (_next_midnight_utc(now) - now).total_seconds()
            raise RateLimited(
                f"the daily LinkedIn budget for {bucket.split(':')[0]} {endpoint} ({limit}) is spent; "
                "it resets at midnight UTC",
                retry_after_s=wait,
            )


async def spend_budget(
    session: AsyncSession, integration: Integration, budget: str, *, per_member: int, per_app: int
) -> None:
    """Count one call against a named daily budget shared by several endpoints (e.g. Community
    Management's Development tier), per member and per app, like `spend`: RateLimited until
    midnight UTC when either is spent; the count is part of the caller's transaction."""
    now = utcnow()
    limits = {f"app:{budget}": per_app, f"member:{integration.member_id}:{budget}": per_member}
    counted = await _count_many(session, now.date(), dict.fromkeys(limits, 1))
    for bucket, limit in limits.items():
        if counted[bucket] > limit:
            raise RateLimited(
                f"the daily LinkedIn budget for {budget} ({limit} calls per {bucket.split(':')[0]}) is spent; "
                "it resets at midnight UTC",
                retry_after_s=(_next_midnight_utc(now) - now).total_seconds(),
            )


async def _count(session: AsyncSession, day: date, bucket: str) -> int:
    insert = upsert_insert(session, DailyUsage)
    stmt = (
        insert.values(day=day, bucket=bucket, calls=1)
        .on_conflict_do_update(index_elements=["day", "bucket"], set_={"calls": DailyUsage.calls + 1})
        .returning(DailyUsage.calls)
    )
    return int(await session.scalar(stmt) or 0)


async def _count_many(session: AsyncSession, day: date, counts: Mapping[str, int]) -> dict[str, int]:
    """Add the calls counted per bucket with one statement (a write transaction on SQLite holds the
    lock for every round trip it makes); the buckets' new totals. Rows are locked in sorted order,
    so two transactions never wait for each other's rows in opposite orders."""
    insert = upsert_insert(session, DailyUsage)
    stmt = (
        insert.values([{"day": day, "bucket": bucket, "calls": counts[bucket]} for bucket in sorted(counts)])
        .on_conflict_do_update(
            index_elements=["day", "bucket"], set_={"calls": DailyUsage.calls + insert.excluded.calls}
        )
        .returning(DailyUsage.bucket, DailyUsage.calls)
    )
    return {bucket: int(calls) for bucket, calls in (await session.execute(stmt)).all()}


async def usage_today(session: AsyncSession, integration: Integration) -> int:
    calls = await session.scalar(
        select(DailyUsage.calls).where(
            DailyUsage.day == utcnow().date(), DailyUsage.bucket == f"member:{integration.member_id}:posts.create"
        )
    )
    return int(calls or 0)


async def app_calls_left(session: AsyncSession, settings: Settings, endpoint: str) -> int:
    """How many calls to *endpoint* the app's budget of the UTC day still allows (the `spend`
    buckets, read without counting): callers that can wait use it to leave the rest to urgent work."""
    calls = await session.scalar(
        select(DailyUsage.calls).where(DailyUsage.day == utcnow().date(), DailyUsage.bucket == f"app:{endpoint}")
    )
    return max(0, settings.linkedin_app_daily_calls - int(calls or 0))


def next_budget_reset(now: datetime) -> datetime:
    """When the daily budgets start again: the next midnight UTC (LinkedIn's reset, contract §6)."""
    return _next_midnight_utc(now)


# -- reminders, expiry, health ----------------------------------------------------------------


async def remind(
    session: AsyncSession,
    settings: Settings,
    org_id: uuid.UUID,
    integration_id: uuid.UUID,
    expires_at: datetime,
    days: int,
) -> bool:
    """Tell the owners the token expires in *days* days — once, and only if that expiry still holds."""
    integration = await integrations.find(session, org_id, integration_id)
    if (
        integration is None
        or integration.status != IntegrationStatus.CONNECTED.value
        or integration.access_expires_at != expires_at
    ):
        return False
    insert = upsert_insert(session, Reminder)
    inserted = await session.scalar(
        insert.values(
            id=uuid.uuid4(), integration_id=integration_id, expires_at=expires_at, days_before=days, sent_at=utcnow()
        )
        .on_conflict_do_nothing()
        .returning(Reminder.id)
    )
    if inserted is None:
        return False
    when = expires_at.strftime("%Y-%m-%d %H:%M UTC")
    await alert_owners(
        session,
        org_id,
        kind="linkedin_expiring",
        message=f"LinkedIn ({integration.name or integration.member_id}) must be reconnected within {days} "
        f"day{'s' if days != 1 else ''} (the access expires {when}); LinkedIn gives this app no refresh token. "
        "Reconnect on the Integrations page: it takes one click when you are logged in to LinkedIn.",
        email=bool(settings.smtp_host),
    )
    return True


async def expire(
    session: AsyncSession, settings: Settings, org_id: uuid.UUID, integration_id: uuid.UUID, expires_at: datetime
) -> None:
    integration = await integrations.find(session, org_id, integration_id)
    if integration is not None and integration.access_expires_at == expires_at:
        await needs_reconnect(session, integration, "the LinkedIn access token expired", email=bool(settings.smtp_host))


async def record_health(
    session: AsyncSession, org_id: uuid.UUID, integration_id: uuid.UUID, ok: bool, detail: str
) -> Integration:
    integration = await integrations.get(session, org_id, integration_id)
    integration.checked_at, integration.check_ok, integration.check_detail = utcnow(), ok, detail[:500]
    await session.flush()
    return integration


async def check_health(
    sessions: async_sessionmaker[AsyncSession],
    settings: Settings,
    pool: ClientPool,
    ring: KeyRing,
    org_id: uuid.UUID,
    integration_id: uuid.UUID,
) -> Integration:
    """Call userinfo with the integration's token (refreshing it if due) and record the result."""
    try:
        token, _ = await access_token(sessions, settings, pool, ring, org_id, integration_id)
        async with client(settings, pool) as linkedin:
            try:
                await linkedin.userinfo(token)
            except TokenRejected as rejected:
                token, _ = await token_rejected(sessions, settings, pool, ring, org_id, integration_id, rejected, token)
                await linkedin.userinfo(token)
        ok, detail = True, "LinkedIn answered"
    except JobError as exc:
        ok, detail = False, str(exc)
    async with sessions() as session, session.begin():
        integration = await record_health(session, org_id, integration_id, ok, detail)
        session.expunge(integration)
        return integration


async def readiness(
    session: AsyncSession, ring: KeyRing, settings: Settings, integration: Integration, at: datetime
) -> list[str]:
    """What would stop this connection from posting at *at*, in words for its owner (empty: ready)."""
    problems = []
    if integration.status != IntegrationStatus.CONNECTED.value:
        problems.append(f"the LinkedIn connection of {integration.name or 'this member'} needs reconnecting")
    elif not capabilities(integration.scope_set).can_post:
        problems.append("the LinkedIn connection may not post (w_member_social was not granted): reconnect it")
    elif integration.access_expires_at <= at and not await _has_refresh(session, ring, integration):
        problems.append("the LinkedIn token expires before then and cannot be refreshed: reconnect LinkedIn")
    if at.date() == utcnow().date() and await usage_today(session, integration) >= settings.linkedin_member_daily_posts:
        problems.append(f"today's LinkedIn budget of {settings.linkedin_member_daily_posts} posts is spent")
    return problems
