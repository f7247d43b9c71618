"""Importing what any LinkedIn member can download, through the API: the creator analytics export in
both generations, a post's export and the data archive's Shares.csv. Figures land as given (unknown
stays unknown, never 0), posts get their time from their ids and join the posts published here,
importing again changes nothing, and a damaged or foreign file changes nothing."""

from __future__ import annotations

import asyncio
import io
import uuid
from datetime import UTC, date, datetime, timedelta
from typing import Any

import httpx
import pytest
from openpyxl import Workbook, load_workbook
from sqlalchemy import select
from sqlalchemy.ext.asyncio import AsyncSession, async_sessionmaker

from autopilot.analytics import service
from autopilot.analytics.models import AccountDay, AnalyticsImport, AnalyticsPost, AnalyticsSample
from tests.analytics.exports import (
    CONNECTIONS_CSV,
    CreatorExport,
    PostExport,
    Share,
    TopPost,
    creator_export_2025,
    creator_export_2026,
    minted,
    post_export,
    shares_csv,
    single_post_export,
    zipped,
)
from tests.support.accounts import Account

XLSX = "application/vnd.openxmlformats-officedocument.spreadsheetml.sheet"
Sessions = async_sessionmaker[AsyncSession]

# July 2025: a 14-day export; "7/13/2025" can only be month/day.
JULY = CreatorExport(
    first_day=date(2025, 7, 1),
    impressions=[600 + 10 * i for i in range(14)],
    engagements=[7, 9, -2, 11, 4, 5, 6, 8, 3, 2, 1, 12, 10, 9],  # a negative day, as LinkedIn reports net figures
    new_followers=[5, 0, 3, 1, 2, 4, 0, 6, 1, 1, 2, 3, 0, 2],
    total_followers=12955,
    posts=[
        TopPost(datetime(2025, 7, 3, 14, 30, 15, tzinfo=UTC), engagements=539, impressions=19542),
        TopPost(datetime(2025, 7, 8, 9, 5, 0, tzinfo=UTC), engagements=41),  # not among the top by impressions
        TopPost(datetime(2025, 7, 11, 16, 45, 30, tzinfo=UTC), impressions=880),  # not among the top by engagements
    ],
)
# March 2026, dd/mm/yyyy: every date reads both ways (01/03 … 12/03); only consecutive days tell.
MARCH = CreatorExport(
    first_day=date(2026, 3, 1),
    impressions=[1200 + i for i in range(12)],
    engagements=[30 + i for i in range(12)],
    new_followers=[i % 3 for i in range(12)],
    total_followers=1316,
    posts=[
        TopPost(datetime(2026, 3, 5, 6, 30, 2, tzinfo=UTC), engagements=1316, impressions=25480),
        TopPost(datetime(2026, 3, 10, 6, 40, 0, tzinfo=UTC), engagements=12),
    ],
)


async def upload(client: httpx.AsyncClient, account: Account, data: bytes, name: str) -> httpx.Response:
    kind = XLSX if name.endswith(".xlsx") else "application/zip" if name.endswith(".zip") else "text/csv"
    return await client.post("/api/v1/analytics/imports", files={"file": (name, data, kind)}, headers=account.auth)


async def stored(sessions: Sessions, account: Account) -> dict[str, Any]:
    """Everything analytics keeps for the account, as comparable values (bookkeeping times left out)."""
    org = uuid.UUID(account.org_id)
    async with sessions() as session:
        posts = (await session.scalars(select(AnalyticsPost).where(AnalyticsPost.org_id == org))).all()
        samples = (await session.scalars(select(AnalyticsSample).where(AnalyticsSample.org_id == org))).all()
        days = (await session.scalars(select(AccountDay).where(AccountDay.org_id == org))).all()
        files = (await session.scalars(select(AnalyticsImport).where(AnalyticsImport.org_id == org))).all()
    post_columns = [
        "id",
        "origin",
        "activity_id",
        "share_urn",
        "url",
        "published_at",
        "text",
        "media_type",
        "impressions",
        "members_reached",
        "reactions",
        "comments",
        "reposts",
        "engagements",
        "saves",
        "sends",
        "figures_source",
        "figures_at",
        "content_id",
    ]
    return {
        "posts": sorted(tuple(str(getattr(p, c)) for c in post_columns) for p in posts),
        "samples": sorted(
            (str(s.post_id), s.at, s.source, s.impressions, s.members_reached, s.reactions, s.comments, s.reposts)
            for s in samples
        ),
        "days": sorted((d.day, d.impressions, d.engagements, d.new_followers, d.followers, d.updated_at) for d in days),
        "imports": sorted((f.sha256, f.summary) for f in files),
    }


