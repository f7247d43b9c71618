"""The dashboard's read side: each post's latest figures, the account's days, and the aggregations
the dashboard shows (medians by weekday-and-hour in the user's zone, by format, length and hashtag count).

Engagement rate, in one place: (reactions + comments + reposts) / impressions when the three counts
and the impressions are known (the API and the per-post export give them); otherwise the creator
export's own engagements / impressions, which also counts clicks, so it reads higher — each rate says
which basis it used. A figure LinkedIn did not give is unknown (None), never 0: a post without a
rate is left out of every median rather than counted as a zero (research:
linkedin-analytics-and-leads.md §1.2 — the export lists only its top posts).

The aggregations run in Python over the organization's rows, so both databases answer alike and the
user's zone (with its DST rules) is applied by zoneinfo, not by a database's time functions."""

from __future__ import annotations

import csv
import io
import re
import statistics
import uuid
from collections import defaultdict
from collections.abc import Callable, Iterable, Sequence
from dataclasses import dataclass, field
from datetime import UTC, date, datetime, time, timedelta
from typing import Literal
from zoneinfo import ZoneInfo

from sqlalchemy import func, select
from sqlalchemy.ext.asyncio import AsyncSession

from autopilot.analytics.models import AccountDay, AnalyticsImport, AnalyticsPost, AnalyticsSample
from autopilot.kit.time import as_utc

RateBasis = Literal["interactions", "engagements"]
MIN_GROUP = 3  # fewer posts than this in a group: its median says little, the dashboard says so
MAX_POSTS = 5000  # a personal account posts far fewer; the bound keeps one page cheap
WEEKDAYS = ("Mon", "Tue", "Wed", "Thu", "Fri", "Sat", "Sun")
# Length buckets in characters. LinkedIn cuts a post with "…see more" after about 210 characters
# on a phone and allows 3,000; the edges are ours, not LinkedIn's.
LENGTHS: tuple[tuple[str, int, int], ...] = (
    ("under 300 characters", 0, 300),
    ("300-1,299 characters", 300, 1300),
    ("1,300 characters or more", 1300, 10**9),
)
HASHTAG_GROUPS: tuple[tuple[str, int, int], ...] = (
    ("no hashtags", 0, 1),
    ("1-2 hashtags", 1, 3),
    ("3-5 hashtags", 3, 6),
    ("6 hashtags or more", 6, 10**9),
)
_HASHTAG = re.compile(r"(?<!\w)#\w+")
# A spreadsheet reads a cell starting with one of these as a formula (OWASP "CSV injection").
_FORMULA_START = ("=", "+", "-", "@", "\t", "\r")
CSV_COLUMNS = (
    "published_at",
    "text",
    "media_type",
    "impressions",
    "members_reached",
    "reactions",
    "comments",
    "reposts",
    "engagements",
    "engagement_rate",
    "engagement_rate_basis",
    "source",
    "figures_at",
    "synced_at",
    "sync_state",
    "url",
)


@dataclass(frozen=True)
class PostFigures:
    """One post's latest figures as the dashboard and the API show them (None = unknown)."""

    id: uuid.UUID
    content_id: uuid.UUID | None
    published_at: datetime | None
    text: str | None
    media_type: str | None
    url: str
    impressions: int | None
    members_reached: int | None
    reactions: int | None
    comments: int | None
    reposts: int | None
    engagements: int | None
    engagement_rate: float | None
    engagement_rate_basis: RateBasis | None
    source: str | None  # api | export | post_export
    figures_at: datetime | None  # when the figures were read (API) or exported (files)
    synced_at: datetime | None
    sync_state: str
    sync_detail: str


@dataclass(frozen=True)
class Sample:
    """A post's figures at one moment."""

    at: datetime
    source: str
    impressions: int | None
    members_reached: int | None
    reactions: int | None
    comments: int | None
    reposts: int | None


@dataclass(frozen=True)
class Day:
    """One day of the account: from the creator export's ENGAGEMENT and FOLLOWERS sheets."""

    day: date
    impressions: int | None
    engagements: int | None
    engagement_rate: float | None  # engagements / impressions (the export's basis)
    new_followers: int | None
    followers: int | None


@dataclass(frozen=True)
class Cell:
    """Posts published in one weekday-and-hour of the user's zone (weekday 0 = Monday)."""

    weekday: int
    hour: int
    posts: int
    median_engagement_rate: float


