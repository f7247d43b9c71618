"""The LLM engine over real HTTP: the product's `openai` SDK call reaches the LLM sandbox server.
A good answer becomes a draft (saved on request) and the prompt carries the structure, the profile
and the voice examples; every failure (401, 429, 500, a timeout, a server that is not there, an
answer that cannot be used) is a problem that says what to do, and nothing is saved."""

from __future__ import annotations

from collections.abc import AsyncIterator
from contextlib import asynccontextmanager
from typing import Any

import httpx
import pytest

from autopilot.app import create_app
from autopilot.config import Settings
from tests.support.accounts import Account
from tests.support.llm_sandbox import KEY, MODEL, LLMControl
from tests.support.recorder import free_port

PROFILE = {
    "topics": ["FinOps"],
    "about": "I help SaaS teams cut cloud bills without slowing delivery.",
    "audience": "CTOs of seed-stage startups",
    "voice_examples": ["Shipped it. 🚀\nIt took three tries.\nWorth it? Absolutely."],
}
DRAFT = {
    "structure": "story",
    "topic": "Kubernetes costs",
    "key_points": ["Tag every namespace with an owner", "Review idle nodes weekly"],
    "engine": "llm",
    "seed": 4,
    "save": True,
}


@asynccontextmanager
async def app_client(settings: Settings, **changes: Any) -> AsyncIterator[httpx.AsyncClient]:
    """The app with other LLM settings, on the same database (accounts made elsewhere still log in)."""
    application = create_app(settings.model_copy(update=changes))
    async with application.router.lifespan_context(application):
        transport = httpx.ASGITransport(app=application)
        async with httpx.AsyncClient(transport=transport, base_url="http://testserver") as http:
            yield http


async def nothing_saved(client: httpx.AsyncClient, account: Account) -> None:
    assert (await client.get("/api/v1/content", headers=account.auth)).json() == []


def problem_of(answer: httpx.Response, status: int) -> str:
    assert answer.status_code == status, answer.text
    assert answer.headers["content-type"] == "application/problem+json"
    detail: str = answer.json()["detail"]
    assert "nothing was saved" in detail.lower() or "nothing was cut or saved" in detail.lower()
    return detail


async def test_a_draft_from_the_llm_is_checked_saved_and_built_from_a_prompt_with_the_profile(
    client: httpx.AsyncClient, alice: Account, llm: LLMControl
) -> None:
    assert (await client.put("/api/v1/studio/profile", json=PROFILE, headers=alice.auth)).status_code == 200
    await client.post("/api/v1/content", json={"text": "Earlier post #FinOps"}, headers=alice.auth)
    answer = await client.post("/api/v1/studio/drafts", json=DRAFT, headers=alice.auth)
    assert answer.status_code == 200, answer.text
    body = answer.json()
    assert body["engine"] == "llm" and body["model"] == MODEL and body["sandbox"] is False
    assert body["text"].startswith("A few honest words about Kubernetes costs.")
    assert "→ Tag every namespace with an owner\n→ Review idle nodes weekly" in body["text"]
    assert body["text"].endswith("\n\n#KubernetesCosts #FinOps")  # the topic, then the author's habit
    saved = await client.get(f"/api/v1/content/{body['content_id']}", headers=alice.auth)
    assert saved.json()["text"] == body["text"] and saved.json()["state"] == "draft"

    [request] = llm.requests()
    assert request["model"] == MODEL and request["max_tokens"] == 1200 and request["seed"] == 4
    system, user = request["messages"]
    assert system["role"] == "system" and "no placeholders" in system["content"]
    prompt = user["content"]
    for expected in (
        "Topic: Kubernetes costs",
        "Structure: Story: A moment that happened",
        "  hook: Last year I got Kubernetes costs badly wrong.",
        "- Tag every namespace with an owner",
        f"About the author: {PROFILE['about']}",
        "Audience: CTOs of seed-stage startups",
        "Shipped it. 🚀\nIt took three tries.\nWorth it? Absolutely.",
        "Sentences: short",
    ):
        assert expected in prompt, expected


@pytest.mark.parametrize(
    ("rules", "status", "says"),
    [
        (
            [{"fault": "rate_limit", "retry_after_s": 7}],
            503,
            "rate limiting us (429); nothing was saved. Try again in 7",
        ),
        ([{"fault": "error_500"}], 502, "failed (500)"),
        ([{"fault": "error_503"}], 502, "failed (503)"),
    ],
)
async def test_a_failing_llm_server_is_a_clear_problem_and_nothing_is_saved(
    client: httpx.AsyncClient, alice: Account, llm: LLMControl, rules: list[dict[str, Any]], status: int, says: str
) -> None:
    llm.faults(rules)
    answer = await client.post("/api/v1/studio/drafts", json=DRAFT, headers=alice.auth)
    assert says in problem_of(answer, status)
    if status == 503:
        assert answer.headers["retry-after"] == "7"
    await nothing_saved(client, alice)
    assert len(llm.requests()) == 1  # no retry configured here: one call, one answer


