"""A LinkedIn journey through the real API: connect through the sandbox's consent, write, approve,
publish; and the engine that publishes, as `autopilot serve` runs it."""

from __future__ import annotations

import asyncio
import contextlib
import uuid
from collections.abc import AsyncIterator, Callable, Iterable
from html.parser import HTMLParser
from pathlib import Path
from typing import Any
from urllib.parse import parse_qs, urljoin, urlsplit

import httpx
from cryptography.fernet import Fernet
from sqlalchemy.ext.asyncio import AsyncSession, async_sessionmaker

from autopilot.config import Settings
from tests.support.accounts import Account
from tests.support.databases import REDIS_URL
from tests.support.jobs import job_engine
from tests.support.processes import Processes

DONE = {"published", "failed", "held"}


def celery_env(postgres: str, sandbox_url: str, directory: Path) -> dict[str, str]:
    """The environment of a scale-out installation on PostgreSQL (web, dispatcher, Celery workers
    on Redis) that talks to the sandbox; a queue of its own, so no other test's worker takes its work."""
    return {
        "AUTOPILOT_ENV": "test",
        "AUTOPILOT_DATABASE_URL": postgres,
        "AUTOPILOT_DATA_DIR": str(directory / "data"),
        "AUTOPILOT_SECRET_KEY": "s" * 48,
        "AUTOPILOT_ENCRYPTION_KEYS": Fernet.generate_key().decode(),
        "AUTOPILOT_RUN_JOB_ENGINE": "false",
        "AUTOPILOT_CELERY_BROKER_URL": REDIS_URL,
        "AUTOPILOT_CELERY_QUEUE": f"autopilot-test-{uuid.uuid4().hex[:8]}",
        "AUTOPILOT_DISPATCH_INTERVAL_S": "0.2",
        "AUTOPILOT_JOB_MODULES": "",
        "AUTOPILOT_LINKEDIN_AUTH_URL": sandbox_url,
        "AUTOPILOT_LINKEDIN_API_URL": sandbox_url,
        "AUTOPILOT_LINKEDIN_MEMBER_DAILY_POSTS": "100000",
        "AUTOPILOT_LOG_LEVEL": "WARNING",
    }


def settings_of(env: dict[str, str]) -> Settings:
    return Settings.model_validate({k.removeprefix("AUTOPILOT_").lower(): v for k, v in env.items()})


def workers(processes: Processes, count: int = 2, concurrency: int = 16) -> Callable[[], Any]:
    """A context that runs a dispatcher and *count* Celery worker processes, stopped by their pids."""

    @contextlib.asynccontextmanager
    async def running() -> AsyncIterator[None]:
        processes.start("dispatcher", name="dispatcher")
        for _ in range(count):
            processes.start("worker", f"--concurrency={concurrency}", name="worker")
        try:
            yield
        finally:
            processes.stop_all()

    return running


class ConsentForm(HTMLParser):
    """The consent page's form as a browser sees it: its action, its fields, its buttons."""

    def __init__(self) -> None:
        super().__init__()
        self.action = ""
        self.fields: dict[str, str] = {}
        self.buttons: dict[str, tuple[str, str]] = {}  # label -> (name, value)
        self._button: tuple[str, str] | None = None

    def handle_starttag(self, tag: str, attrs: list[tuple[str, str | None]]) -> None:
        a = {k: v or "" for k, v in attrs}
        if tag == "form":
            self.action = a.get("action", "")
        elif tag == "input" and a.get("type") in ("submit",):
            self.buttons[a.get("value", "")] = (a.get("name", ""), a.get("value", ""))
        elif tag == "input" and a.get("name"):
            self.fields[a["name"]] = a.get("value", "")
        elif tag == "button":
            self._button = (a.get("name", ""), a.get("value", ""))

    def handle_data(self, data: str) -> None:
        if self._button is not None and data.strip():
            self.buttons[data.strip()] = self._button
            self._button = None

    def submit(self, button: str, **fields: str) -> dict[str, str]:
        name, value = self.buttons[button]
        data = {**self.fields, **fields}
        if name:
            data[name] = value
        return data


