"""Analytics rows as the sync and the importer store them, for the dashboard's tests: a post with its
latest figures (None = unknown) and its samples, and a day of the account."""

from __future__ import annotations

import uuid
from collections.abc import Sequence
from datetime import UTC, date, datetime

from sqlalchemy.ext.asyncio import AsyncSession, async_sessionmaker

from autopilot.analytics.models import AccountDay, AnalyticsImport, AnalyticsPost, AnalyticsSample

SYNCED = datetime(2026, 11, 24, 7, 0, tzinfo=UTC)


async def add_post(
    sessions: async_sessionmaker[AsyncSession],
    org_id: str | uuid.UUID,
    *,
    published_at: datetime | None,
    text: str | None = "A post about architecture reviews",
    media_type: str | None = "text",
    impressions: int | None = None,
    reactions: int | None = None,
    comments: int | None = None,
    reposts: int | None = None,
    engagements: int | None = None,
    members_reached: int | None = None,
    source: str | None = "api",
    sync_state: str = "ok",
    sync_detail: str = "",
    content_id: str | uuid.UUID | None = None,
    samples: Sequence[tuple[datetime, int | None, int | None]] = (),
) -> uuid.UUID:
    """One post; *samples* are (at, impressions, reactions) read by the API."""
    org = uuid.UUID(str(org_id))
    async with sessions() as session, session.begin():
        post = AnalyticsPost(
            org_id=org,
            content_id=uuid.UUID(str(content_id)) if content_id else None,
            origin="published" if content_id else "export",
            published_at=published_at,
            text=text,
            media_type=media_type,
            url="https://www.linkedin.com/feed/update/urn:li:activity:7000000000000000000/",
            impressions=impressions,
            members_reached=members_reached,
            reactions=reactions,
            comments=comments,
            reposts=reposts,
            engagements=engagements,
            figures_source=source,
            figures_at=SYNCED if source else None,
            sync_state=sync_state,
            sync_detail=sync_detail,
            synced_at=SYNCED if source == "api" else None,
        )
        session.add(post)
        await session.flush()
        for at, seen, reacted in samples:
            session.add(
                AnalyticsSample(org_id=org, post_id=post.id, at=at, source="api", impressions=seen, reactions=reacted)
            )
        return post.id


async def add_days(
    sessions: async_sessionmaker[AsyncSession],
    org_id: str | uuid.UUID,
    days: Sequence[tuple[date, int | None, int | None, int | None]],
) -> None:
    """Days of the account (day, impressions, engagements, followers), as an imported export gives them."""
    org = uuid.UUID(str(org_id))
    async with sessions() as session, session.begin():
        for day, impressions, engagements, followers in days:
            session.add(
                AccountDay(
                    org_id=org,
                    day=day,
                    impressions=impressions,
                    engagements=engagements,
                    followers=followers,
                    updated_at=SYNCED,
                )
            )
        session.add(
            AnalyticsImport(
                org_id=org,
                sha256=uuid.uuid4().hex * 2,
                kind="creator_export",
                filename="export.xlsx",
                created_at=SYNCED,
            )
        )