async def post_of(sessions: Sessions, account: Account, activity_id: str) -> AnalyticsPost:
    async with sessions() as session:
        found = await session.scalar(
            select(AnalyticsPost).where(
                AnalyticsPost.org_id == uuid.UUID(account.org_id), AnalyticsPost.activity_id == activity_id
            )
        )
    assert found is not None, f"no post with activity id {activity_id}"
    return found


async def days_of(sessions: Sessions, account: Account) -> dict[date, AccountDay]:
    async with sessions() as session:
        rows = await session.scalars(select(AccountDay).where(AccountDay.org_id == uuid.UUID(account.org_id)))
        return {row.day: row for row in rows}


async def publish_here(
    client: httpx.AsyncClient, sessions: Sessions, account: Account, at: datetime
) -> tuple[str, uuid.UUID]:
    """A post published from here: its content item and the share URN LinkedIn returned, minted at *at*."""
    made = await client.post("/api/v1/content", json={"text": f"Our post of {at:%d %B}"}, headers=account.auth)
    assert made.status_code == 201, made.text
    share_urn = f"urn:li:share:{minted(at, 11)}"
    async with sessions() as session, session.begin():
        post = await service.track_published(
            session, uuid.UUID(account.org_id), uuid.UUID(made.json()["id"]), None, share_urn, at, "Our post", "text"
        )
        return share_urn, post.id


async def test_a_2025_creator_export_gives_the_days_the_followers_and_the_top_posts(
    client: httpx.AsyncClient, alice: Account, sessions: Sessions
) -> None:
    answer = await upload(client, alice, creator_export_2025(JULY), "Content_2025-07-01_2025-07-14_Alice.xlsx")

    assert answer.status_code == 201, answer.text
    body = answer.json()
    assert body["kind"] == "creator_export" and body["layout"] == "2023-2025 (Content_…), dates M/D/Y"
    assert (body["period_start"], body["period_end"]) == ("2025-07-01", "2025-07-14")
    assert (body["posts_added"], body["posts_updated"], body["days"], body["matched"]) == (3, 0, 14, 0)
    assert body["already_imported"] is False
    days = await days_of(sessions, alice)
    assert sorted(days) == JULY.days
    assert [days[d].impressions for d in JULY.days] == JULY.impressions
    assert [days[d].engagements for d in JULY.days] == JULY.engagements  # -2 kept as given
    assert [days[d].new_followers for d in JULY.days] == JULY.new_followers
    # The total is given for the last day only; earlier days are reconstructed backwards from it.
    assert days[date(2025, 7, 14)].followers == 12955
    assert days[date(2025, 7, 13)].followers == 12955 - 2
    assert days[date(2025, 7, 1)].followers == 12955 - sum(JULY.new_followers[1:])
    both, engaged_only, seen_only = JULY.posts
    first = await post_of(sessions, alice, both.activity_id)
    assert (first.impressions, first.engagements, first.figures_source) == (19542, 539, "export")
    assert first.published_at == datetime(2025, 7, 3, 14, 30, 15, tzinfo=UTC)  # the hour comes from the id
    assert first.origin == "export" and first.url == both.url and first.text is None
    second = await post_of(sessions, alice, engaged_only.activity_id)
    assert (second.impressions, second.engagements) == (None, 41)  # unknown, not zero
    third = await post_of(sessions, alice, seen_only.activity_id)
    assert (third.impressions, third.engagements) == (880, None)
    samples = (await stored(sessions, alice))["samples"]
    assert len(samples) == 2  # a sample for the posts whose impressions are known; engagements alone are not sampled
    assert {s[1] for s in samples} == {datetime(2025, 7, 15, tzinfo=UTC)}  # as of the end of the export's last day