@dataclass(frozen=True)
class Group:
    """Posts of one format, length or hashtag count, with the median rate of those with a known one."""

    label: str
    posts: int
    median_engagement_rate: float | None  # None when fewer than MIN_GROUP posts have a known rate
    too_few: bool


@dataclass(frozen=True)
class Summary:
    """The dashboard's figures, each with the moment it was last synced or imported."""

    timezone: str
    start: date | None
    end: date | None
    posts: int
    posts_with_impressions: int
    impressions: int | None  # the sum over posts whose impressions are known
    median_engagement_rate: float | None
    followers: int | None  # the latest known total
    followers_on: date | None
    last_synced_at: datetime | None  # the latest API read of any post
    last_imported_at: datetime | None  # the latest export file imported
    account_days_updated_at: datetime | None
    days: list[Day] = field(default_factory=list)
    heatmap: list[Cell] = field(default_factory=list)
    by_format: list[Group] = field(default_factory=list)
    by_length: list[Group] = field(default_factory=list)
    by_hashtags: list[Group] = field(default_factory=list)


@dataclass(frozen=True)
class ContentAnalytics:
    """A content item's analytics: its figures (None = unknown), where and when they were read, the
    state of its API sync with the reason, and its figures over time. A post without figures yet
    answers its state ("pending", "unsupported" …), never zeros."""

    content_id: uuid.UUID
    post_id: uuid.UUID | None
    published_at: datetime | None
    impressions: int | None
    members_reached: int | None
    reactions: int | None
    comments: int | None
    reposts: int | None
    engagements: int | None
    engagement_rate: float | None
    engagement_rate_basis: RateBasis | None
    source: str | None
    figures_at: datetime | None
    synced_at: datetime | None
    sync_state: str
    sync_detail: str
    samples: list[Sample] = field(default_factory=list)


@dataclass(frozen=True)
class Window:
    """The period asked for, as local dates of the user's zone (both ends included; None = open)."""

    zone: ZoneInfo
    start: date | None = None
    end: date | None = None

    def utc_bounds(self) -> tuple[datetime | None, datetime | None]:
        start = datetime.combine(self.start, time(), self.zone).astimezone(UTC) if self.start else None
        end = datetime.combine(self.end + timedelta(days=1), time(), self.zone).astimezone(UTC) if self.end else None
        return start, end


def engagement_rate(post: AnalyticsPost) -> tuple[float | None, RateBasis | None]:
    """The post's rate and its basis; (None, None) when unknown (no impressions, or nothing counted)."""
    if post.impressions is None or post.impressions <= 0:
        return None, None
    counts = (post.reactions, post.comments, post.reposts)
    if all(count is not None for count in counts):
        return sum(count or 0 for count in counts) / post.impressions, "interactions"
    if post.engagements is not None:
        return post.engagements / post.impressions, "engagements"
    return None, None


def figures_of(post: AnalyticsPost) -> PostFigures:
    rate, basis = engagement_rate(post)
    return PostFigures(
        id=post.id,
        content_id=post.content_id,
        published_at=as_utc(post.published_at) if post.published_at else None,
        text=post.text,
        media_type=post.media_type,
        url=post.url,
        impressions=post.impressions,
        members_reached=post.members_reached,
        reactions=post.reactions,
        comments=post.comments,
        reposts=post.reposts,
        engagements=post.engagements,
        engagement_rate=rate,
        engagement_rate_basis=basis,
        source=post.figures_source,
        figures_at=post.figures_at,
        synced_at=post.synced_at,
        sync_state=post.sync_state,
        sync_detail=post.sync_detail,
    )


# -- queries (every one scoped to the organization) -------------------------------------------------


async def posts_of(session: AsyncSession, org_id: uuid.UUID, window: Window | None = None) -> list[PostFigures]:
    """The organization's posts in the window, newest first (posts of unknown date last)."""
    query = select(AnalyticsPost).where(AnalyticsPost.org_id == org_id)
    if window is not None:
        start, end = window.utc_bounds()
        if start is not None:
            query = query.where(AnalyticsPost.published_at >= start)
        if end is not None:
            query = query.where(AnalyticsPost.published_at < end)
    query = query.order_by(AnalyticsPost.published_at.desc().nulls_last(), AnalyticsPost.id).limit(MAX_POSTS)
    return [figures_of(post) for post in await session.scalars(query)]


