"""Fault injection and request counting, as an ASGI middleware around the whole sandbox.

Each request gets an endpoint name (`posts.create`, `token`, ...). A matching rule set through
`POST /_sandbox/faults` can answer 500/503/429, delay the answer (`timeout`), break the connection
(`reset`), or create the post and never deliver the answer (`commit_then_drop`).

How a connection is broken: ASGI gives no handle on the socket, so the middleware sends the
response head and then raises `ConnectionDropped`. The server (uvicorn) then closes the socket
in the middle of the response; the client reads a status line followed by a body that never
arrives and reports a protocol/read error (httpx: RemoteProtocolError, requests: ChunkedEncodingError).
The head of a dropped response is a neutral `200` with a chunked body, so it leaks nothing (no x-restli-id).
When the request body is still unread in the socket (a `reset` before the app read it), the kernel
answers the close with a TCP RST instead: the client sees "connection reset by peer" (httpx: ReadError).
Under httpx.ASGITransport the exception reaches the client as it is.
"""

from __future__ import annotations

import asyncio
import json
import re
from typing import Any

from starlette.types import ASGIApp, Message, Receive, Scope, Send

from autopilot.sandbox.linkedin.gate import THROTTLED
from autopilot.sandbox.linkedin.state import FAULT_KINDS, FaultRule, SandboxState
from autopilot.sandbox.linkedin.web import route_path


class ConnectionDropped(Exception):
    """Raised on purpose after a response head: the server closes the connection mid-response."""


_ROUTES: list[tuple[str, re.Pattern[str], str]] = [
    (m, re.compile(p), name)
    for m, p, name in [
        ("GET", r"^/oauth/v2/authorization$", "authorize"),
        ("POST", r"^/oauth/v2/authorization/consent$", "authorize"),
        ("POST", r"^/oauth/v2/accessToken$", "token"),
        ("POST", r"^/oauth/v2/introspectToken$", "introspect"),
        ("POST", r"^/oauth/v2/revoke$", "revoke"),
        ("GET", r"^/v2/userinfo$", "userinfo"),
        ("POST", r"^/rest/posts$", "posts.create"),
        ("GET", r"^/rest/posts$", "posts.finder"),
        ("GET", r"^/rest/posts/[^/]+$", "posts.get"),
        ("POST", r"^/rest/posts/[^/]+$", "posts.update"),
        ("DELETE", r"^/rest/posts/[^/]+$", "posts.delete"),
        ("POST", r"^/rest/images$", "images.init"),
        ("POST", r"^/rest/documents$", "documents.init"),
        ("GET", r"^/rest/images/[^/]+$", "images.get"),
        ("GET", r"^/rest/documents/[^/]+$", "documents.get"),
        ("PUT", r"^/dms-uploads/", "media.upload"),
        ("GET", r"^/rest/memberCreatorPostAnalytics$", "analytics"),
        ("GET", r"^/rest/socialMetadata/", "social_metadata"),
        ("GET", r"^/rest/socialActions/[^/]+/comments$", "comments.list"),
        ("POST", r"^/rest/socialActions/[^/]+/comments$", "comments.create"),
        ("GET", r"^/rest/socialActions/[^/]+$", "social_actions"),
        ("GET", r"^/rest/reactions", "reactions.list"),
        ("GET", r"^/rest/organizationAcls$", "organizations.acls"),
        ("GET", r"^/rest/organizations/[^/]+$", "organizations.get"),
        ("GET", r"^/rest/organizationalEntityShareStatistics$", "organizations.share_statistics"),
        ("GET", r"^/rest/organizationalEntityFollowerStatistics$", "organizations.follower_statistics"),
        ("GET", r"^/rest/networkSizes/", "organizations.network_size"),
    ]
]


def endpoint_name(method: str, path: str) -> str:
    """The name fault rules, quotas and /_sandbox/stats use for a request."""
    if path.startswith("/_sandbox"):
        return "control"
    for route_method, pattern, name in _ROUTES:
        if method == route_method and pattern.search(path):
            return name
    return "other"