async def test_a_2026_export_with_text_numbers_localized_sheets_and_day_month_dates(
    client: httpx.AsyncClient, alice: Account, sessions: Sessions
) -> None:
    data = creator_export_2026(MARCH)  # every sheet says <dimension ref="A1"/>, as LinkedIn's files do

    answer = await upload(client, alice, data, "AggregateAnalytics_Alice_2026-03-01_2026-03-12.xlsx")

    assert answer.status_code == 201, answer.text
    body = answer.json()
    assert body["layout"] == "2026 (AggregateAnalytics_…), dates D/M/Y"
    assert (body["period_start"], body["period_end"]) == ("2026-03-01", "2026-03-12")  # not 3 Jan to 3 Dec
    assert (body["posts_added"], body["days"]) == (2, 12)
    days = await days_of(sessions, alice)
    assert sorted(days) == MARCH.days
    assert [days[d].impressions for d in MARCH.days] == MARCH.impressions  # "1,200" read as 1200
    assert days[date(2026, 3, 12)].followers == 1316
    assert days[date(2026, 3, 1)].followers == 1316 - sum(MARCH.new_followers[1:])
    top = await post_of(sessions, alice, MARCH.posts[0].activity_id)
    assert (top.impressions, top.engagements) == (25480, 1316)
    assert top.published_at == datetime(2026, 3, 5, 6, 30, 2, tzinfo=UTC)
    other = await post_of(sessions, alice, MARCH.posts[1].activity_id)
    assert (other.impressions, other.engagements) == (None, 12)


async def test_an_exported_post_joins_the_post_published_here_minted_within_five_minutes(
    client: httpx.AsyncClient, alice: Account, sessions: Sessions
) -> None:
    ours_urn, ours_id = await publish_here(client, sessions, alice, datetime(2026, 3, 5, 6, 30, 0, tzinfo=UTC))
    # Published at 06:30, the export's second post was minted at 06:40: ten minutes away, another post.
    _later_urn, later_id = await publish_here(client, sessions, alice, datetime(2026, 3, 10, 6, 30, 0, tzinfo=UTC))

    answer = await upload(client, alice, creator_export_2026(MARCH), "AggregateAnalytics.xlsx")

    assert answer.status_code == 201, answer.text
    assert (answer.json()["matched"], answer.json()["posts_added"], answer.json()["posts_updated"]) == (1, 1, 1)
    joined = await post_of(sessions, alice, MARCH.posts[0].activity_id)
    assert joined.id == ours_id and joined.share_urn == ours_urn and joined.origin == "published"
    assert (joined.impressions, joined.engagements, joined.figures_source) == (25480, 1316, "export")
    assert joined.published_at == datetime(2026, 3, 5, 6, 30, 0, tzinfo=UTC)  # ours, not overwritten
    apart = await post_of(sessions, alice, MARCH.posts[1].activity_id)
    assert apart.id != later_id and apart.origin == "export"
    posts = (await stored(sessions, alice))["posts"]
    assert len(posts) == 3  # two of ours, one imported: no duplicate of the joined post


async def test_a_post_export_gives_the_posts_reactions_comments_reposts_saves_and_sends(
    client: httpx.AsyncClient, alice: Account, sessions: Sessions
) -> None:
    _urn, ours_id = await publish_here(client, sessions, alice, datetime(2026, 3, 5, 6, 29, 0, tzinfo=UTC))
    await upload(client, alice, creator_export_2026(MARCH), "AggregateAnalytics.xlsx")
    figures = PostExport(MARCH.posts[0].url, date(2026, 3, 5), 26012, 9150, 212, 31, 7, 14, 5)

    answer = await upload(client, alice, post_export(figures), f"PostAnalytics_Alice_{MARCH.posts[0].activity_id}.xlsx")

    assert answer.status_code == 201, answer.text
    body = answer.json()
    assert (body["kind"], body["layout"]) == ("post_export", "per-post (PostAnalytics_…)")
    assert (body["posts_added"], body["posts_updated"], body["matched"]) == (0, 1, 1)
    post = await post_of(sessions, alice, MARCH.posts[0].activity_id)
    assert post.id == ours_id
    assert (post.impressions, post.members_reached, post.reactions, post.comments, post.reposts) == (
        26012,
        9150,
        212,
        31,
        7,
    )
    assert (post.saves, post.sends, post.figures_source) == (14, 5, "post_export")
    assert post.engagements == 1316  # the creator export's count stays: the post export does not give it