async def post_by_id(session: AsyncSession, org_id: uuid.UUID, post_id: uuid.UUID) -> AnalyticsPost | None:
    return await session.scalar(
        select(AnalyticsPost).where(AnalyticsPost.org_id == org_id, AnalyticsPost.id == post_id)
    )


async def post_of_content(session: AsyncSession, org_id: uuid.UUID, content_id: uuid.UUID) -> AnalyticsPost | None:
    return await session.scalar(
        select(AnalyticsPost).where(AnalyticsPost.org_id == org_id, AnalyticsPost.content_id == content_id)
    )


async def samples_of(session: AsyncSession, org_id: uuid.UUID, post_id: uuid.UUID) -> list[Sample]:
    """The post's figures over time, oldest first."""
    rows = await session.scalars(
        select(AnalyticsSample)
        .where(AnalyticsSample.org_id == org_id, AnalyticsSample.post_id == post_id)
        .order_by(AnalyticsSample.at, AnalyticsSample.source)
    )
    return [
        Sample(
            at=row.at,
            source=row.source,
            impressions=row.impressions,
            members_reached=row.members_reached,
            reactions=row.reactions,
            comments=row.comments,
            reposts=row.reposts,
        )
        for row in rows
    ]


async def days_of(session: AsyncSession, org_id: uuid.UUID, window: Window) -> list[Day]:
    query = select(AccountDay).where(AccountDay.org_id == org_id)
    if window.start is not None:
        query = query.where(AccountDay.day >= window.start)
    if window.end is not None:
        query = query.where(AccountDay.day <= window.end)
    rows = await session.scalars(query.order_by(AccountDay.day))
    return [
        Day(
            day=row.day,
            impressions=row.impressions,
            engagements=row.engagements,
            engagement_rate=(
                row.engagements / row.impressions
                if row.engagements is not None and row.impressions is not None and row.impressions > 0
                else None
            ),
            new_followers=row.new_followers,
            followers=row.followers,
        )
        for row in rows
    ]


async def summary(session: AsyncSession, org_id: uuid.UUID, window: Window) -> tuple[Summary, list[PostFigures]]:
    """The dashboard's figures for the window, and the per-post table they were computed from."""
    posts = await posts_of(session, org_id, window)
    days = await days_of(session, org_id, window)
    last_import = await session.scalar(
        select(func.max(AnalyticsImport.created_at)).where(AnalyticsImport.org_id == org_id)
    )
    days_updated = await session.scalar(select(func.max(AccountDay.updated_at)).where(AccountDay.org_id == org_id))
    last_sync = await session.scalar(select(func.max(AnalyticsPost.synced_at)).where(AnalyticsPost.org_id == org_id))
    known = [p.impressions for p in posts if p.impressions is not None]
    followers = next(((d.followers, d.day) for d in reversed(days) if d.followers is not None), (None, None))
    found = Summary(
        timezone=window.zone.key,
        start=window.start,
        end=window.end,
        posts=len(posts),
        posts_with_impressions=len(known),
        impressions=sum(known) if known else None,
        median_engagement_rate=median_rate(posts),
        followers=followers[0],
        followers_on=followers[1],
        last_synced_at=as_utc(last_sync) if last_sync else None,
        last_imported_at=as_utc(last_import) if last_import else None,
        account_days_updated_at=as_utc(days_updated) if days_updated else None,
        days=days,
        heatmap=heatmap(posts, window.zone),
        by_format=grouped(posts, format_of),
        by_length=grouped(posts, length_of),
        by_hashtags=grouped(posts, hashtags_of),
    )
    return found, posts


async def content_analytics(
    session: AsyncSession, org_id: uuid.UUID, content_id: uuid.UUID, published: bool
) -> ContentAnalytics:
    """The analytics of one content item of the organization (the caller checked it is theirs)."""
    post = await post_of_content(session, org_id, content_id)
    if post is None:
        state, detail = (
            ("pending", "published: waiting for its first analytics sync or import")
            if published
            else ("none", "not published yet: figures come once it is on LinkedIn")
        )
        return ContentAnalytics(
            content_id, None, None, None, None, None, None, None, None, None, None, None, None, None, state, detail
        )
    figures = figures_of(post)
    return ContentAnalytics(
        content_id=content_id,
        post_id=post.id,
        published_at=figures.published_at,
        impressions=figures.impressions,
        members_reached=figures.members_reached,
        reactions=figures.reactions,
        comments=figures.comments,
        reposts=figures.reposts,
        engagements=figures.engagements,
        engagement_rate=figures.engagement_rate,
        engagement_rate_basis=figures.engagement_rate_basis,
        source=figures.source,
        figures_at=figures.figures_at,
        synced_at=figures.synced_at,
        sync_state=figures.sync_state,
        sync_detail=figures.sync_detail,
        samples=await samples_of(session, org_id, post.id),
    )


