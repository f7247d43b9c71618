"""Security headers on every response, found by walking the route table (and the OpenAPI document),
plus the error answers (404, 405, 413, 422, 500), a redirect and a static file; HSTS only in
production; HEAD answered wherever GET is, with the same headers and no body."""

from __future__ import annotations

import re
from collections.abc import AsyncIterator
from pathlib import Path
from typing import NoReturn

import httpx
import pytest
from cryptography.fernet import Fernet
from fastapi import FastAPI
from fastapi.routing import iter_route_contexts
from starlette.routing import Mount

from autopilot.app import create_app
from autopilot.config import Settings
from tests.support.accounts import PASSWORD, Account

STATIC_FILE = "/static/app.css"
# Pages and operations every walk must find, so that a walk that finds nothing cannot pass.
KNOWN_GET_PATHS = {"/", "/login", "/signup", "/settings", "/jobs", "/docs", "/openapi.json", "/healthz", "/readyz"}
KNOWN_GET_PATHS |= {"/metrics"}  # on the main app unless AUTOPILOT_METRICS_BIND moves it
KNOWN_GET_PATHS |= {"/posts", "/posts/list", "/integrations"}
# "Connect LinkedIn" (and "Reconnect with Company Pages") post there and are redirected to LinkedIn.
OAUTH_PAGES = {"/integrations", "/analytics/pages"}
PERMISSIONS_DENIED = ("camera", "microphone", "geolocation", "payment", "usb")
# Headers that differ between two answers to the same request.
VOLATILE = {"date", "x-request-id", "set-cookie", "content-length"}


def directives(policy: str) -> dict[str, list[str]]:
    parsed: dict[str, list[str]] = {}
    for part in policy.split(";"):
        words = part.split()
        if words:
            parsed[words[0].lower()] = words[1:]
    return parsed


def assert_secured(response: httpx.Response, *, production: bool = False) -> None:
    where = f"{response.request.method} {response.request.url.path} ({response.status_code})"
    headers = response.headers
    policy = headers.get("content-security-policy")
    assert policy, f"{where}: no Content-Security-Policy"
    csp = directives(policy)
    assert csp.get("frame-ancestors") == ["'none'"], f"{where}: framing allowed: {policy}"
    assert csp.get("base-uri") == ["'none'"], f"{where}: {policy}"
    assert csp.get("object-src", csp.get("default-src")) == ["'none'"], f"{where}: plugins allowed: {policy}"
    if headers.get("content-type", "").startswith("text/html"):
        assert csp.get("default-src") == ["'self'"], f"{where}: {policy}"
        form_action = csp.get("form-action", [])
        # A page whose form is redirected to an OAuth provider names that one origin (no path) too.
        extra = form_action[1:] if response.request.url.path in OAUTH_PAGES else []
        assert form_action == ["'self'", *extra], f"{where}: {policy}"
        assert len(extra) <= 1 and all(re.fullmatch(r"https?://[^/\s]+", e) for e in extra), f"{where}: {policy}"
        scripts = csp.get("script-src", csp["default-src"])
        assert scripts == ["'self'"], f"{where}: scripts may come from more than this origin: {policy}"
        for fetched in ("style-src", "connect-src", "img-src", "font-src"):
            sources = csp.get(fetched, csp["default-src"])
            assert "'unsafe-inline'" not in sources and "*" not in sources, f"{where}: {fetched} too open: {policy}"
            assert not any(s.startswith(("http:", "https:")) for s in sources), f"{where}: {policy}"
    else:
        assert csp.get("default-src") == ["'none'"], f"{where}: not a document, yet may load things: {policy}"
    assert headers.get("x-frame-options") == "DENY", where
    assert headers.get("x-content-type-options") == "nosniff", where
    assert headers.get("referrer-policy") in {"same-origin", "strict-origin-when-cross-origin", "no-referrer"}, where
    permissions = headers.get("permissions-policy", "")
    for feature in PERMISSIONS_DENIED:
        assert f"{feature}=()" in permissions, f"{where}: Permissions-Policy does not deny {feature}: {permissions!r}"
    assert headers.get("cross-origin-opener-policy") == "same-origin", where
    hsts = headers.get("strict-transport-security")
    if production:
        assert hsts is not None, f"{where}: no Strict-Transport-Security in production"
        max_age = re.search(r"max-age=(\d+)", hsts)
        assert max_age and int(max_age.group(1)) >= 15_552_000, f"{where}: HSTS too short: {hsts}"
    else:
        assert hsts is None, f"{where}: HSTS outside production (it would pin plain-HTTP development hosts)"


def concrete(path: str) -> str:
    """A route template with a value in each parameter (`/jobs/{job_id}` -> `/jobs/1`)."""
    return re.sub(r"\{[^}]+\}", "1", path)


def get_paths(app: FastAPI) -> set[str]:
    """Every GET the app answers: its route table, into the included routers (FastAPI keeps each
    as one entry of app.routes; `iter_route_contexts` opens them), and the OpenAPI document's
    paths, each made concrete; a mount gives one path inside it."""
    paths: set[str] = set()
    for route in iter_route_contexts(app.routes):
        if isinstance(route.original_route, Mount):
            paths.add(STATIC_FILE if route.path == "/static" else f"{route.path}/")
        elif route.path and "GET" in (route.methods or set()):
            paths.add(concrete(route.path))
    for path, operations in app.openapi()["paths"].items():
        if "get" in operations:
            paths.add(concrete(path))
    return paths


