"""Company Pages in the sandbox (research G §2): pages a member administers, post and follower
statistics with LinkedIn's encoding, windows and omissions, the scope gate and the Development tier."""

from __future__ import annotations

from datetime import UTC, date, datetime, timedelta
from typing import Any
from urllib.parse import quote

import httpx

from tests.sandbox.conftest import VERSION

ADMIN_SCOPES = ["openid", "profile", "rw_organization_admin"]
MS_PER_DAY = 86_400_000


def enc(urn: str) -> str:
    return quote(urn, safe="")


def headers(token: str) -> dict[str, str]:
    return {"Authorization": f"Bearer {token}", "LinkedIn-Version": VERSION, "X-Restli-Protocol-Version": "2.0.0"}


async def mint(client: httpx.AsyncClient, member: str, scopes: list[str] = ADMIN_SCOPES) -> str:
    answer = await client.post("/_sandbox/tokens/mint", json={"members": [member], "scopes": scopes})
    return str(answer.json()["elements"][0]["access_token"])


def days_ago(n: int) -> date:
    return datetime.now(UTC).date() - timedelta(days=n)


def midnight_ms(day: date) -> int:
    return int(datetime.combine(day, datetime.min.time(), UTC).timestamp() * 1000)


async def seed(client: httpx.AsyncClient, **extra: Any) -> dict[str, Any]:
    body = {
        "id": 2414183,
        "name": "Acme Consulting",
        "vanity_name": "acme-consulting",
        "admins": ["Ada Lovelace", {"member": "Grace Hopper", "role": "CONTENT_ADMIN"}],
        "followers": 1200,
        "days": [
            {
                "day": days_ago(2).isoformat(),
                "impressions": 300,
                "clicks": 10,
                "likes": 7,
                "comments": 2,
                "shares": 1,
                "organic_follower_gain": 5,
                "paid_follower_gain": 1,
            },
            {"day": days_ago(1).isoformat(), "impressions": 100, "likes": -1, "organic_follower_gain": -3},
            {"day": days_ago(400).isoformat(), "impressions": 999},
        ],
        "posts": [
            {"urn": "urn:li:share:7100000000000000001", "impressions": 250, "unique_impressions": 200, "likes": 4},
            {"urn": "urn:li:share:7100000000000000002"},  # no activity at all
        ],
        **extra,
    }
    answer = await client.post("/_sandbox/organizations", json=body)
    assert answer.status_code == 200, answer.text
    seeded: dict[str, Any] = answer.json()
    return seeded


def intervals(first: date, end: date, granularity: str = "DAY") -> str:
    """timeIntervals with literal Rest.li syntax, as LinkedIn wants it (§2.1)."""
    return f"(timeRange:(start:{midnight_ms(first)},end:{midnight_ms(end)}),timeGranularityType:{granularity})"


async def test_acls_list_the_pages_a_member_administers_with_their_roles(client: httpx.AsyncClient) -> None:
    await seed(client)
    ada, grace, alan = [await mint(client, name) for name in ("Ada Lovelace", "Grace Hopper", "Alan Turing")]
    answer = await client.get("/rest/organizationAcls?q=roleAssignee&role=ADMINISTRATOR", headers=headers(ada))
    assert answer.status_code == 200, answer.text
    (acl,) = answer.json()["elements"]
    assert acl["organization"] == "urn:li:organization:2414183" and acl["state"] == "APPROVED"
    assert acl["roleAssignee"].startswith("urn:li:person:")
    as_content_admin = await client.get("/rest/organizationAcls?q=roleAssignee", headers=headers(grace))
    assert [e["role"] for e in as_content_admin.json()["elements"]] == ["CONTENT_ADMIN"]
    none = await client.get("/rest/organizationAcls?q=roleAssignee&role=ADMINISTRATOR", headers=headers(grace))
    assert none.json()["elements"] == []
    stranger = await client.get("/rest/organizationAcls?q=roleAssignee", headers=headers(alan))
    assert stranger.json()["elements"] == []
    page = (await client.get("/rest/organizations/2414183", headers=headers(ada))).json()
    assert (page["localizedName"], page["vanityName"]) == ("Acme Consulting", "acme-consulting")


