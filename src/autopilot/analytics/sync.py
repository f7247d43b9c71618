"""The API sync of published posts: impressions, members reached, reactions, comments and reposts
read from LinkedIn (contract §5.1 memberCreatorPostAnalytics, §5.2 socialMetadata), on a cadence
that slows as a post ages, inside the app's daily budget.

How it is driven: one job per post and per planned read (`analytics.sync_post`, payload: the post
and the read's planned time), enqueued in the same transaction that plans it (outbox), deduplicated
on (post, planned time). The ledger row's `run_at` is the schedule, so nothing else polls; the
ledger's lease and attempt fence give each read to one runner, and the run re-checks that the post
still expects *this* read (`next_sync_at` equals the planned time) and moves `next_sync_at` with a
guarded UPDATE, so a late or duplicate delivery reads nothing twice in one slot. A periodic sweep
would need its own bootstrap and a claim protocol the ledger already is.

Cadence (chosen; LinkedIn's figures move most in the first hours): every 10 minutes while the post
is under 2 hours old, hourly until day 2, every 6 hours until day 7, daily until day 30, weekly until
day 90; then the sync is "done" and the last figures stay.

What is read depends on the scopes LinkedIn granted (both products are reviewed by LinkedIn, §1.1):
with r_member_postAnalytics the five figures (five calls, one per metric); with only the social-feed
scope (r_member_social_feed or r_member_social) reactions and comments from socialMetadata (one call),
the others stay unknown (NULL, never a made-up 0); with neither, the post is "unsupported" and no
call is made.

Budget: every call is counted in linkedin's daily buckets (`linkedin.service.spend`) before it is
made, in a short transaction of its own, so concurrent workers share one budget and it is never
exceeded. When a read would leave less than a fifth of the day's budget, only fresh posts (under 2
days) are read and the older ones wait for the reset at midnight UTC: the freshest posts get what is
left. Throttling (429): Retry-After when LinkedIn sends one (it documents none, §6/§11.8), else an
exponential wait; the post stays due and is only shown as failing after several refusals in a row."""

from __future__ import annotations

import math
import random
import uuid
from collections.abc import Awaitable, Callable
from dataclasses import dataclass
from datetime import datetime, timedelta
from typing import Any, TypeVar

import structlog
from sqlalchemy import update
from sqlalchemy.ext.asyncio import AsyncSession, async_sessionmaker

from autopilot.analytics import prediction
from autopilot.analytics.models import AnalyticsPost, AnalyticsSample
from autopilot.kit.db import upsert_insert
from autopilot.kit.repository import TenantRepository
from autopilot.kit.time import as_utc, utcnow
from autopilot.linkedin import service as linkedin
from autopilot.linkedin.client import LinkedInClient, ScopeMissing, TokenRejected
from autopilot.worker import ledger
from autopilot.worker.policy import PermanentError, RateLimited, TransientError
from autopilot.worker.registry import JobServices

log = structlog.get_logger(__name__)
T = TypeVar("T")

SYNC_KIND = "analytics.sync_post"
# (age below which, read every): the cadence slows as the post ages; past the last age: done.
CADENCE: tuple[tuple[timedelta, timedelta], ...] = (
    (timedelta(hours=2), timedelta(minutes=10)),
    (timedelta(days=2), timedelta(hours=1)),
    (timedelta(days=7), timedelta(hours=6)),
    (timedelta(days=30), timedelta(days=1)),
    (timedelta(days=90), timedelta(days=7)),
)
FRESH = timedelta(days=2)  # near the end of the budget, only posts younger than this are read
RESERVE_SHARE = 0.2  # the share of the day's budget kept for fresh posts
THROTTLE_BASE_S, THROTTLE_CAP_S = 60.0, 3600.0
FAILURES_SHOWN = 5  # refusals in a row before the post says its sync is failing
METRICS = {  # our column -> memberCreatorPostAnalytics queryType (§5.1)
    "impressions": "IMPRESSION",
    "members_reached": "MEMBERS_REACHED",
    "reactions": "REACTION",
    "comments": "COMMENT",
    "reposts": "RESHARE",
}
NO_SCOPE = (
    "LinkedIn has not granted this connection r_member_postAnalytics (Community Management API) nor "
    "r_member_social_feed: LinkedIn reviews both products before an app may read post figures, so they "
    "cannot be synced; import your LinkedIn analytics export instead."
)
FEED_ONLY = (
    "Reactions and comments are synced; impressions, members reached and reposts need "
    "r_member_postAnalytics, a scope of LinkedIn's reviewed Community Management API that this "
    "connection lacks (import your analytics export for them)."
)