# -- aggregations ---------------------------------------------------------------------------------


def median_rate(posts: Iterable[PostFigures]) -> float | None:
    """The median engagement rate of the posts whose rate is known; None when none is."""
    rates = [p.engagement_rate for p in posts if p.engagement_rate is not None]
    return statistics.median(rates) if rates else None


def heatmap(posts: Sequence[PostFigures], zone: ZoneInfo) -> list[Cell]:
    """Median rate per weekday-and-hour of publication in *zone*, for cells with at least one known rate."""
    cells: dict[tuple[int, int], list[float]] = defaultdict(list)
    for post in posts:
        if post.published_at is None or post.engagement_rate is None:
            continue
        local = post.published_at.astimezone(zone)
        cells[(local.weekday(), local.hour)].append(post.engagement_rate)
    return [
        Cell(weekday=weekday, hour=hour, posts=len(rates), median_engagement_rate=statistics.median(rates))
        for (weekday, hour), rates in sorted(cells.items())
    ]


def format_of(post: PostFigures) -> str | None:
    return post.media_type or None


def _bucket(value: int, buckets: tuple[tuple[str, int, int], ...]) -> str:
    return next(label for label, low, high in buckets if low <= value < high)


def length_of(post: PostFigures) -> str | None:
    return None if post.text is None else _bucket(len(post.text), LENGTHS)


def hashtag_count(text: str) -> int:
    return len(_HASHTAG.findall(text))


def hashtags_of(post: PostFigures) -> str | None:
    return None if post.text is None else _bucket(hashtag_count(post.text), HASHTAG_GROUPS)


def grouped(posts: Sequence[PostFigures], key: Callable[[PostFigures], str | None]) -> list[Group]:
    """Posts with a known rate grouped by *key* (posts whose key is unknown are left out), largest
    group first; a group of fewer than MIN_GROUP posts has no median, only its count."""
    rates: dict[str, list[float]] = defaultdict(list)
    for post in posts:
        label = key(post)
        if label is not None and post.engagement_rate is not None:
            rates[label].append(post.engagement_rate)
    groups = [
        Group(
            label=label,
            posts=len(values),
            median_engagement_rate=statistics.median(values) if len(values) >= MIN_GROUP else None,
            too_few=len(values) < MIN_GROUP,
        )
        for label, values in rates.items()
    ]
    return sorted(groups, key=lambda g: (-g.posts, g.label))


# -- CSV export -----------------------------------------------------------------------------------


def safe_cell(value: object) -> object:
    """A value for a CSV cell: numbers as they are; text that a spreadsheet would read as a formula
    (starting with = + - @, a tab or a carriage return) behind a leading apostrophe; None as empty."""
    if value is None:
        return ""
    if isinstance(value, bool):
        return str(value).lower()
    if isinstance(value, int | float):
        return value  # a number is never a formula, even a negative one
    text = value.isoformat() if isinstance(value, datetime | date) else str(value)
    return "'" + text if text.startswith(_FORMULA_START) else text


def posts_csv(posts: Iterable[PostFigures]) -> str:
    """The per-post table as CSV: a header row, then one row per post; unknown figures are empty cells."""
    out = io.StringIO()
    writer = csv.writer(out, lineterminator="\r\n")
    writer.writerow(CSV_COLUMNS)
    for post in posts:
        values = {
            "published_at": post.published_at,
            "text": post.text,
            "media_type": post.media_type,
            "impressions": post.impressions,
            "members_reached": post.members_reached,
            "reactions": post.reactions,
            "comments": post.comments,
            "reposts": post.reposts,
            "engagements": post.engagements,
            "engagement_rate": round(post.engagement_rate, 6) if post.engagement_rate is not None else None,
            "engagement_rate_basis": post.engagement_rate_basis,
            "source": post.source,
            "figures_at": post.figures_at,
            "synced_at": post.synced_at,
            "sync_state": post.sync_state,
            "url": post.url,
        }
        writer.writerow([safe_cell(values[column]) for column in CSV_COLUMNS])
    return out.getvalue()