async def test_without_rw_organization_admin_every_statistic_is_access_denied(client: httpx.AsyncClient) -> None:
    await seed(client)
    token = await mint(client, "Ada Lovelace", ["openid", "profile", "w_member_social"])
    org = enc("urn:li:organization:2414183")
    for path in (
        f"/rest/organizationalEntityShareStatistics?q=organizationalEntity&organizationalEntity={org}",
        f"/rest/organizationalEntityFollowerStatistics?q=organizationalEntity&organizationalEntity={org}",
        f"/rest/networkSizes/{org}?edgeType=COMPANY_FOLLOWED_BY_MEMBER",
        "/rest/organizationAcls?q=roleAssignee",
    ):
        answer = await client.get(path, headers=headers(token))
        assert answer.status_code == 403, path
        body = answer.json()
        assert body["code"] == "ACCESS_DENIED" and body["serviceErrorCode"] == 100
        assert body["message"].startswith("Not enough permissions to access: ")
        assert body["message"].endswith(f".{VERSION}01")


async def test_a_member_who_is_not_an_administrator_is_refused_the_statistics(client: httpx.AsyncClient) -> None:
    await seed(client)
    grace = await mint(client, "Grace Hopper")  # CONTENT_ADMIN only
    org = enc("urn:li:organization:2414183")
    answer = await client.get(
        f"/rest/organizationalEntityShareStatistics?q=organizationalEntity&organizationalEntity={org}",
        headers=headers(grace),
    )
    assert answer.status_code == 403 and answer.json()["code"] == "ACCESS_DENIED"


async def test_daily_share_statistics_come_per_day_without_unique_impressions(client: httpx.AsyncClient) -> None:
    await seed(client)
    ada = await mint(client, "Ada Lovelace")
    org = enc("urn:li:organization:2414183")
    url = (
        f"/rest/organizationalEntityShareStatistics?q=organizationalEntity&organizationalEntity={org}"
        f"&timeIntervals={intervals(days_ago(3), days_ago(0))}"
    )
    answer = await client.get(url, headers=headers(ada))
    assert answer.status_code == 200, answer.text
    elements = answer.json()["elements"]
    assert [e["timeRange"]["start"] for e in elements] == [midnight_ms(days_ago(n)) for n in (3, 2, 1)]
    assert all(e["timeRange"]["end"] - e["timeRange"]["start"] == MS_PER_DAY for e in elements)
    two_days_ago = elements[1]["totalShareStatistics"]
    assert "uniqueImpressionsCount" not in two_days_ago
    assert (two_days_ago["impressionCount"], two_days_ago["clickCount"], two_days_ago["likeCount"]) == (300, 10, 7)
    assert two_days_ago["engagement"] == (10 + 7 + 2 + 1) / 300
    assert elements[2]["totalShareStatistics"]["likeCount"] == -1  # net counts may be negative


async def test_encoded_parentheses_in_time_intervals_are_refused(client: httpx.AsyncClient) -> None:
    await seed(client)
    ada = await mint(client, "Ada Lovelace")
    org = enc("urn:li:organization:2414183")
    url = (
        f"/rest/organizationalEntityShareStatistics?q=organizationalEntity&organizationalEntity={org}"
        f"&timeIntervals={quote(intervals(days_ago(3), days_ago(0)), safe='')}"
    )
    answer = await client.get(url, headers=headers(ada))
    assert answer.status_code == 400 and answer.json()["code"] == "ILLEGAL_ARGUMENT"