def consent_form(page_url: str, html: str) -> tuple[str, ConsentForm]:
    form = ConsentForm()
    form.feed(html)
    return urljoin(page_url, form.action or page_url), form


async def authorize(
    client: httpx.AsyncClient, account: Account, *, member: str = "Ada Lovelace", button: str = "Allow"
) -> httpx.Response:
    """Start connecting, go through the sandbox's consent page as a member would (the form's Allow
    button), and hand the redirect LinkedIn makes back to our callback. Returns the callback's answer."""
    started = await client.post("/api/v1/integrations/linkedin/connect", headers=account.auth)
    assert started.status_code == 200, started.text
    return await client.get(await through_consent(started.json()["authorization_url"], member=member, button=button))


async def through_consent(url: str, *, member: str = "Ada Lovelace", button: str = "Allow") -> str:
    """Open LinkedIn's authorization *url* and press the consent page's button as a member would;
    the path and query of our callback that LinkedIn sends the browser back to."""
    async with httpx.AsyncClient(follow_redirects=False, timeout=10) as browser:
        page = await browser.get(url)
        if page.status_code == 200:  # the consent page: press the button a member would press
            action, form = consent_form(url, page.text)
            member_field = next(n for n in form.fields if "member" in n or "name" in n)
            page = await browser.post(action, data=form.submit(button, **{member_field: member}))
        assert page.status_code in (302, 303), page.text[:500]
        back = urlsplit(page.headers["location"])
    return f"{back.path}?{back.query}"


async def connect(client: httpx.AsyncClient, account: Account, *, member: str = "Ada Lovelace") -> dict[str, Any]:
    answer = await authorize(client, account, member=member)
    assert answer.status_code == 200, answer.text
    body: dict[str, Any] = answer.json()
    return body


def query_of(location: str) -> dict[str, str]:
    return {k: v[0] for k, v in parse_qs(urlsplit(location).query).items()}


async def approved(client: httpx.AsyncClient, account: Account, text: str, **extra: Any) -> dict[str, Any]:
    created = await client.post("/api/v1/content", json={"text": text, **extra}, headers=account.auth)
    assert created.status_code == 201, created.text
    content_id = created.json()["id"]
    ok = await client.post(f"/api/v1/content/{content_id}/approve", headers=account.auth)
    assert ok.status_code == 200, ok.text
    body: dict[str, Any] = ok.json()
    return body


async def publish_all(client: httpx.AsyncClient, account: Account, ids: Iterable[str]) -> None:
    for content_id in ids:
        answer = await client.post(f"/api/v1/content/{content_id}/publish", headers=account.auth)
        assert answer.status_code == 202, answer.text


async def wait_settled(
    client: httpx.AsyncClient, account: Account, ids: list[str], *, timeout: float = 120
) -> dict[str, dict[str, Any]]:
    """Poll until every content item is published, failed or held; their last answers by id."""
    last: dict[str, dict[str, Any]] = {}
    async with asyncio.timeout(timeout):
        while True:
            waiting = [i for i in ids if last.get(i, {}).get("state") not in DONE]
            if not waiting:
                return {i: last[i] for i in ids}
            for start in range(0, len(waiting), 50):
                answers = await asyncio.gather(
                    *(client.get(f"/api/v1/content/{i}", headers=account.auth) for i in waiting[start : start + 50])
                )
                for content_id, answer in zip(waiting[start : start + 50], answers, strict=True):
                    last[content_id] = answer.json()
            await asyncio.sleep(0.2)


@contextlib.asynccontextmanager
async def running_engine(settings: Settings, sessions: async_sessionmaker[AsyncSession]) -> AsyncIterator[None]:
    engine = job_engine(settings, sessions).start()
    try:
        yield
    finally:
        await engine.stop()