async def web_log_in(client: httpx.AsyncClient, account: Account) -> None:
    """Log in through the real log-in form, so the client holds a page session cookie."""
    form = await client.get("/login")
    token = re.search(r'name="csrf_token" value="([^"]+)"', form.text)
    assert token, form.text
    done = await client.post(
        "/login", data={"csrf_token": token.group(1), "email": account.email, "password": PASSWORD}
    )
    assert done.status_code == 303, done.text


async def test_every_get_route_answers_with_the_security_headers_logged_out_and_in(
    app: FastAPI, client: httpx.AsyncClient, alice: Account
) -> None:
    paths = get_paths(app)
    assert paths >= KNOWN_GET_PATHS | {STATIC_FILE}, f"the walk missed {KNOWN_GET_PATHS - paths}"
    ok: set[str] = set()  # paths that answered 200 logged out or in: real pages, not only refusals
    seen_redirect = False
    for path in sorted(paths):
        response = await client.get(path)  # logged out: pages redirect to log in, the API answers 401
        seen_redirect |= response.is_redirect
        ok |= {path} if response.status_code == 200 else set()
        assert_secured(response)
    assert seen_redirect, "a logged-out page should have redirected to the log-in page"

    await web_log_in(client, alice)
    for path in sorted(paths):
        response = await client.get(path, headers=alice.auth)
        ok |= {path} if response.status_code == 200 else set()
        assert_secured(response)
    # /readyz is 503 here on purpose (no job engine runs) and /metrics wants an operator's token:
    # their refusals carry the headers all the same.
    missing = (KNOWN_GET_PATHS | {STATIC_FILE}) - {"/readyz", "/metrics"} - ok
    assert not missing, f"never answered 200, logged out or in: {missing}"


async def test_error_answers_carry_the_security_headers(app: FastAPI, client: httpx.AsyncClient) -> None:
    def explode() -> NoReturn:
        raise RuntimeError("a bug in a handler")

    app.add_api_route("/test-only/explode", explode, methods=["GET"], response_model=None)
    limit: int = app.state.settings.max_body_bytes
    answers = {
        404: await client.get("/no/such/page"),
        405: await client.post("/healthz"),
        413: await client.post(
            "/api/v1/auth/signup", content=b"x" * (limit + 1), headers={"content-type": "application/json"}
        ),
        422: await client.post("/api/v1/auth/signup", json={"email": "nobody@example.com"}),
        500: await client.get("/test-only/explode"),
    }
    for status, response in answers.items():
        assert response.status_code == status, response.text
        assert response.headers["content-type"] == "application/problem+json"
        assert_secured(response)
    assert "a bug in a handler" not in answers[500].text


async def test_static_files_and_the_api_docs_page_are_covered(client: httpx.AsyncClient) -> None:
    static = await client.get(STATIC_FILE)
    assert static.status_code == 200
    assert static.headers["content-type"].startswith("text/css")
    assert_secured(static)
    docs = await client.get("/docs")
    assert docs.status_code == 200
    assert_secured(docs)
    # Swagger UI from our own files, started by a file too: nothing from a CDN, no inline script.
    assert "/static/vendor/swagger-ui-bundle.js" in docs.text
    assert "/static/vendor/swagger-ui.css" in docs.text
    assert "<script>" not in docs.text and "http" not in docs.text


async def test_head_is_answered_wherever_get_is(app: FastAPI, client: httpx.AsyncClient, alice: Account) -> None:
    await web_log_in(client, alice)
    for path in sorted(get_paths(app) - {"/metrics"}):  # the metrics change between two requests
        got = await client.get(path, headers=alice.auth)
        head = await client.head(path, headers=alice.auth)
        assert head.status_code == got.status_code, f"HEAD {path}: {head.status_code}, GET: {got.status_code}"
        assert head.content == b"", f"HEAD {path} sent a body"
        assert_secured(head)
        same = {k: v for k, v in got.headers.items() if k not in VOLATILE}
        assert {k: v for k, v in head.headers.items() if k not in VOLATILE} == same, f"HEAD {path}"
        if got.headers.get("content-length") and path in (STATIC_FILE, "/login", "/docs", "/healthz"):
            assert head.headers["content-length"] == got.headers["content-length"], f"HEAD {path}"
    async with httpx.AsyncClient(transport=httpx.ASGITransport(app=app), base_url="http://testserver") as logged_out:
        login = await logged_out.head("/login")
        assert login.status_code == 200 and login.content == b""
        assert_secured(login)
        post_only = await logged_out.head("/logout")  # a path with no GET still says which methods it has
        assert post_only.status_code == 405
        assert "POST" in post_only.headers["allow"]
        healthz = await logged_out.post("/healthz")  # and a GET route's 405 offers HEAD beside GET
        assert healthz.status_code == 405
        assert {m.strip() for m in healthz.headers["allow"].split(",")} >= {"GET", "HEAD"}


@pytest.fixture
async def production_client(settings: Settings, tmp_path: Path) -> AsyncIterator[httpx.AsyncClient]:
    production = settings.model_copy(
        update={"env": "production", "secret_key": "p" * 48, "encryption_keys": Fernet.generate_key().decode()}
    )
    application = create_app(production)
    async with application.router.lifespan_context(application):
        transport = httpx.ASGITransport(app=application)
        async with httpx.AsyncClient(transport=transport, base_url="https://testserver") as http:
            yield http


async def test_production_adds_strict_transport_security(production_client: httpx.AsyncClient) -> None:
    for path in ("/", "/login", "/healthz", STATIC_FILE, "/no/such/page"):
        assert_secured(await production_client.get(path), production=True)
