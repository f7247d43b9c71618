"""The analytics dashboard on both databases: the heatmap in the user's own zone, medians that leave
unknown figures out (never counted as zero), small groups said to be too small, a CSV export a
spreadsheet cannot be tricked by, and the per-post figures the API and the pages answer alike."""

from __future__ import annotations

import csv
import io
import re
from datetime import UTC, date, datetime, timedelta

import httpx
import pytest
from fastapi import FastAPI
from sqlalchemy.ext.asyncio import AsyncSession, async_sessionmaker

from tests.analytics.figures import SYNCED, add_days, add_post
from tests.linkedin.test_pages import alert_of, text_of
from tests.support.accounts import Account, csrf_of, log_in_with_the_form

TUESDAY_0630_PARIS_WINTER = datetime(2026, 11, 24, 5, 30, tzinfo=UTC)  # CET, UTC+1
TUESDAY_0630_PARIS_SUMMER = datetime(2026, 6, 30, 4, 30, tzinfo=UTC)  # CEST, UTC+2


async def summary_of(client: httpx.AsyncClient, account: Account, **period: str) -> dict:
    answer = await client.get("/api/v1/analytics/summary", params=period, headers=account.auth)
    assert answer.status_code == 200, answer.text
    return answer.json()


async def test_a_0630_paris_post_sits_in_the_tuesday_0600_cell_of_a_paris_user(
    client: httpx.AsyncClient, sessions: async_sessionmaker[AsyncSession], alice: Account, bob: Account
) -> None:
    for published in (TUESDAY_0630_PARIS_WINTER, TUESDAY_0630_PARIS_SUMMER):
        await add_post(
            sessions, alice.org_id, published_at=published, impressions=1000, reactions=30, comments=5, reposts=5
        )
    # The same instants in Bob's organization; Bob lives in New York.
    await add_post(
        sessions,
        bob.org_id,
        published_at=TUESDAY_0630_PARIS_WINTER,
        impressions=100,
        reactions=1,
        comments=0,
        reposts=0,
    )

    alices = await summary_of(client, alice)
    assert alices["timezone"] == "Europe/Paris"
    assert alices["heatmap"] == [{"weekday": 1, "hour": 6, "posts": 2, "median_engagement_rate": 0.04}]
    bobs = await summary_of(client, bob)
    assert bobs["heatmap"] == [{"weekday": 1, "hour": 0, "posts": 1, "median_engagement_rate": 0.01}]  # 00:30 EST

    await log_in_with_the_form(client, alice)
    page = await client.get("/analytics")
    assert page.status_code == 200
    cell = re.search(r'<td class="heat[^"]*" data-cell="Tue 06:00"[^>]*>(.*?)</td>', page.text, re.S)
    assert cell, page.text
    assert text_of(httpx.Response(200, text=cell.group(1))).strip() == "4.0% 2 posts"


async def test_unknown_figures_are_left_out_of_the_medians_and_shown_as_unknown(
    client: httpx.AsyncClient, sessions: async_sessionmaker[AsyncSession], alice: Account
) -> None:
    start = datetime(2026, 11, 2, 8, 0, tzinfo=UTC)
    for day, reactions in enumerate((20, 40, 60)):  # rates 2 %, 4 %, 6 %
        await add_post(
            sessions, alice.org_id, published_at=start + timedelta(days=day), impressions=1000,
            reactions=reactions, comments=0, reposts=0,
        )  # fmt: skip
    # Two posts the export listed without impressions (they were not in its top-50 table).
    for day in (3, 4):
        await add_post(
            sessions, alice.org_id, published_at=start + timedelta(days=day), impressions=None,
            reactions=None, comments=None, reposts=None, engagements=12, source="export",
        )  # fmt: skip

    found = await summary_of(client, alice)
    assert found["median_engagement_rate"] == pytest.approx(0.04)  # with the two as zeros: 2 %
    assert found["posts"] == 5 and found["posts_with_impressions"] == 3
    assert found["impressions"] == 3000
    rows = (await client.get("/api/v1/analytics/posts", headers=alice.auth)).json()
    unknown = [row for row in rows if row["source"] == "export"]
    assert len(unknown) == 2
    assert all(row["impressions"] is None and row["engagement_rate"] is None for row in unknown)

    await log_in_with_the_form(client, alice)
    page = await client.get("/analytics")
    assert "Median engagement rate 4.0%" in text_of(page)
    table = re.search(r'<table class="post-table" id="posts">(.*?)</table>', page.text, re.S)
    assert table
    impressions = re.findall(r'<td data-label="Impressions" class="num">([^<]*)</td>', table.group(1))
    assert sorted(impressions) == ["1,000", "1,000", "1,000", "—", "—"]  # never 0 for unknown


