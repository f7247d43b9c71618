"""The push service as an ASGI app, and as a standalone uvicorn server."""

from __future__ import annotations

import re
import time
from typing import Any

from fastapi import APIRouter, FastAPI, Request
from fastapi.responses import JSONResponse, Response

from autopilot.sandbox.webpush.crypto import BadToken, Undecryptable, decrypt, unb64url, verify_vapid
from autopilot.sandbox.webpush.state import FAULT_STATUSES, EmulatorState, Fault, Subscription

MAX_BODY = 4096  # RFC 8030 §7.2: a push service must accept 4096 bytes; we refuse more
MAX_EXP_AHEAD_S = 24 * 3600  # RFC 8292 §2: exp no more than 24 hours after the request
URGENCIES = ("very-low", "low", "normal", "high")  # RFC 8030 §5.3
TOPIC = re.compile(r"^[A-Za-z0-9_-]{1,32}$")  # RFC 8030 §5.4: up to 32 base64url characters
VAPID = re.compile(r"^vapid\s+(?P<params>.+)$", re.IGNORECASE)
CONTACT = re.compile(r"^(mailto:[^@\s]+@[^@\s]+|https://\S+)$")

push = APIRouter()
control = APIRouter(prefix="/_emulator")


def _state(request: Request) -> EmulatorState:
    state: EmulatorState = request.app.state.emulator
    return state


def _origin(request: Request) -> str:
    return str(request.base_url).rstrip("/")


def _answer(status: int, reason: str, headers: dict[str, str] | None = None) -> JSONResponse:
    return JSONResponse({"status": status, "reason": reason}, status_code=status, headers=headers)


def _vapid_params(header: str) -> dict[str, str] | None:
    matched = VAPID.match(header.strip())
    if matched is None:
        return None
    params: dict[str, str] = {}
    for part in matched.group("params").split(","):
        name, _, value = part.strip().partition("=")
        params[name.strip().lower()] = value.strip()
    return params if params.get("t") and params.get("k") else None


def _check_claims(claims: dict[str, Any], origin: str, now: float) -> str | None:
    """Why the claims are refused (RFC 8292 §2), or None."""
    if claims.get("aud") != origin:
        return f"aud must be this push resource's origin {origin!r}, not {claims.get('aud')!r}"
    exp = claims.get("exp")
    if not isinstance(exp, int) or isinstance(exp, bool):
        return "exp is missing or not an integer"
    if exp <= now:
        return "the token expired (exp is in the past)"
    if exp > now + MAX_EXP_AHEAD_S:
        return "exp is more than 24 hours ahead"
    if not isinstance(claims.get("sub"), str) or not CONTACT.match(claims["sub"]):
        return "sub must be a mailto: or https: contact"
    return None


@push.post("/push/{subscription_id}")
async def receive(subscription_id: str, request: Request) -> Response:
    """A push message from an application server (RFC 8030 §5), checked in the order a push
    service would: the subscription, the headers, the size, the VAPID token, then the body."""
    state = _state(request)
    subscription = state.find(subscription_id)
    if subscription is None:
        return _answer(404, "no such subscription (expired or never existed)")
    fault = state.take_fault(subscription)
    if fault is not None:
        headers = {"Retry-After": str(fault.retry_after)} if fault.retry_after is not None else None
        return _answer(fault.status, "fault injected by the emulator", headers)
    ttl = request.headers.get("ttl")
    if ttl is None or not ttl.strip().isdigit():
        return _answer(400, "the TTL header is required (RFC 8030 §5.2), as a number of seconds")
    urgency = request.headers.get("urgency", "normal").strip()
    if urgency not in URGENCIES:
        return _answer(400, f"Urgency must be one of {', '.join(URGENCIES)}")
    topic = request.headers.get("topic")
    if topic is not None and not TOPIC.match(topic):
        return _answer(400, "Topic must be 1 to 32 base64url characters")
    body = await request.body()
    if len(body) > MAX_BODY:
        return _answer(413, f"the body is {len(body)} bytes; at most {MAX_BODY}")
    params = _vapid_params(request.headers.get("authorization", ""))
    if params is None:
        return _answer(401, "send Authorization: vapid t=<JWT>, k=<public key> (RFC 8292 §3)")
    try:
        claims = verify_vapid(params["t"], params["k"])
    except BadToken as exc:
        return _answer(403, str(exc))
    refused = _check_claims(claims, _origin(request), time.time())
    if refused is not None:
        return _answer(403, refused)
    if subscription.application_server_key and unb64url(params["k"]) != unb64url(subscription.application_server_key):
        return _answer(403, "k is not the application server key this subscription was made with")
    if request.headers.get("content-encoding", "").lower() != "aes128gcm":
        return _answer(400, "Content-Encoding must be aes128gcm (RFC 8291 §4)")
    try:
        plaintext = decrypt(body, subscription.keys)
    except Undecryptable as exc:
        return _answer(400, f"the body does not decrypt: {exc}")
    try:
        payload = plaintext.decode()
    except UnicodeDecodeError:
        return _answer(400, "the decrypted payload is not UTF-8 text")
    message = state.record(subscription, payload, int(ttl), urgency, topic, claims)
    return Response(
        status_code=201,
        headers={"Location": f"{_origin(request)}/_emulator/messages/{message.id}", "TTL": ttl.strip()},
    )