async def test_days_older_than_twelve_months_are_left_out_not_refused(client: httpx.AsyncClient) -> None:
    await seed(client)
    ada = await mint(client, "Ada Lovelace")
    org = enc("urn:li:organization:2414183")
    old = (
        f"/rest/organizationalEntityShareStatistics?q=organizationalEntity&organizationalEntity={org}"
        f"&timeIntervals={intervals(days_ago(402), days_ago(398))}"
    )
    answer = await client.get(old, headers=headers(ada))
    assert answer.status_code == 200 and answer.json()["elements"] == []
    lifetime = await client.get(
        f"/rest/organizationalEntityShareStatistics?q=organizationalEntity&organizationalEntity={org}",
        headers=headers(ada),
    )
    (total,) = lifetime.json()["elements"]
    assert total["totalShareStatistics"]["impressionCount"] == 400  # the 999 of 400 days ago is outside
    assert "uniqueImpressionsCount" in total["totalShareStatistics"]


async def test_per_post_statistics_omit_posts_without_activity(client: httpx.AsyncClient) -> None:
    await seed(client)
    ada = await mint(client, "Ada Lovelace")
    org = enc("urn:li:organization:2414183")
    shares = ",".join(enc(u) for u in ("urn:li:share:7100000000000000001", "urn:li:share:7100000000000000002"))
    answer = await client.get(
        f"/rest/organizationalEntityShareStatistics?q=organizationalEntity&organizationalEntity={org}"
        f"&shares=List({shares})",
        headers=headers(ada),
    )
    (element,) = answer.json()["elements"]
    assert element["share"] == "urn:li:share:7100000000000000001"
    assert element["totalShareStatistics"]["uniqueImpressionsCount"] == 200


async def test_follower_gains_are_net_and_the_total_comes_from_network_sizes(client: httpx.AsyncClient) -> None:
    await seed(client)
    ada = await mint(client, "Ada Lovelace")
    org = enc("urn:li:organization:2414183")
    gains = await client.get(
        f"/rest/organizationalEntityFollowerStatistics?q=organizationalEntity&organizationalEntity={org}"
        f"&timeIntervals={intervals(days_ago(2), days_ago(0))}",
        headers=headers(ada),
    )
    assert [e["followerGains"] for e in gains.json()["elements"]] == [
        {"organicFollowerGain": 5, "paidFollowerGain": 1},
        {"organicFollowerGain": -3, "paidFollowerGain": 0},
    ]
    size = await client.get(f"/rest/networkSizes/{org}?edgeType=COMPANY_FOLLOWED_BY_MEMBER", headers=headers(ada))
    assert size.json() == {"firstDegreeSize": 1200}
    raw = await client.get(
        "/rest/networkSizes/urn:li:organization:2414183?edgeType=COMPANY_FOLLOWED_BY_MEMBER", headers=headers(ada)
    )
    assert raw.status_code == 400 and raw.json()["message"] == "Syntax exception in path variables"


async def test_the_development_tier_allows_100_calls_a_member_a_day(client: httpx.AsyncClient) -> None:
    await seed(client)
    ada = await mint(client, "Ada Lovelace")
    url = "/rest/organizationAcls?q=roleAssignee"
    statuses = [(await client.get(url, headers=headers(ada))).status_code for _ in range(101)]
    assert statuses[:100] == [200] * 100
    assert statuses[100] == 429
    throttled = await client.get(url, headers=headers(ada))
    assert throttled.json()["code"] == "TOO_MANY_REQUESTS" and "retry-after" not in throttled.headers
    await client.post("/_sandbox/clock", json={"advance_s": 86_400})  # a new UTC day
    assert (await client.get(url, headers=headers(ada))).status_code == 200


async def test_a_smaller_quota_can_be_set_for_tests(client: httpx.AsyncClient) -> None:
    await seed(client)
    await client.put("/_sandbox/app", json={"endpoint_quotas": {"community_management": [2, 500]}})
    ada = await mint(client, "Ada Lovelace")
    statuses = [
        (await client.get("/rest/organizationAcls?q=roleAssignee", headers=headers(ada))).status_code for _ in range(3)
    ]
    assert statuses == [200, 200, 429]