async def test_a_group_of_fewer_than_three_posts_says_too_few_posts(
    client: httpx.AsyncClient, sessions: async_sessionmaker[AsyncSession], alice: Account
) -> None:
    start = datetime(2026, 11, 2, 8, 0, tzinfo=UTC)
    for day, (media, reactions) in enumerate([("text", 10), ("text", 20), ("text", 90), ("image", 50), ("image", 70)]):
        await add_post(
            sessions, alice.org_id, published_at=start + timedelta(days=day), media_type=media,
            text="Short #one #two" if media == "image" else "x" * 400, impressions=1000,
            reactions=reactions, comments=0, reposts=0,
        )  # fmt: skip
    # A post with a format but no known rate is not in any group.
    await add_post(sessions, alice.org_id, published_at=start, media_type="video", impressions=None)

    found = await summary_of(client, alice)
    assert found["by_format"] == [
        {"label": "text", "posts": 3, "median_engagement_rate": 0.02, "too_few": False},
        {"label": "image", "posts": 2, "median_engagement_rate": None, "too_few": True},
    ]
    assert [(g["label"], g["posts"]) for g in found["by_length"]] == [
        ("300-1,299 characters", 3),
        ("under 300 characters", 2),
    ]
    assert [(g["label"], g["posts"]) for g in found["by_hashtags"]] == [("no hashtags", 3), ("1-2 hashtags", 2)]

    await log_in_with_the_form(client, alice)
    page = await client.get("/analytics")
    formats = re.search(r'<table class="groups" id="by-format">(.*?)</table>', page.text, re.S)
    assert formats
    assert "text 3 2.0% image 2 too few posts" in text_of(httpx.Response(200, text=formats.group(1)))


async def test_the_csv_export_defuses_formulas_and_leaves_unknown_cells_empty(
    client: httpx.AsyncClient, sessions: async_sessionmaker[AsyncSession], alice: Account
) -> None:
    texts = ['=HYPERLINK("https://evil.example","click")', "+1 reasons", "-2 myths", "@SUM(A1)", "\tTabbed", "Plain"]
    for day, text in enumerate(texts):
        await add_post(
            sessions, alice.org_id, published_at=datetime(2026, 11, 2 + day, 8, 0, tzinfo=UTC), text=text,
            impressions=None if day == 5 else 100, reactions=-1 if day == 4 else 3, comments=0, reposts=0,
        )  # fmt: skip
    await log_in_with_the_form(client, alice)

    answer = await client.get("/analytics/export.csv")

    assert answer.status_code == 200
    assert answer.headers["content-type"].startswith("text/csv")
    rows = list(csv.DictReader(io.StringIO(answer.text)))
    assert len(rows) == len(texts)
    by_text = {row["text"].lstrip("'"): row for row in rows}
    for text in texts[:5]:
        assert by_text[text.lstrip("'")]["text"] == "'" + text
    assert by_text["Plain"]["text"] == "Plain"
    assert by_text["Plain"]["impressions"] == "" and by_text["Plain"]["engagement_rate"] == ""
    assert by_text["\tTabbed"]["reactions"] == "-1"  # a number stays a number, even a negative one
    assert by_text["Plain"]["source"] == "api" and by_text["Plain"]["synced_at"].startswith("2026-11-24T07:00")