async def test_a_single_post_export_names_the_post_by_its_ugcpost_urn_and_joins_ours(
    client: httpx.AsyncClient, alice: Account, sessions: Sessions
) -> None:
    at = datetime(2026, 3, 12, 6, 30, 0, tzinfo=UTC)
    made = await client.post("/api/v1/content", json={"text": "Curl tips"}, headers=alice.auth)
    number = minted(at, 5)
    async with sessions() as session, session.begin():
        ours = await service.track_published(
            session,
            uuid.UUID(alice.org_id),
            uuid.UUID(made.json()["id"]),
            None,
            f"urn:li:ugcPost:{number}",
            at,
            "",
            None,
        )
    # A /posts/ URL whose slug holds "url" ("curl"), naming the post by its ugcPost number.
    url = f"https://www.linkedin.com/posts/alice_curl-tips-ugcPost-{number}-Ab1c"
    figures = PostExport(url, date(2026, 3, 12), 1316, 900, 25, 4, 2, 3, 1)

    answer = await upload(client, alice, single_post_export(figures), f"SinglePostAnalytics_Alice_{number}.xlsx")

    assert answer.status_code == 201, answer.text
    assert answer.json()["layout"] == "per-post (SinglePostAnalytics_…)"
    assert (answer.json()["posts_added"], answer.json()["matched"]) == (0, 1)
    async with sessions() as session:
        post = await session.get(AnalyticsPost, ours.id)
    assert post is not None and post.share_urn == f"urn:li:ugcPost:{number}"
    assert (post.impressions, post.members_reached, post.reactions, post.comments, post.reposts) == (
        1316,
        900,
        25,
        4,
        2,
    )
    assert (post.saves, post.sends, post.engagements, post.figures_source) == (3, 1, None, "post_export")
    assert len((await stored(sessions, alice))["posts"]) == 1


async def test_shares_csv_in_the_archive_gives_texts_and_times_and_joins_the_exported_posts(
    client: httpx.AsyncClient, alice: Account, sessions: Sessions
) -> None:
    await upload(client, alice, creator_export_2025(JULY), "Content.xlsx")
    exported = JULY.posts[0]
    shares = [
        # Its share id is minted a second before its activity id: the same post.
        # Its commentary as the archive wraps it (research §1.8, from third-party cleaners: unsure): the
        # whole in quotes, '"\n"' between paragraphs, inner quotes doubled.
        Share(exported.at - timedelta(seconds=1), '"Kubernetes is not a strategy."\n"Here is why ""ops"" matters."'),
        Share(datetime(2025, 6, 20, 7, 0, 0, tzinfo=UTC), "An older post, in no export", media_url="https://x/y.jpg"),
    ]
    archive = zipped({"Connections.csv": CONNECTIONS_CSV, "Shares.csv": shares_csv(shares)})

    answer = await upload(client, alice, archive, "Basic_LinkedInDataExport_11-24-2026.zip")

    assert answer.status_code == 201, answer.text
    body = answer.json()
    assert (body["kind"], body["posts_added"], body["posts_updated"], body["matched"]) == ("shares", 1, 1, 0)
    joined = await post_of(sessions, alice, exported.activity_id)
    assert joined.text == 'Kubernetes is not a strategy.\nHere is why "ops" matters.'
    assert joined.share_urn == f"urn:li:share:{shares[0].share_id}" and joined.media_type == "text"
    assert joined.impressions == 19542  # the export's figures stay
    async with sessions() as session:
        older = await session.scalar(
            select(AnalyticsPost).where(AnalyticsPost.share_urn == f"urn:li:share:{shares[1].share_id}")
        )
    assert older is not None and older.origin == "archive" and older.text == "An older post, in no export"
    assert older.published_at == datetime(2025, 6, 20, 7, 0, 0, tzinfo=UTC)
    assert (older.impressions, older.reactions, older.figures_source, older.media_type) == (None, None, None, None)


