"""The LLM sandbox as an ASGI app (mountable under any prefix) and as a standalone uvicorn server."""

from __future__ import annotations

import asyncio
import time
import uuid
from collections import Counter
from dataclasses import dataclass, field
from typing import Any

from fastapi import APIRouter, FastAPI, Request
from fastapi.responses import JSONResponse, Response

from autopilot.sandbox.llm import writer
from autopilot.sandbox.llm.config import LLMSandboxConfig

FAULTS = ("rate_limit", "error_500", "error_503", "slow")
CREATED = 1_700_000_000  # the models' "created" stamp: any fixed time


@dataclass
class FaultRule:
    fault: str
    times: int | None = None  # None: every request
    retry_after_s: int = 20
    delay_s: float = 30.0


@dataclass
class LLMState:
    config: LLMSandboxConfig
    faults: list[FaultRule] = field(default_factory=list)
    reply: str | None = None
    finish_reason: str = "stop"
    requests: list[dict[str, Any]] = field(default_factory=list)
    stats: Counter[str] = field(default_factory=Counter)

    def next_fault(self) -> FaultRule | None:
        for rule in self.faults:
            if rule.times is None or rule.times > 0:
                if rule.times is not None:
                    rule.times -= 1
                return rule
        return None


def error(status: int, message: str, kind: str, code: str | None = None, **headers: str) -> JSONResponse:
    """An error in OpenAI's shape."""
    body = {"error": {"message": message, "type": kind, "param": None, "code": code}}
    return JSONResponse(body, status_code=status, headers=headers or None)


def _state(request: Request) -> LLMState:
    state: LLMState = request.app.state.llm
    return state


def _masked(key: str) -> str:
    return f"{key[:3]}{'*' * max(len(key) - 7, 3)}{key[-4:]}" if len(key) > 7 else "***"


def _refused_key(request: Request) -> JSONResponse | None:
    """401 unless the request carries one of the sandbox's keys as a Bearer token."""
    header = request.headers.get("authorization", "")
    scheme, _, key = header.partition(" ")
    if scheme.lower() != "bearer" or not key.strip():
        return error(
            401,
            "You didn't provide an API key. You need to provide your API key in an Authorization header "
            "using Bearer auth (i.e. Authorization: Bearer YOUR_KEY).",
            "invalid_request_error",
        )
    if key.strip() not in _state(request).config.api_keys:
        message = f"Incorrect API key provided: {_masked(key.strip())}."
        return error(401, message, "invalid_request_error", "invalid_api_key")
    return None


async def _faulted(state: LLMState) -> JSONResponse | None:
    rule = state.next_fault()
    if rule is None:
        return None
    if rule.fault == "slow":
        await asyncio.sleep(rule.delay_s)
        return None
    if rule.fault == "rate_limit":
        seconds = str(rule.retry_after_s)
        return error(
            429,
            f"Rate limit reached for requests per min (RPM). Please try again in {seconds}s.",
            "requests",
            "rate_limit_exceeded",
            **{
                "retry-after": seconds,
                "x-ratelimit-remaining-requests": "0",
                "x-ratelimit-reset-requests": f"{seconds}s",
            },
        )
    if rule.fault == "error_503":
        return error(503, "The engine is currently overloaded, please try again later.", "server_error")
    return error(500, "The server had an error while processing your request. Sorry about that!", "server_error")


api = APIRouter(prefix="/v1")


@api.get("/models")
async def models(request: Request) -> Response:
    refused = _refused_key(request)
    if refused:
        return refused
    served = _state(request).config.models
    data = [{"id": m, "object": "model", "created": CREATED, "owned_by": "sandbox"} for m in served]
    return JSONResponse({"object": "list", "data": data})


def _invalid(message: str) -> JSONResponse:
    return error(400, message, "invalid_request_error")


def _check(body: Any, models_served: tuple[str, ...]) -> JSONResponse | None:
    if not isinstance(body, dict):
        return _invalid("We could not parse the JSON body of your request.")
    messages = body.get("messages")
    if not isinstance(messages, list) or not messages or not all(isinstance(m, dict) and "role" in m for m in messages):
        return _invalid("'messages' must be a non-empty array of objects with a 'role'.")
    model = body.get("model")
    if not isinstance(model, str) or not model:
        return _invalid("you must provide a model parameter")
    if model not in models_served:
        message = f"The model `{model}` does not exist or you do not have access to it."
        return error(404, message, "invalid_request_error", "model_not_found")
    if body.get("stream"):
        return _invalid("Streaming is not supported by this sandbox.")
    for name in ("max_tokens", "max_completion_tokens"):
        value = body.get(name)
        if value is not None and (not isinstance(value, int) or isinstance(value, bool) or value < 1):
            return _invalid(f"Invalid '{name}': integer below minimum value. Expected a value >= 1.")
    return None