async def test_a_wrong_key_is_named_without_showing_it(
    settings: Settings, client: httpx.AsyncClient, alice: Account, llm: LLMControl
) -> None:
    async with app_client(settings, llm_api_key="sk-wrong-secret-key") as other:
        answer = await other.post("/api/v1/studio/drafts", json=DRAFT, headers=alice.auth)
    detail = problem_of(answer, 502)
    assert "refused our API key (401)" in detail and "AUTOPILOT_LLM_API_KEY" in detail
    assert "sk-wrong" not in answer.text and KEY not in answer.text
    await nothing_saved(client, alice)


async def test_a_slow_server_times_out_with_504(
    settings: Settings, client: httpx.AsyncClient, alice: Account, llm: LLMControl
) -> None:
    llm.faults([{"fault": "slow", "delay_s": 5}])
    async with app_client(settings, llm_timeout_s=0.3) as other:
        answer = await other.post("/api/v1/studio/drafts", json=DRAFT, headers=alice.auth)
    assert "did not answer in time" in problem_of(answer, 504)
    await nothing_saved(client, alice)


async def test_a_server_that_is_not_there_is_503(settings: Settings, client: httpx.AsyncClient, alice: Account) -> None:
    closed = f"http://127.0.0.1:{free_port()}/v1"  # nothing listens: connection refused
    async with app_client(settings, llm_base_url=closed) as other:
        answer = await other.post("/api/v1/studio/drafts", json=DRAFT, headers=alice.auth)
    detail = problem_of(answer, 503)
    assert "could not be reached" in detail and "AUTOPILOT_LLM_BASE_URL" in detail
    await nothing_saved(client, alice)


async def test_an_unknown_model_or_none_configured_is_named(
    settings: Settings, client: httpx.AsyncClient, alice: Account, llm: LLMControl
) -> None:
    async with app_client(settings, llm_model="gpt-nonexistent") as other:
        unknown = await other.post("/api/v1/studio/drafts", json=DRAFT, headers=alice.auth)
        assert "does not know the model 'gpt-nonexistent' (404)" in problem_of(unknown, 502)
    async with app_client(settings, llm_model="") as other:
        unset = await other.post("/api/v1/studio/drafts", json=DRAFT, headers=alice.auth)
        assert unset.status_code == 503 and "AUTOPILOT_LLM_MODEL" in unset.json()["detail"]
    await nothing_saved(client, alice)


@pytest.mark.parametrize(
    ("reply", "finish", "says"),
    [
        ("word " * 700, "stop", "the post is 3,499 characters as LinkedIn counts them"),
        ("(a) " * 600, "stop", "the post is 3,599 characters"),  # 2,399 typed, 3,599 once escaped
        ("word " * 1000, "stop", "stopped at its length limit"),  # 5,000 characters: over max_tokens
        ("Dear [Client name], here is {topic}.", "stop", "unfilled placeholder: [Client name], {topic}"),
        ("   \n  ", "stop", "empty post"),
        ("A fine post, cut short", "length", "stopped at its length limit"),
    ],
)
async def test_an_answer_that_cannot_be_posted_is_refused_never_cut(
    client: httpx.AsyncClient, alice: Account, llm: LLMControl, reply: str, finish: str, says: str
) -> None:
    llm.reply(reply, finish_reason=finish)
    answer = await client.post("/api/v1/studio/drafts", json=DRAFT, headers=alice.auth)
    detail = problem_of(answer, 502)
    assert says in detail and "Nothing was cut or saved" in detail
    await nothing_saved(client, alice)


async def test_an_answer_with_its_own_hashtags_keeps_them_and_the_limit_drops_ours_first(
    client: httpx.AsyncClient, alice: Account, llm: LLMControl
) -> None:
    llm.reply("Short post. #Mine")
    own = await client.post("/api/v1/studio/drafts", json={**DRAFT, "save": False}, headers=alice.auth)
    assert own.json()["text"] == "Short post. #Mine" and own.json()["hashtags"] == []
    assert "The model wrote its own hashtags" in own.json()["notes"][0]
    llm.reply("x" * 2990)  # fits alone; with " #KubernetesCosts" on a line of its own it would not
    full = await client.post("/api/v1/studio/drafts", json={**DRAFT, "save": False}, headers=alice.auth)
    assert full.status_code == 200, full.text
    assert full.json()["text"] == "x" * 2990 and full.json()["preview"]["characters"] == 2990
    assert any("Left out a hashtag" in note for note in full.json()["notes"])