async def test_importing_the_same_file_or_an_overlapping_one_again_changes_nothing(
    client: httpx.AsyncClient, alice: Account, sessions: Sessions
) -> None:
    await publish_here(client, sessions, alice, datetime(2026, 3, 5, 6, 30, 0, tzinfo=UTC))
    data = creator_export_2026(MARCH)
    first = await upload(client, alice, data, "AggregateAnalytics.xlsx")
    assert first.status_code == 201, first.text
    before = await stored(sessions, alice)

    again = await upload(client, alice, data, "renamed.xlsx")

    assert again.status_code == 200, again.text
    assert again.json()["already_imported"] is True and again.json()["import_id"] == first.json()["import_id"]
    assert await stored(sessions, alice) == before
    # The same figures in the other generation's layout: other bytes, the same rows and values.
    overlapping = await upload(client, alice, creator_export_2025(MARCH), "Content.xlsx")
    assert overlapping.status_code == 201, overlapping.text
    assert (overlapping.json()["posts_added"], overlapping.json()["matched"]) == (0, 1)
    after = await stored(sessions, alice)
    assert {k: v for k, v in after.items() if k != "imports"} == {k: v for k, v in before.items() if k != "imports"}
    assert len(after["imports"]) == 2


async def test_overlapping_exports_keep_each_days_higher_figures(
    client: httpx.AsyncClient, alice: Account, sessions: Sessions
) -> None:
    await upload(client, alice, creator_export_2025(JULY), "Content_1.xlsx")
    # A later export: LinkedIn revised the last days upward, and one day reads lower (kept higher).
    later = CreatorExport(
        first_day=date(2025, 7, 13),
        impressions=[900, 100],
        engagements=[20, 1],
        new_followers=[0, 4],
        total_followers=12960,
    )

    answer = await upload(client, alice, creator_export_2025(later), "Content_2.xlsx")

    assert answer.status_code == 201, answer.text
    days = await days_of(sessions, alice)
    assert len(days) == 14
    assert (days[date(2025, 7, 13)].impressions, days[date(2025, 7, 13)].engagements) == (900, 20)
    assert (days[date(2025, 7, 14)].impressions, days[date(2025, 7, 14)].engagements) == (730, 9)
    assert days[date(2025, 7, 14)].new_followers == 4 and days[date(2025, 7, 14)].followers == 12960
    assert days[date(2025, 7, 12)].followers == 12955 - 2 - 0  # from the first export's anchor