async def _json(request: Request) -> dict[str, Any]:
    try:
        data = await request.json()
    except ValueError:
        return {}
    return data if isinstance(data, dict) else {}


def _found(request: Request, subscription_id: str) -> Subscription | JSONResponse:
    found = _state(request).find(subscription_id)
    return found if found is not None else _answer(404, "no such subscription")


@control.post("/subscriptions", status_code=201)
async def subscribe(request: Request) -> JSONResponse:
    """A new subscription, as `pushManager.subscribe()` would give a page; the emulator keeps the
    private key and the auth secret. `{"application_server_key": k}` makes it restricted."""
    data = await _json(request)
    key = data.get("application_server_key")
    if key is not None and not isinstance(key, str):
        return _answer(400, "application_server_key must be a base64url string")
    subscription = _state(request).subscribe(key)
    return JSONResponse(subscription.as_json(_origin(request)), status_code=201)


@control.get("/subscriptions/{subscription_id}")
async def subscription(request: Request, subscription_id: str) -> Response:
    found = _found(request, subscription_id)
    return found if isinstance(found, Response) else JSONResponse(found.as_json(_origin(request)))


@control.delete("/subscriptions/{subscription_id}", status_code=204)
async def unsubscribe(request: Request, subscription_id: str) -> Response:
    """The browser dropped the subscription: its endpoint answers 410 Gone from now on."""
    found = _found(request, subscription_id)
    if isinstance(found, Response):
        return found
    found.fault = Fault(410)
    return Response(status_code=204)


@control.get("/subscriptions/{subscription_id}/messages")
async def messages(request: Request, subscription_id: str) -> Response:
    """Every message the subscription holds, oldest first, decrypted (delivered or still waiting)."""
    found = _found(request, subscription_id)
    if isinstance(found, Response):
        return found
    return JSONResponse({"messages": [m.as_json() for m in found.messages]})


@control.post("/subscriptions/{subscription_id}/deliver")
async def deliver(request: Request, subscription_id: str) -> Response:
    """The device comes online: the waiting messages are handed over (the answer lists them)."""
    found = _found(request, subscription_id)
    if isinstance(found, Response):
        return found
    return JSONResponse({"messages": [m.as_json() for m in _state(request).deliver(found)]})


@control.put("/subscriptions/{subscription_id}/fault")
async def set_fault(request: Request, subscription_id: str) -> Response:
    """`{"status": 404|410|413|429|500|503, "retry_after": s, "times": n}`: answer the next pushes
    with that status (all of them when times is absent)."""
    found = _found(request, subscription_id)
    if isinstance(found, Response):
        return found
    data = await _json(request)
    status, retry_after, times = data.get("status"), data.get("retry_after"), data.get("times")
    if status not in FAULT_STATUSES:
        return _answer(400, f"status must be one of {', '.join(map(str, FAULT_STATUSES))}")
    for name, value in (("retry_after", retry_after), ("times", times)):
        if value is not None and (not isinstance(value, int) or isinstance(value, bool) or value < 0):
            return _answer(400, f"{name} must be a whole number")
    found.fault = Fault(status, retry_after, times)
    return JSONResponse(found.as_json(_origin(request)))


@control.delete("/subscriptions/{subscription_id}/fault", status_code=204)
async def clear_fault(request: Request, subscription_id: str) -> Response:
    found = _found(request, subscription_id)
    if isinstance(found, Response):
        return found
    found.fault = None
    return Response(status_code=204)


@control.get("/health")
async def health() -> dict[str, bool]:
    """Answers once the emulator takes pushes (tests wait for it)."""
    return {"ok": True}


@control.post("/reset", status_code=204)
async def reset(request: Request) -> Response:
    _state(request).reset()
    return Response(status_code=204)


def create_app() -> FastAPI:
    """A fresh push service with its own in-memory state (app.state.emulator)."""
    app = FastAPI(title="Web Push service (emulator)", docs_url=None, redoc_url=None, openapi_url=None)
    app.state.emulator = EmulatorState()
    app.include_router(push)
    app.include_router(control)
    return app


def serve(host: str, port: int) -> None:
    """Run the emulator with uvicorn until interrupted."""
    import uvicorn

    uvicorn.run(create_app(), host=host, port=port, log_level="warning")