class AnalyticsPosts(TenantRepository[AnalyticsPost]):
    model = AnalyticsPost
    noun = "analytics post"


posts = AnalyticsPosts()


def next_read(published_at: datetime, now: datetime) -> datetime | None:
    """When to read a post published at *published_at* next, read at *now*; None: no more reads."""
    age = now - published_at
    for below, every in CADENCE:
        if age < below:
            return (now + every).replace(microsecond=0)
    return None


@dataclass(frozen=True)
class Reads:
    """The calls the granted scopes allow for one read of one post, and what is left out."""

    metrics: tuple[str, ...]  # our column names, read through memberCreatorPostAnalytics
    social: bool  # socialMetadata (reactions, comments)
    left_out: str  # "" when everything is read

    @property
    def calls(self) -> dict[str, int]:
        """Calls per linkedin budget endpoint."""
        needed = {"analytics": len(self.metrics), "social_metadata": int(self.social)}
        return {endpoint: n for endpoint, n in needed.items() if n}


def reads_allowed(scopes: frozenset[str]) -> Reads:
    allowed = linkedin.capabilities(scopes)
    if allowed.can_read_analytics:
        return Reads(tuple(METRICS), social=False, left_out="")
    if allowed.can_read_comments:
        return Reads((), social=True, left_out=FEED_ONLY)
    return Reads((), social=False, left_out=NO_SCOPE)


def throttle_wait(failures: int, retry_after_s: float | None) -> float:
    """Seconds before the next try after *failures* refusals in a row: LinkedIn's Retry-After when
    sent, else exponential with half jitter, capped."""
    if retry_after_s is not None:
        return retry_after_s
    ceiling = min(THROTTLE_CAP_S, THROTTLE_BASE_S * 2 ** max(0, failures - 1))
    return random.uniform(ceiling / 2, ceiling)  # spreading retries, not a secret


# -- planning ----------------------------------------------------------------------------------


def _first_read(published_at: datetime) -> datetime:
    return (published_at + CADENCE[0][1]).replace(microsecond=0)


def _read_job(post_id: uuid.UUID, org_id: uuid.UUID, due: datetime) -> ledger.NewJob:
    return ledger.NewJob(
        kind=SYNC_KIND,
        payload={"post_id": str(post_id), "due": due.isoformat()},
        org_id=org_id,
        run_at=due,
        dedupe_key=f"{post_id}:{due:%Y%m%dT%H%M%S}",
    )


async def plan(session: AsyncSession, post_id: uuid.UUID, org_id: uuid.UUID, due: datetime) -> None:
    """Enqueue the read of *post_id* planned at *due* (outbox: it exists when the caller commits)."""
    await ledger.enqueue_many(session, [_read_job(post_id, org_id, due)])