@pytest.mark.parametrize("case", ["truncated zip", "bytes", "foreign xlsx", "zip without shares", "bad day", "csv"])
async def test_a_damaged_or_foreign_file_changes_nothing(
    client: httpx.AsyncClient, alice: Account, sessions: Sessions, case: str
) -> None:
    await upload(client, alice, creator_export_2025(JULY), "Content.xlsx")
    before = await stored(sessions, alice)
    good = creator_export_2026(MARCH, dimension_quirk=False)
    foreign = Workbook()
    sheet = foreign.active
    assert sheet is not None
    sheet.append(["Invoice", "Amount"])
    sheet.append(["2026-001", 1200])
    foreign_bytes = io.BytesIO()
    foreign.save(foreign_bytes)
    # A valid export but for its last ENGAGEMENT row: the good rows before it must not be kept.
    broken_day = CreatorExport(
        first_day=date(2026, 3, 1),
        impressions=[*MARCH.impressions[:-1], 0],
        engagements=MARCH.engagements,
        new_followers=MARCH.new_followers,
        total_followers=MARCH.total_followers,
        posts=MARCH.posts,
    )
    broken = _with_engagement_cell(creator_export_2025(broken_day), "0", "a lot")
    files = {
        "truncated zip": (good[: len(good) // 2], "AggregateAnalytics.xlsx", "readable zip archive"),
        "bytes": (b"\x00\x01\x02binary garbage" * 10, "export.xlsx", "not one of LinkedIn's files"),
        "foreign xlsx": (foreign_bytes.getvalue(), "Invoices.xlsx", "none of the sheets"),
        "zip without shares": (zipped({"Connections.csv": CONNECTIONS_CSV}), "archive.zip", "no Shares.csv"),
        "bad day": (broken, "Content.xlsx", "'a lot' is not a number"),
        "csv": (b"Date,Impressions,Engagements\r\n12/12/2024,605,7\r\n", "export.csv", "not LinkedIn's Shares.csv"),
    }
    data, name, reason = files[case]

    answer = await upload(client, alice, data, name)

    assert answer.status_code == 422, answer.text
    assert answer.headers["content-type"] == "application/problem+json"
    assert reason in answer.json()["detail"]
    assert await stored(sessions, alice) == before


def _with_engagement_cell(xlsx: bytes, old: str, new: str) -> bytes:
    """The workbook with the ENGAGEMENT sheet's last impressions cell holding text *new*."""
    book = load_workbook(io.BytesIO(xlsx))
    sheet = book["ENGAGEMENT"]
    cell = sheet.cell(row=sheet.max_row, column=2)
    assert str(cell.value) == old
    cell.value = new
    out = io.BytesIO()
    book.save(out)
    return out.getvalue()


async def test_imports_are_listed_for_their_organization_only(
    client: httpx.AsyncClient, alice: Account, bob: Account
) -> None:
    await upload(client, alice, creator_export_2025(JULY), "Content.xlsx")
    await upload(client, alice, shares_csv([Share(datetime(2025, 6, 20, 7, tzinfo=UTC), "Hello")]), "Shares.csv")

    listed = await client.get("/api/v1/analytics/imports", headers=alice.auth)

    assert listed.status_code == 200, listed.text
    assert [i["kind"] for i in listed.json()] == ["shares", "creator_export"]
    assert listed.json()[1]["summary"].startswith("creator analytics export: 3 new posts")
    assert listed.json()[1]["layout"] == "2023-2025 (Content_…), dates M/D/Y" and "posts_added" not in listed.json()[1]
    assert (await client.get("/api/v1/analytics/imports", headers=bob.auth)).json() == []
    # Bob importing Alice's very file is his own first import, not "already imported".
    his = await upload(client, bob, creator_export_2025(JULY), "Content.xlsx")
    assert his.status_code == 201 and his.json()["posts_added"] == 3


async def test_the_same_file_sent_twice_at_once_is_imported_once(
    client: httpx.AsyncClient, alice: Account, sessions: Sessions
) -> None:
    data = creator_export_2025(JULY)

    answers = await asyncio.gather(*(upload(client, alice, data, "Content.xlsx") for _ in range(3)))

    assert sorted(a.status_code for a in answers) == [200, 200, 201], [a.text for a in answers]
    found = await stored(sessions, alice)
    assert (len(found["imports"]), len(found["posts"]), len(found["days"])) == (1, 3, 14)


async def test_the_service_imports_a_file_in_the_callers_transaction(alice: Account, sessions: Sessions) -> None:
    data = creator_export_2025(JULY)
    # As the dashboard's upload form calls it: a session that has not begun; the caller commits.
    async with sessions() as session, session.begin():
        org, user = uuid.UUID(alice.org_id), uuid.UUID(alice.user_id)
        found = await service.import_file(session, org, user, "Content.xlsx", data)
        assert (found.posts_added, found.days, found.already_imported) == (3, 14, False)
    async with sessions() as session, session.begin():
        again = await service.import_file(session, org, None, "Content (1).xlsx", data)
    assert again.already_imported and again.import_id == found.import_id