class FaultMiddleware:
    """Applies latency and faults to every non-control request and counts what was served."""

    def __init__(self, app: ASGIApp, state: SandboxState) -> None:
        self.app = app
        self.state = state

    async def __call__(self, scope: Scope, receive: Receive, send: Send) -> None:
        if scope["type"] != "http":
            await self.app(scope, receive, send)
            return
        name = endpoint_name(scope["method"], route_path(scope["path"], scope.get("root_path", "")))
        if name == "control":
            await self.app(scope, receive, send)
            return
        stats = self.state.stats
        status_seen: list[int] = []

        async def counting_send(message: Message) -> None:
            if message["type"] == "http.response.start":
                status = int(message["status"])
                status_seen.append(status)
                stats["requests"][f"{name} {status}"] += 1
                if status >= 500:
                    stats["served"]["5xx"] += 1
                elif status == 429:
                    stats["served"]["429"] += 1
            await send(message)

        if self.state.config.latency_ms > 0:
            await asyncio.sleep(self.state.config.latency_ms / 1000)
        rule = self.state.pick_fault(name)
        if rule is None:
            await self.app(scope, receive, counting_send)
            return
        await self._inject(rule, scope, receive, send, counting_send)

    async def _inject(self, rule: FaultRule, scope: Scope, receive: Receive, send: Send, counting_send: Send) -> None:
        if rule.fault in ("error_500", "error_503", "rate_limit"):
            status, code, message = {
                "error_500": (500, "INTERNAL_SERVER_ERROR", "Internal Server Error"),
                "error_503": (503, "SERVICE_UNAVAILABLE", "Service Unavailable"),
                "rate_limit": (429, "TOO_MANY_REQUESTS", THROTTLED),
            }[rule.fault]  # fmt: skip
            headers = [(b"content-type", b"application/json")]
            if rule.fault == "rate_limit" and self.state.config.send_retry_after:
                headers.append((b"retry-after", str(self.state.config.retry_after_s).encode()))
            body = json.dumps({"status": status, "code": code, "message": message}).encode()
            headers.append((b"content-length", str(len(body)).encode()))
            await counting_send({"type": "http.response.start", "status": status, "headers": headers})
            await counting_send({"type": "http.response.body", "body": body})
        elif rule.fault == "timeout":
            await asyncio.sleep(rule.timeout_s)
            await self.app(scope, receive, counting_send)
        elif rule.fault == "reset":
            await _drop(send)
        elif rule.fault == "commit_then_drop":
            held: list[Message] = []

            async def hold(message: Message) -> None:
                held.append(message)

            await self.app(scope, receive, hold)  # the work is done and stored; the answer is withheld
            if rule.hang_s > 0:
                await asyncio.sleep(rule.hang_s)
            await _drop(send)


async def _drop(send: Send) -> None:
    await send({"type": "http.response.start", "status": 200, "headers": [(b"transfer-encoding", b"chunked")]})
    await send({"type": "http.response.body", "body": b"", "more_body": True})
    raise ConnectionDropped("sandbox fault: connection dropped on purpose")


def rule_from_json(data: dict[str, Any]) -> FaultRule:
    """A rule of `POST /_sandbox/faults`; ValueError for an unknown fault."""
    fault = str(data.get("fault", ""))
    if fault not in FAULT_KINDS:
        raise ValueError(f"unknown fault {fault!r}; known: {', '.join(FAULT_KINDS)}")
    times = data.get("times")
    return FaultRule(
        endpoint=str(data.get("endpoint", "any")),
        fault=fault,
        probability=float(data.get("probability", 1.0)),
        times=None if times is None else int(times),
        timeout_s=float(data.get("timeout_s", 30.0)),
        hang_s=float(data.get("hang_s", 0.0)),
    )