async def test_a_contents_analytics_answer_its_figures_its_state_or_404(
    app: FastAPI, client: httpx.AsyncClient, sessions: async_sessionmaker[AsyncSession], alice: Account, bob: Account
) -> None:
    draft = (await client.post("/api/v1/content", json={"text": "Not out yet"}, headers=alice.auth)).json()["id"]
    waiting = await client.get(f"/api/v1/content/{draft}/analytics", headers=alice.auth)
    assert waiting.status_code == 200
    assert waiting.json()["sync_state"] == "none" and "not published" in waiting.json()["sync_detail"]
    assert waiting.json()["impressions"] is None and waiting.json()["reactions"] is None  # not zeros

    post = (await client.post("/api/v1/content", json={"text": "Out"}, headers=alice.auth)).json()["id"]
    await add_post(
        sessions, alice.org_id, published_at=TUESDAY_0630_PARIS_WINTER, content_id=post, impressions=2000,
        members_reached=1500, reactions=50, comments=20, reposts=10,
        samples=[(SYNCED - timedelta(hours=1), 900, 20), (SYNCED, 2000, 50)],
    )  # fmt: skip
    blocked = (await client.post("/api/v1/content", json={"text": "Blocked"}, headers=alice.auth)).json()["id"]
    await add_post(
        sessions, alice.org_id, published_at=TUESDAY_0630_PARIS_WINTER + timedelta(days=2), content_id=blocked,
        source=None, sync_state="unsupported", sync_detail="the token lacks r_member_postAnalytics",
    )  # fmt: skip

    answer = await client.get(f"/api/v1/content/{post}/analytics", headers=alice.auth)
    assert answer.status_code == 200
    figures = answer.json()
    assert (figures["impressions"], figures["members_reached"], figures["reactions"]) == (2000, 1500, 50)
    assert (figures["comments"], figures["reposts"], figures["engagement_rate"]) == (20, 10, 0.04)
    assert figures["source"] == "api" and figures["synced_at"].startswith("2026-11-24T07:00")
    assert [(s["impressions"], s["reactions"]) for s in figures["samples"]] == [(900, 20), (2000, 50)]
    unsupported = (await client.get(f"/api/v1/content/{blocked}/analytics", headers=alice.auth)).json()
    assert unsupported["sync_state"] == "unsupported" and "r_member_postAnalytics" in unsupported["sync_detail"]
    assert unsupported["impressions"] is None

    for asker, content in ((bob, post), (alice, "0b6f7c1e-0000-4000-8000-000000000000")):
        missing = await client.get(f"/api/v1/content/{content}/analytics", headers=asker.auth)
        assert missing.status_code == 404
        assert missing.headers["content-type"] == "application/problem+json"

    # The post's page shows the API's figures, and Bob's session cannot open it.
    await log_in_with_the_form(client, alice)
    page = text_of(await client.get(f"/analytics/posts/{post}"))
    assert "Impressions 2,000 Members reached 1,500 Reactions 50 Comments 20 Reposts 10 Engagement rate 4.0%" in page
    assert "last synced 2026-11-24 08:00 Europe/Paris" in page
    assert "not synced" not in page
    assert "the token lacks r_member_postAnalytics" in text_of(await client.get(f"/analytics/posts/{blocked}"))
    assert "not published yet" in text_of(await client.get(f"/analytics/posts/{draft}"))
    async with httpx.AsyncClient(transport=httpx.ASGITransport(app=app), base_url="http://testserver") as bobs_phone:
        await log_in_with_the_form(bobs_phone, bob)
        assert (await bobs_phone.get(f"/analytics/posts/{post}")).status_code == 404


