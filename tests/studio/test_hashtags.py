"""Hashtag suggestions: normalised (#CamelCase, no punctuation, no duplicates), three or fewer by
default, from the author's own history weighted by use and recency, then the topic."""

from __future__ import annotations

from datetime import UTC, datetime, timedelta

import httpx
import time_machine

from autopilot.studio.hashtags import PastPost, normalise, suggest
from tests.support.accounts import Account, member

NOW = datetime(2027, 3, 1, 9, 0, tzinfo=UTC)


def test_hashtags_are_normalised_to_camel_case_without_punctuation() -> None:
    assert normalise("platform engineering") == "#PlatformEngineering"
    assert normalise("#devOps") == "#DevOps"
    assert normalise("C++") == "#CPlusPlus"
    assert normalise("C#") == "#CSharp"
    assert normalise(".NET") == "#DotNET"
    assert normalise("site-reliability_engineering!") == "#SiteReliabilityEngineering"
    assert normalise("Café culture") == "#CaféCulture"
    assert normalise("2024") is None and normalise("  ") is None and normalise("x" * 41) is None


def past(text: str, days: float) -> PastPost:
    return PastPost(text, NOW - timedelta(days=days))


def test_history_weighs_by_use_and_recency_and_relevant_tags_come_first() -> None:
    history = [
        past("Old habit #Leadership", 200),
        past("Old habit #Leadership", 190),
        past("Old habit #leadership", 180),  # three uses, but half a year ago
        past("Fresh #Hiring", 1),
        past("About #kubernetes costs", 40),
        past("Again #Kubernetes", 50),
    ]
    chosen = suggest(history, "Kubernetes costs", now=NOW)
    assert [s.tag for s in chosen] == ["#Kubernetes", "#KubernetesCosts", "#Hiring"]
    assert chosen[0].source == "history" and chosen[0].uses == 2
    assert chosen[1].source == "topic"
    assert len(suggest(history, "Kubernetes costs", now=NOW, count=5)) == 4  # Leadership joins last
    assert suggest(history, "Kubernetes costs", now=NOW, count=0) == []


def test_no_duplicates_whatever_the_spelling_and_profile_topics_fill_in() -> None:
    history = [past("#finops #FinOps #FINOPS", 3)]
    chosen = suggest(history, "cloud finops", ["FinOps", "platform engineering"], ["Cloud FinOps", "Security"], now=NOW)
    tags = [s.tag.lower() for s in chosen]
    assert len(tags) == len(set(tags)) == 3
    assert tags[0] in ("#finops", "#FINOPS".lower())


async def test_a_draft_suggests_hashtags_from_the_authors_own_recent_posts(
    client: httpx.AsyncClient, alice: Account, bob: Account
) -> None:
    with time_machine.travel(datetime.now(UTC) - timedelta(days=120), tick=True):
        for _ in range(3):  # used often, long ago
            await client.post("/api/v1/content", json={"text": "Old #Leadership notes"}, headers=alice.auth)
    for text in ("Cutting #Kubernetes costs", "More on #kubernetes", "Team news #Hiring"):
        assert (await client.post("/api/v1/content", json={"text": text}, headers=alice.auth)).status_code == 201
    await client.post("/api/v1/content", json={"text": "Someone else's #BobsBrand"}, headers=bob.auth)
    colleague = await member(client, alice, "carol@example.com", "editor")  # same organization, own habits
    for _ in range(4):
        await client.post("/api/v1/content", json={"text": "Carol's #KubernetesTips"}, headers=colleague.auth)
    body = {"structure": "checklist", "topic": "Kubernetes costs", "seed": 1}
    answer = await client.post("/api/v1/studio/drafts", json=body, headers=alice.auth)
    assert answer.status_code == 200, answer.text
    tags = [h["tag"] for h in answer.json()["hashtags"]]
    assert tags == ["#Kubernetes", "#KubernetesCosts", "#Hiring"]
    assert answer.json()["text"].endswith("\n\n#Kubernetes #KubernetesCosts #Hiring")
    fewer = await client.post("/api/v1/studio/drafts", json={**body, "hashtags": 1}, headers=alice.auth)
    assert [h["tag"] for h in fewer.json()["hashtags"]] == ["#Kubernetes"]
    carols = await client.post("/api/v1/studio/drafts", json=body, headers=colleague.auth)
    assert carols.json()["hashtags"][0]["tag"] == "#KubernetesTips"
    other = await client.post("/api/v1/studio/drafts", json=body, headers=bob.auth)
    assert "#Kubernetes " not in other.json()["text"] and "#BobsBrand" in other.json()["text"]