@api.post("/chat/completions")
async def chat_completions(request: Request) -> Response:
    state = _state(request)
    refused = _refused_key(request)
    if refused:
        return refused
    try:
        body = await request.json()
    except ValueError:
        body = None
    invalid = _check(body, state.config.models)
    if invalid:
        return invalid
    state.requests.append(body)
    faulted = await _faulted(state)
    if faulted:
        return faulted
    messages: list[dict[str, Any]] = body["messages"]
    content = state.reply if state.reply is not None else writer.compose(messages, body["model"])
    max_tokens = body.get("max_completion_tokens") or body.get("max_tokens")
    content, finish = writer.limit(content, max_tokens)
    if state.reply is not None and finish == "stop":
        finish = state.finish_reason
    prompt_tokens = sum(writer.tokens(writer.text_of(m.get("content"))) for m in messages)
    completion_tokens = writer.tokens(content)
    return JSONResponse(
        {
            "id": f"chatcmpl-{uuid.uuid4().hex[:24]}",
            "object": "chat.completion",
            "created": int(time.time()),
            "model": body["model"],
            "system_fingerprint": "fp_sandbox",
            "choices": [
                {
                    "index": 0,
                    "message": {"role": "assistant", "content": content, "refusal": None},
                    "logprobs": None,
                    "finish_reason": finish,
                }
            ],
            "usage": {
                "prompt_tokens": prompt_tokens,
                "completion_tokens": completion_tokens,
                "total_tokens": prompt_tokens + completion_tokens,
            },
        }
    )


control = APIRouter(prefix="/_sandbox")


async def _json(request: Request) -> dict[str, Any]:
    try:
        data = await request.json()
    except ValueError:
        return {}
    return data if isinstance(data, dict) else {}


@control.post("/faults")
async def set_faults(request: Request) -> JSONResponse:
    rules = []
    for raw in (await _json(request)).get("rules", []):
        fault = str(raw.get("fault", ""))
        if fault not in FAULTS:
            return JSONResponse({"error": f"unknown fault {fault!r}; known: {', '.join(FAULTS)}"}, status_code=400)
        times = raw.get("times")
        rules.append(
            FaultRule(
                fault=fault,
                times=None if times is None else int(times),
                retry_after_s=int(raw.get("retry_after_s", 20)),
                delay_s=float(raw.get("delay_s", 30.0)),
            )
        )
    _state(request).faults = rules
    return JSONResponse({"rules": len(rules)})


@control.delete("/faults")
async def clear_faults(request: Request) -> Response:
    _state(request).faults = []
    return Response(status_code=204)


@control.post("/reply")
async def set_reply(request: Request) -> JSONResponse:
    data = await _json(request)
    content = data.get("content")
    state = _state(request)
    state.reply = None if content is None else str(content)
    state.finish_reason = str(data.get("finish_reason", "stop"))
    return JSONResponse({"reply": state.reply, "finish_reason": state.finish_reason})


@control.get("/requests")
async def received(request: Request) -> JSONResponse:
    return JSONResponse({"requests": _state(request).requests})


@control.get("/stats")
async def stats(request: Request) -> JSONResponse:
    return JSONResponse({"requests": dict(_state(request).stats)})


@control.post("/reset")
async def reset(request: Request) -> Response:
    state = _state(request)
    state.faults, state.reply, state.finish_reason = [], None, "stop"
    state.requests.clear()
    state.stats.clear()
    return Response(status_code=204)


def create_app(config: LLMSandboxConfig | None = None) -> FastAPI:
    """A fresh LLM sandbox with its own in-memory state (app.state.llm)."""
    app = FastAPI(title="LLM (Sandbox)", docs_url=None, redoc_url=None, openapi_url=None)
    state = LLMState(config or LLMSandboxConfig())
    app.state.llm = state
    app.include_router(api)
    app.include_router(control)

    @app.middleware("http")
    async def count(request: Request, call_next: Any) -> Response:
        outside_control = "/_sandbox/" not in request.url.path
        if state.config.latency_ms > 0 and outside_control:
            await asyncio.sleep(state.config.latency_ms / 1000)
        response: Response = await call_next(request)
        if outside_control:
            endpoint = "chat.completions" if request.url.path.endswith("/chat/completions") else "models"
            state.stats[f"{endpoint} {response.status_code}"] += 1
        return response

    return app


def serve(host: str, port: int, config: LLMSandboxConfig) -> None:
    """Run the sandbox with uvicorn until interrupted."""
    import uvicorn

    uvicorn.run(create_app(config), host=host, port=port, log_level="warning")
