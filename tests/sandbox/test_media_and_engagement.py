"""Images, documents (contract §4.1-4.2) and engagement reads (§5), gated by their scopes."""

from __future__ import annotations

from urllib.parse import quote

import httpx
import pytest

from tests.sandbox.conftest import SCOPES, Token, create_post, login


def enc(urn: str) -> str:
    return quote(urn, safe="")


async def upload(client: httpx.AsyncClient, token: Token, collection: str) -> str:
    init = await client.post(
        f"/rest/{collection}?action=initializeUpload",
        json={"initializeUploadRequest": {"owner": token.author}},
        headers=token.headers(),
    )
    assert init.status_code == 200, init.text
    value = init.json()["value"]
    kind = collection[:-1]
    urn = value[kind]
    assert urn.startswith(f"urn:li:{kind}:") and value["uploadUrl"].startswith("http://linkedin.test/dms-uploads/")
    assert value["uploadUrlExpiresAt"] > 1_600_000_000_000
    status = (await client.get(f"/rest/{collection}/{enc(urn)}", headers=token.headers())).json()["status"]
    assert status == "WAITING_UPLOAD"
    put = await client.put(
        value["uploadUrl"], content=b"%PDF-1.4 bytes", headers={"Authorization": f"Bearer {token.access_token}"}
    )
    assert put.status_code == 201
    statuses = [
        (await client.get(f"/rest/{collection}/{enc(urn)}", headers=token.headers())).json()["status"] for _ in range(2)
    ]
    assert statuses == ["PROCESSING", "AVAILABLE"]
    return str(urn)


async def test_an_image_post_goes_through_upload_and_comes_back_as_a_share(client: httpx.AsyncClient) -> None:
    token = await login(client)
    image = await upload(client, token, "images")
    response = await create_post(client, token, "with image", content={"media": {"id": image, "altText": "a cat"}})
    assert response.status_code == 201 and response.headers["x-restli-id"].startswith("urn:li:share:")
    got = (await client.get(f"/rest/images/{enc(image)}", headers=token.headers())).json()
    assert (await client.get(got["downloadUrl"])).content == b"%PDF-1.4 bytes"


async def test_a_document_post_needs_a_title_and_comes_back_as_a_ugc_post(client: httpx.AsyncClient) -> None:
    token = await login(client)
    document = await upload(client, token, "documents")
    untitled = await create_post(client, token, "deck", content={"media": {"id": document}})
    assert untitled.status_code == 422
    response = await create_post(client, token, "deck", content={"media": {"id": document, "title": "deck.pdf"}})
    assert response.status_code == 201 and response.headers["x-restli-id"].startswith("urn:li:ugcPost:")


async def test_media_status_can_follow_the_sandbox_clock(client: httpx.AsyncClient) -> None:
    await client.put("/_sandbox/app", json={"media_processing_s": 30})
    token = await login(client)
    init = await client.post(
        "/rest/images?action=initializeUpload",
        json={"initializeUploadRequest": {"owner": token.author}},
        headers=token.headers(),
    )
    value = init.json()["value"]
    await client.put(value["uploadUrl"], content=b"img", headers={"Authorization": f"Bearer {token.access_token}"})
    path = f"/rest/images/{enc(value['image'])}"
    assert (await client.get(path, headers=token.headers())).json()["status"] == "PROCESSING"
    await client.post("/_sandbox/clock", json={"advance_s": 31})
    assert (await client.get(path, headers=token.headers())).json()["status"] == "AVAILABLE"


async def test_someone_elses_media_is_forbidden_and_unknown_media_refused(client: httpx.AsyncClient) -> None:
    owner, other = await login(client), await login(client, member="Grace Hopper")
    image = await upload(client, owner, "images")
    stolen = await create_post(client, other, "mine now", content={"media": {"id": image}})
    assert stolen.status_code == 403 and "Accessing this image resource is forbidden" in stolen.json()["message"]
    unknown = await create_post(client, owner, "ghost", content={"media": {"id": "urn:li:image:nope"}})
    assert unknown.status_code == 400
    init = await client.post(
        "/rest/documents?action=initializeUpload",
        json={"initializeUploadRequest": {"owner": owner.author}},
        headers=other.headers(),
    )
    assert init.status_code == 403


ALL = (*SCOPES, "r_member_postAnalytics", "r_member_social_feed")


async def post_with_engagement(client: httpx.AsyncClient) -> tuple[Token, str]:
    token = await login(client, scopes=ALL)
    urn = (await create_post(client, token, "engaging")).headers["x-restli-id"]
    await client.post(f"/_sandbox/posts/{urn}/reactions", json={"count": 3, "type": "LIKE"})
    await client.post(f"/_sandbox/posts/{urn}/reactions", json={"count": 1, "type": "PRAISE"})
    for i in range(3):
        await client.post(f"/_sandbox/posts/{urn}/comments", json={"text": f"great {i}", "author_name": f"Fan {i}"})
    await client.post(f"/_sandbox/posts/{urn}/impressions", json={"impressions": 120, "members_reached": 80})
    return token, urn