async def track(
    session: AsyncSession,
    org_id: uuid.UUID,
    content_id: uuid.UUID,
    integration_id: uuid.UUID | None,
    share_urn: str,
    published_at: datetime,
    text: str | None,
    media_type: str | None,
) -> AnalyticsPost:
    """See `analytics.service.track_published`."""
    now = utcnow()
    due = _first_read(published_at)
    new_id = await session.scalar(
        upsert_insert(session, AnalyticsPost)
        .values(
            id=uuid.uuid4(), org_id=org_id, integration_id=integration_id, content_id=content_id,
            origin="published", share_urn=share_urn, activity_id=None,
            url=f"https://www.linkedin.com/feed/update/{share_urn}/", published_at=published_at, text=text,
            media_type=media_type, sync_state="pending", sync_detail="", next_sync_at=due, sync_failures=0,
            created_at=now, updated_at=now,
        )
        .on_conflict_do_nothing()
        .returning(AnalyticsPost.id)
    )  # fmt: skip
    if new_id is not None:
        await plan(session, new_id, org_id, due)
        return await posts.get(session, org_id, new_id)
    found = await session.scalar(
        posts.scoped(org_id)
        .where((AnalyticsPost.content_id == content_id) | (AnalyticsPost.share_urn == share_urn))
        .order_by(AnalyticsPost.content_id.is_(None))  # our own row first
        .limit(1)
    )
    assert found is not None, "the insert conflicted with a row that is not there"
    if found.sync_state == "none":  # known from an import until now: ours, and synced from here on
        found.content_id = found.content_id or content_id
        found.integration_id = found.integration_id or integration_id
        found.share_urn = found.share_urn or share_urn
        found.published_at = found.published_at or published_at
        found.text = found.text if found.text is not None else text
        found.media_type = found.media_type or media_type
        found.sync_state, found.next_sync_at = "pending", due
        await session.flush()
        await plan(session, found.id, org_id, due)
    return found


@dataclass(frozen=True)
class PublishedPost:
    """A post of ours that LinkedIn created (see `analytics.service.track_published_many`)."""

    org_id: uuid.UUID
    content_id: uuid.UUID
    integration_id: uuid.UUID | None
    share_urn: str
    published_at: datetime
    text: str | None
    media_type: str | None


async def track_many(session: AsyncSession, published: list[PublishedPost]) -> None:
    """`track` for many posts with one INSERT and one enqueue of their first reads (the publish
    jobs' successes are recorded in batches); a post already known (same content or URN) goes
    through `track` on its own."""
    if not published:
        return
    now = utcnow()
    ids = [uuid.uuid4() for _ in published]
    rows: list[dict[str, Any]] = [
        dict(
            id=new_id, org_id=p.org_id, integration_id=p.integration_id, content_id=p.content_id,
            origin="published", share_urn=p.share_urn, activity_id=None,
            url=f"https://www.linkedin.com/feed/update/{p.share_urn}/", published_at=p.published_at, text=p.text,
            media_type=p.media_type, sync_state="pending", sync_detail="", next_sync_at=_first_read(p.published_at),
            sync_failures=0, created_at=now, updated_at=now,
        )
        for new_id, p in zip(ids, published, strict=True)
    ]  # fmt: skip
    table = AnalyticsPost.__table__
    inserted = set(
        (
            await session.scalars(
                upsert_insert(session, table).values(rows).on_conflict_do_nothing().returning(table.c.id)
            )
        ).all()
    )
    await ledger.enqueue_many(
        session,
        [
            _read_job(new_id, p.org_id, _first_read(p.published_at))
            for new_id, p in zip(ids, published, strict=True)
            if new_id in inserted
        ],
    )
    for new_id, p in zip(ids, published, strict=True):
        if new_id not in inserted:  # known already (an import of the same URN, or tracked before)
            await track(
                session, p.org_id, p.content_id, p.integration_id, p.share_urn, p.published_at, p.text, p.media_type
            )


# -- one read ----------------------------------------------------------------------------------


@dataclass(frozen=True)
class Figures:
    """One read's figures; None: not read (the scopes do not allow it)."""

    impressions: int | None = None
    members_reached: int | None = None
    reactions: int | None = None
    comments: int | None = None
    reposts: int | None = None

    def values(self) -> dict[str, int]:
        return {k: v for k, v in vars(self).items() if v is not None}