async def test_the_summary_covers_the_period_asked_for_in_the_users_days(
    client: httpx.AsyncClient, sessions: async_sessionmaker[AsyncSession], alice: Account
) -> None:
    # 23:30 UTC on 1 November is already 2 November in Paris.
    await add_post(sessions, alice.org_id, published_at=datetime(2026, 11, 1, 23, 30, tzinfo=UTC), impressions=10)
    await add_post(sessions, alice.org_id, published_at=datetime(2026, 11, 10, 9, 0, tzinfo=UTC), impressions=20)
    await add_days(
        sessions, alice.org_id,
        [(date(2026, 11, 1), 100, 4, 500), (date(2026, 11, 2), 200, 10, 510), (date(2026, 11, 3), None, None, None)],
    )  # fmt: skip

    found = await summary_of(client, alice, **{"from": "2026-11-02", "to": "2026-11-03"})
    assert found["posts"] == 1 and found["impressions"] == 10
    assert [(d["day"], d["impressions"], d["engagement_rate"]) for d in found["days"]] == [
        ("2026-11-02", 200, 0.05),
        ("2026-11-03", None, None),
    ]
    assert (found["followers"], found["followers_on"]) == (510, "2026-11-02")  # the latest known, not the empty day
    assert found["last_imported_at"].startswith("2026-11-24T07:00")

    backwards = await client.get(
        "/api/v1/analytics/summary", params={"from": "2026-11-03", "to": "2026-11-02"}, headers=alice.auth
    )
    assert backwards.status_code == 422 and backwards.headers["content-type"] == "application/problem+json"

    await log_in_with_the_form(client, alice)
    page = await client.get("/analytics", params={"from": "2026-11-01", "to": "2026-11-03"})
    assert page.status_code == 200
    assert "Followers 510 on 2026-11-02" in text_of(page)
    assert re.search(r'<svg viewBox="0 0 300 120" role="img"', page.text)
    assert "Impressions per day from 2026-11-01 to 2026-11-03: lowest 100, highest 200, latest 200 (2 of 3 known)." in (
        text_of(page)
    )


async def test_the_empty_dashboard_explains_the_three_routes(client: httpx.AsyncClient, alice: Account) -> None:
    await log_in_with_the_form(client, alice)
    page = await client.get("/analytics")
    assert page.status_code == 200
    text = text_of(page)
    assert "No figures yet" in text
    for route in ("API sync", "Import the export file", "Company Pages"):
        assert route in text
    assert "Posts — " not in text and "Impressions —" in text  # unknown, not 0
    assert not re.search(r"<script(?![^>]*\bsrc=)", page.text) and " style=" not in page.text  # the CSP allows neither


async def test_an_export_imported_with_the_form_fills_the_dashboard_and_a_broken_one_changes_nothing(
    client: httpx.AsyncClient, alice: Account
) -> None:
    from tests.analytics.exports import CreatorExport, TopPost, creator_export_2026

    await log_in_with_the_form(client, alice)
    token = csrf_of(await client.get("/analytics"))
    broken = await client.post(
        "/analytics/import",
        data={"csrf_token": token},
        files={"export": ("export.xlsx", b"PK\x03\x04 broken", "application/octet-stream")},
    )
    assert broken.status_code == 422 and "neither a readable zip archive nor an Excel workbook" in alert_of(broken)
    assert "No figures yet" in text_of(broken)

    top = TopPost(at=datetime(2026, 11, 3, 7, 30, tzinfo=UTC), engagements=12, impressions=400)
    export = CreatorExport(
        first_day=date(2026, 11, 1), impressions=[100, 200, 300], engagements=[4, 10, 9], new_followers=[1, 2, 3],
        total_followers=510, posts=[top],
    )  # fmt: skip
    files = {"export": ("AggregateAnalytics.xlsx", creator_export_2026(export), "application/octet-stream")}
    imported = await client.post("/analytics/import", data={"csrf_token": token}, files=files)

    assert imported.status_code == 200, text_of(imported)[:2000]
    page = text_of(imported)
    assert "AggregateAnalytics.xlsx:" in page and "No figures yet" not in page
    assert "Followers 510 on 2026-11-03" in page
    assert (
        "Impressions per day from 2026-11-01 to 2026-11-03: lowest 100, highest 300, latest 300 (3 of 3 known)." in page
    )
    assert "Last file imported: never" not in page
    rows = (await client.get("/api/v1/analytics/posts", headers=alice.auth)).json()
    assert [(r["impressions"], r["engagements"], r["engagement_rate"], r["engagement_rate_basis"]) for r in rows] == [
        (400, 12, 0.03, "engagements")  # the export's basis: its engagements include clicks
    ]