@pytest.mark.parametrize(("version", "metric_type"), [("202604", "union"), ("202605", "string")])
async def test_post_analytics_give_the_injected_counts(
    client: httpx.AsyncClient, version: str, metric_type: str
) -> None:
    token, urn = await post_with_engagement(client)
    counts = {}
    for metric in ("IMPRESSION", "MEMBERS_REACHED", "REACTION", "COMMENT", "RESHARE"):
        query = f"q=entity&entity=(share:{enc(urn)})&queryType={metric}&aggregation=TOTAL"
        body = (await client.get(f"/rest/memberCreatorPostAnalytics?{query}", headers=token.headers(version))).json()
        [element] = body["elements"]
        counts[metric] = element["count"]
        assert element["targetEntity"] == {"share": urn}
        shape = element["metricType"]
        assert (
            shape == metric
            if metric_type == "string"
            else shape == {"com.linkedin.adsexternalapi.memberanalytics.v1.CreatorPostAnalyticsMetricTypeV1": metric}
        )
    assert counts == {"IMPRESSION": 120, "MEMBERS_REACHED": 80, "REACTION": 4, "COMMENT": 3, "RESHARE": 0}


async def test_daily_analytics_split_by_day(client: httpx.AsyncClient) -> None:
    token, urn = await post_with_engagement(client)
    await client.post("/_sandbox/clock", json={"advance_s": 86400})
    await client.post(f"/_sandbox/posts/{urn}/reactions", json={"count": 2})
    query = f"q=entity&entity=(share:{enc(urn)})&queryType=REACTION&aggregation=DAILY"
    body = (await client.get(f"/rest/memberCreatorPostAnalytics?{query}", headers=token.headers())).json()
    assert [e["count"] for e in body["elements"]] == [4, 2]
    me = await client.get(
        "/rest/memberCreatorPostAnalytics?q=me&queryType=COMMENT&aggregation=TOTAL", headers=token.headers()
    )
    assert me.json()["elements"][0]["count"] == 3


async def test_social_metadata_summary_comments_and_reactions(client: httpx.AsyncClient) -> None:
    token, urn = await post_with_engagement(client)
    meta = (await client.get(f"/rest/socialMetadata/{enc(urn)}", headers=token.headers())).json()
    assert meta["commentSummary"] == {"count": 3, "topLevelCount": 3}
    assert meta["reactionSummaries"]["LIKE"] == {"reactionType": "LIKE", "count": 3}
    summary = (await client.get(f"/rest/socialActions/{enc(urn)}", headers=token.headers())).json()
    assert summary["likesSummary"]["totalLikes"] == 4 and summary["commentsSummary"]["aggregatedTotalComments"] == 3
    assert "sharesSummary" not in summary
    page = (
        await client.get(f"/rest/socialActions/{enc(urn)}/comments?start=1&count=1", headers=token.headers())
    ).json()
    [comment] = page["elements"]
    activity = comment["object"]
    assert activity.startswith("urn:li:activity:") and comment["message"]["text"] == "great 1"
    assert comment["$URN"] == comment["commentUrn"] == f"urn:li:comment:({activity},{comment['id']})"
    assert page["paging"]["total"] == 3
    reactions = (await client.get(f"/rest/reactions/(entity:{enc(urn)})?q=entity", headers=token.headers())).json()
    assert reactions["paging"]["total"] == 4 and reactions["elements"][0]["root"] == activity
    other_form = await client.get(f"/rest/reactions?q=entity&entity={enc(urn)}", headers=token.headers())
    assert other_form.json()["paging"]["total"] == 4


async def test_engagement_reads_are_refused_without_their_scopes(client: httpx.AsyncClient) -> None:
    token = await login(client, scopes=("openid", "profile", "w_member_social"))
    urn = (await create_post(client, token, "quiet")).headers["x-restli-id"]
    meta = await client.get(f"/rest/socialMetadata/{enc(urn)}", headers=token.headers())
    assert meta.status_code == 403
    assert meta.json()["message"] == "Not enough permissions to access: partnerApiSocialMetadata.GET.20260901"
    query = f"q=entity&entity=(share:{enc(urn)})&queryType=IMPRESSION"
    analytics = await client.get(f"/rest/memberCreatorPostAnalytics?{query}", headers=token.headers())
    assert analytics.status_code == 403
    comments = await client.get(f"/rest/socialActions/{enc(urn)}/comments", headers=token.headers())
    assert comments.status_code == 403