class PostSync:
    """One run of the sync job for one post (the job's session commits what it writes)."""

    def __init__(
        self,
        sessions: async_sessionmaker[AsyncSession],
        services: JobServices,
        org_id: uuid.UUID,
        post_id: uuid.UUID,
        due: datetime,
    ) -> None:
        self.sessions, self.services, self.org_id, self.post_id = sessions, services, org_id, post_id
        self.due = as_utc(due)
        self.readers = services.readers or sessions

    async def run(self, session: AsyncSession) -> None:
        async with self.readers() as reading:
            post = await posts.find(reading, self.org_id, self.post_id)
            if post is None or post.sync_state not in ("pending", "ok", "error") or post.next_sync_at is None:
                return
            if as_utc(post.next_sync_at) != self.due:
                return  # this read was replanned or done since: the job for the current plan does it
            integration = (
                await linkedin.integrations.find(reading, self.org_id, post.integration_id)
                if post.integration_id
                else None
            )
            reading.expunge_all()
        now = utcnow()
        if integration is None or not post.share_urn:
            await self._settle(session, state="error", detail="the LinkedIn connection of this post is gone")
            return
        reads = reads_allowed(integration.scope_set)
        if not reads.calls:
            await self._settle(session, state="unsupported", detail=reads.left_out)
            log.info("analytics.sync.unsupported", post_id=str(self.post_id))
            return
        published = as_utc(post.published_at or post.created_at)
        if not await self._spend(integration, reads, fresh=now - published < FRESH):
            # A few minutes of spread, so the waiting posts do not all ask at 00:00:00.
            wait_until = linkedin.next_budget_reset(now) + timedelta(seconds=random.randint(0, 600))
            await self._replan(
                session, wait_until, post.sync_state, post.sync_failures,
                "waiting for LinkedIn's daily budget: the freshest posts are read first; it resets at midnight UTC",
            )  # fmt: skip
            return
        try:
            figures = await self._read(integration, post.share_urn, reads)
        except ScopeMissing as refused:
            await self._settle(session, state="unsupported", detail=f"{NO_SCOPE} ({refused})")
            return
        except (RateLimited, TransientError) as refused:
            failures = post.sync_failures + 1
            wait = throttle_wait(failures, refused.retry_after_s if isinstance(refused, RateLimited) else None)
            # A wait, not an error: the post says so only once the refusals persist.
            shown = failures >= FAILURES_SHOWN
            state = "error" if shown else post.sync_state
            detail = f"LinkedIn refused {failures} reads in a row, still retrying: {refused}"
            detail = detail if shown else post.sync_detail
            log.info("analytics.sync.retry", post_id=str(self.post_id), failures=failures, wait_s=round(wait))
            await self._replan(session, now + timedelta(seconds=wait), state, failures, detail)
            return
        except PermanentError as refused:
            await self._settle(session, state="error", detail=f"LinkedIn refused the read: {refused}")
            return
        # Only a post's first reactions and comments add to the posts the forecast can learn from.
        learnable = post.reactions is None or post.comments is None
        await self._store(session, figures, reads, published, now, learnable=learnable)

    async def _spend(self, integration: Any, reads: Reads, *, fresh: bool) -> bool:
        """Count the read's calls in the day's budget before making them (one short transaction);
        False when the budget (or, for a post that is not fresh, what the reserve leaves) is short."""
        settings = self.services.settings
        reserve = math.ceil(settings.linkedin_app_daily_calls * RESERVE_SHARE)
        try:
            async with self.sessions() as session, session.begin():
                for endpoint, calls in reads.calls.items():
                    left = await linkedin.app_calls_left(session, settings, endpoint)
                    if left < calls or (not fresh and left - calls < reserve):
                        return False
                for endpoint, calls in reads.calls.items():
                    for _ in range(calls):
                        await linkedin.spend(session, settings, integration, endpoint)
        except RateLimited:  # another worker took the last calls since: all of this read's count rolls back
            return False
        return True

    async def _read(self, integration: Any, urn: str, reads: Reads) -> Figures:
        async def read(api: LinkedInClient, token: str) -> Figures:
            found: dict[str, int] = {}
            for column in reads.metrics:
                found[column] = await api.post_metric(token, urn, METRICS[column])
            if reads.social:
                counts = await api.social_metadata(token, urn)
                found["reactions"] = counts.reactions
                if counts.comments is not None:
                    found["comments"] = counts.comments
            return Figures(**found)

        async with linkedin.client(self.services.settings, self.services.http) as api:
            return await self._with_token(integration.id, lambda token: read(api, token))

    async def _with_token(self, integration_id: uuid.UUID, call: Callable[[str], Awaitable[T]]) -> T:
        """Run *call* with a valid token; after a 401 for an expired one, refresh once and retry.
        A token that cannot be renewed raises AuthFailed: the engine holds the job until reconnect."""
        s = self.services
        args = (self.sessions, s.settings, s.http, s.keyring, self.org_id, integration_id)
        token, _ = await linkedin.access_token(*args, readers=self.readers)
        try:
            return await call(token)
        except TokenRejected as rejected:
            token, _ = await linkedin.token_rejected(*args, rejected, token)
            return await call(token)

    def _guarded(self) -> Any:
        return update(AnalyticsPost).where(
            AnalyticsPost.org_id == self.org_id,
            AnalyticsPost.id == self.post_id,
            AnalyticsPost.next_sync_at == self.due,
        )

    async def _settle(self, session: AsyncSession, *, state: str, detail: str) -> None:
        """No more reads for this post (unsupported, gone, refused for good)."""
        await session.execute(
            self._guarded()
            .values(sync_state=state, sync_detail=detail, next_sync_at=None, updated_at=utcnow())
            .execution_options(synchronize_session=False)
        )

    async def _replan(self, session: AsyncSession, at: datetime, state: str, failures: int, detail: str) -> None:
        """Try again at *at*: the post stays due (a wait, not an error, until it persists)."""
        at = at.replace(microsecond=0)
        moved = await session.execute(
            self._guarded()
            .values(sync_state=state, sync_detail=detail, sync_failures=failures, next_sync_at=at, updated_at=utcnow())
            .execution_options(synchronize_session=False)
        )
        if moved.rowcount == 1:  # type: ignore[attr-defined]
            await plan(session, self.post_id, self.org_id, at)

    async def _store(
        self,
        session: AsyncSession,
        figures: Figures,
        reads: Reads,
        published: datetime,
        now: datetime,
        *,
        learnable: bool,
    ) -> None:
        """The latest figures on the post, one sample, and the next read (or done)."""
        following = next_read(published, now)
        values = figures.values()
        stored = await session.execute(
            self._guarded()
            .values(
                **values, figures_source="api", figures_at=now, synced_at=now, sync_failures=0,
                sync_state="ok" if following else "done", sync_detail=reads.left_out, next_sync_at=following,
                updated_at=now,
            )
            .execution_options(synchronize_session=False)
        )  # fmt: skip
        if stored.rowcount != 1:  # type: ignore[attr-defined]
            return  # another run stored this slot's read first
        session.add(AnalyticsSample(org_id=self.org_id, post_id=self.post_id, at=now, source="api", **values))
        await session.flush()
        if following is not None:
            await plan(session, self.post_id, self.org_id, following)
        if learnable:  # the forecast learns from new posts' figures (a re-read counts no new post)
            await prediction.retrain_if_due(session, self.org_id)
        log.info("analytics.sync.read", post_id=str(self.post_id), next_at=str(following), **values)


async def figures_of(session: AsyncSession, org_id: uuid.UUID, content_id: uuid.UUID) -> AnalyticsPost | None:
    """See `analytics.service.post_figures`."""
    found: AnalyticsPost | None = await session.scalar(
        posts.scoped(org_id).where(AnalyticsPost.content_id == content_id)
    )
    return found
