"""The LLM sandbox speaks OpenAI's protocol: the official `openai` SDK works against it, its errors
have OpenAI's shape, and its answers are deterministic, built from the prompt."""

from __future__ import annotations

from collections.abc import Iterator

import httpx
import openai
import pytest

from autopilot.app import create_app
from autopilot.config import LLM_SANDBOX_KEY, LLM_SANDBOX_MODEL, Settings
from tests.support.llm_sandbox import KEY, MODEL, LLMControl, LLMSandboxServer

MESSAGES = [
    {"role": "system", "content": "Be brief."},
    {"role": "user", "content": "Write a post.\nTopic: incident reviews\n- Blame the process\n- Share the timeline"},
]


@pytest.fixture
def sdk(llm_server: LLMSandboxServer, llm: LLMControl) -> Iterator[openai.OpenAI]:
    with openai.OpenAI(base_url=llm_server.api_url, api_key=KEY, max_retries=0, timeout=5) as client:
        yield client


def test_models_and_a_chat_completion_through_the_official_sdk(sdk: openai.OpenAI, llm: LLMControl) -> None:
    assert [m.id for m in sdk.models.list()] == [MODEL]
    completion = sdk.chat.completions.create(model=MODEL, messages=MESSAGES)  # type: ignore[arg-type]
    choice = completion.choices[0]
    assert choice.finish_reason == "stop" and choice.message.role == "assistant"
    text = choice.message.content or ""
    assert text.startswith("A few honest words about incident reviews.")
    assert "→ Blame the process\n→ Share the timeline" in text
    assert completion.usage is not None and completion.usage.total_tokens > 0
    again = sdk.chat.completions.create(model=MODEL, messages=MESSAGES)  # type: ignore[arg-type]
    assert again.choices[0].message.content == text  # the same prompt, the same answer
    assert llm.requests()[0]["messages"] == MESSAGES
    short = sdk.chat.completions.create(model=MODEL, messages=MESSAGES, max_tokens=5)  # type: ignore[arg-type]
    assert short.choices[0].finish_reason == "length" and len(short.choices[0].message.content or "") == 20


def test_errors_come_in_openais_shape(llm_server: LLMSandboxServer, sdk: openai.OpenAI, llm: LLMControl) -> None:
    wrong = openai.OpenAI(base_url=llm_server.api_url, api_key="sk-wrong-key", max_retries=0)
    with wrong, pytest.raises(openai.AuthenticationError) as refused:
        wrong.chat.completions.create(model=MODEL, messages=MESSAGES)  # type: ignore[arg-type]
    assert refused.value.code == "invalid_api_key" and "sk-wrong-key" not in str(refused.value)
    anonymous = httpx.post(f"{llm_server.api_url}/chat/completions", json={"model": MODEL, "messages": MESSAGES})
    assert anonymous.status_code == 401 and anonymous.json()["error"]["type"] == "invalid_request_error"
    with pytest.raises(openai.NotFoundError) as unknown:
        sdk.chat.completions.create(model="gpt-none", messages=MESSAGES)  # type: ignore[arg-type]
    assert unknown.value.code == "model_not_found"
    with pytest.raises(openai.BadRequestError):
        sdk.chat.completions.create(model=MODEL, messages=[])
    llm.faults([{"fault": "rate_limit", "retry_after_s": 9, "times": 1}, {"fault": "error_500", "times": 1}])
    with pytest.raises(openai.RateLimitError) as limited:
        sdk.chat.completions.create(model=MODEL, messages=MESSAGES)  # type: ignore[arg-type]
    assert limited.value.response.headers["retry-after"] == "9" and limited.value.code == "rate_limit_exceeded"
    with pytest.raises(openai.InternalServerError):
        sdk.chat.completions.create(model=MODEL, messages=MESSAGES)  # type: ignore[arg-type]
    assert sdk.chat.completions.create(model=MODEL, messages=MESSAGES).choices  # type: ignore[arg-type]
    assert llm.stats() == {
        "chat.completions 401": 2,
        "chat.completions 404": 1,
        "chat.completions 400": 1,
        "chat.completions 429": 1,
        "chat.completions 500": 1,
        "chat.completions 200": 1,
    }


async def test_the_app_serves_its_own_llm_sandbox_when_no_server_is_configured(settings: Settings) -> None:
    unconfigured = settings.model_copy(update={"llm_base_url": "", "llm_api_key": "", "llm_model": ""})
    assert unconfigured.llm_endpoint == (
        f"{unconfigured.public_url}/sandbox/llm/v1",
        LLM_SANDBOX_KEY,
        LLM_SANDBOX_MODEL,
    )
    app = create_app(unconfigured)
    transport = httpx.ASGITransport(app=app)
    async with httpx.AsyncClient(transport=transport, base_url="http://testserver") as http:
        models = await http.get("/sandbox/llm/v1/models", headers={"Authorization": f"Bearer {LLM_SANDBOX_KEY}"})
        assert models.status_code == 200 and models.json()["data"][0]["id"] == LLM_SANDBOX_MODEL
    configured = create_app(settings)  # a server is configured: no sandbox in the app
    async with httpx.AsyncClient(transport=httpx.ASGITransport(app=configured), base_url="http://testserver") as http:
        assert (await http.get("/sandbox/llm/v1/models")).status_code == 404
