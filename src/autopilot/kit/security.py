"""Security headers on every response, HEAD answered wherever GET is, and the 500 answered here.

`SecurityHeadersMiddleware` sits around the whole application (inside the request-id middleware,
outside the body-size limit), so every response leaves through it: pages, API JSON, problem+json
errors, 404/405, static files, redirects, the 413 refusal, and the 500 for an unexpected exception,
which it answers itself (through `kit.errors.unexpected_error`) so that the 500 carries the headers
and its one log line carries the request id. A route that sets one of these headers itself keeps
its own value.

Content-Security-Policy: HTML documents get `PAGE_POLICY` (scripts, styles, fonts, images and
fetches from this origin only; no inline script or style, no eval, no plugins, no framing, forms
post only here); every other response (JSON, problem+json, static files, metrics) gets
`LOCKED_POLICY`, which lets nothing load, since none of them is a document that should.
"""

from __future__ import annotations

from starlette.requests import Request
from starlette.types import ASGIApp, Message, Receive, Scope, Send

from autopilot.kit.errors import unexpected_error


def page_policy(*form_targets: str) -> str:
    """The policy of an HTML document; *form_targets* are origins besides this one that a form of
    the page may lead to, e.g. the OAuth provider a form's redirect goes to (browsers check
    form-action on redirects too)."""
    return "; ".join(
        [
            "default-src 'self'",
            "script-src 'self'",
            "style-src 'self'",
            "img-src 'self' data:",
            "font-src 'self'",
            "connect-src 'self'",
            "worker-src 'self'",  # the service worker (/sw.js)
            "manifest-src 'self'",  # the web app manifest, for installing the app
            "object-src 'none'",
            "base-uri 'none'",
            " ".join(["form-action 'self'", *form_targets]),
            "frame-ancestors 'none'",
        ]
    )


PAGE_POLICY = page_policy()
LOCKED_POLICY = "default-src 'none'; frame-ancestors 'none'; base-uri 'none'; form-action 'none'"
PERMISSIONS_POLICY = ", ".join(
    f"{feature}=()"
    for feature in (
        "accelerometer",
        "camera",
        "geolocation",
        "gyroscope",
        "magnetometer",
        "microphone",
        "payment",
        "usb",
    )
)
HSTS = "max-age=31536000; includeSubDomains"
COMMON_HEADERS: tuple[tuple[str, str], ...] = (
    ("x-frame-options", "DENY"),
    ("x-content-type-options", "nosniff"),
    ("referrer-policy", "same-origin"),
    ("permissions-policy", PERMISSIONS_POLICY),
    ("cross-origin-opener-policy", "same-origin"),
)
_BODY_MESSAGES = ("http.response.body", "http.response.pathsend", "http.response.zerocopysend")


def security_headers(content_type: str, *, production: bool) -> list[tuple[str, str]]:
    """The headers a response of *content_type* gets (HSTS only in production: behind TLS)."""
    is_document = content_type.split(";", 1)[0].strip().lower() == "text/html"
    headers = [("content-security-policy", PAGE_POLICY if is_document else LOCKED_POLICY), *COMMON_HEADERS]
    if production:
        headers.append(("strict-transport-security", HSTS))
    return headers


def _with_head(allow: bytes) -> bytes:
    """A 405's Allow header: HEAD is allowed wherever GET is (this middleware answers it)."""
    methods = [m.strip() for m in allow.decode("latin-1").split(",") if m.strip()]
    if "GET" in methods and "HEAD" not in methods:
        methods.append("HEAD")
    return ", ".join(methods).encode("latin-1")


class SecurityHeadersMiddleware:
    """Add the security headers to every HTTP response; answer HEAD as GET without the body;
    answer an exception that escapes the app with the 500 problem (logged once, with its traceback)."""

    def __init__(self, app: ASGIApp, *, production: bool) -> None:
        self.app = app
        self.production = production

    async def __call__(self, scope: Scope, receive: Receive, send: Send) -> None:
        if scope["type"] != "http":
            await self.app(scope, receive, send)
            return
        head = scope["method"] == "HEAD"
        # HEAD is GET without the body (RFC 9110 §9.3.2): every GET route answers it, same headers.
        inner = {**scope, "method": "GET"} if head else scope
        started = False

        async def send_secured(message: Message) -> None:
            nonlocal started
            if message["type"] == "http.response.start":
                started = True
                headers = self._secured(list(message.get("headers") or []))
                if message["status"] == 405:
                    headers = [(n, _with_head(v) if n.lower() == b"allow" else v) for n, v in headers]
                message = {**message, "headers": headers}
            elif head and message["type"] in _BODY_MESSAGES:
                message = {"type": "http.response.body", "body": b"", "more_body": message.get("more_body", False)}
            await send(message)

        try:
            await self.app(inner, receive, send_secured)
        except Exception as exc:
            if started:
                raise  # too late for an answer: the server error middleware and the server see it
            response = unexpected_error(Request(scope), exc)  # logged with the method as asked
            await response(inner, receive, send_secured)
        finally:
            if head and "route" in inner:
                scope["route"] = inner["route"]  # the access log and metrics name the route

    def _secured(self, headers: list[tuple[bytes, bytes]]) -> list[tuple[bytes, bytes]]:
        present = {name.lower() for name, _ in headers}
        content_type = next((value for name, value in headers if name.lower() == b"content-type"), b"")
        for name, value in security_headers(content_type.decode("latin-1"), production=self.production):
            if name.encode() not in present:
                headers.append((name.encode(), value.encode("latin-1")))
        return headers
