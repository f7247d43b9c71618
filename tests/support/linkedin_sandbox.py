"""The LinkedIn sandbox as a real server process, and a small client for its control API.

    with SandboxServer() as server:
        control = SandboxControl(server.url)
        token = control.login("Ada Lovelace")["access_token"]
        ...
        assert control.posts()[0]["displayed_text"] == "Hello"

`SandboxServer` runs `python -m autopilot.sandbox.linkedin` (uvicorn) on a free port of 127.0.0.1,
waits until it answers and, on exit, stops only the process it started (by its pid).
"""

from __future__ import annotations

import re
from datetime import datetime, timedelta
from typing import Any
from urllib.parse import parse_qs, urlsplit

import httpx

from tests.support.emulators import EmulatorProcess

DEFAULT_SCOPES = ("openid", "profile", "email", "w_member_social", "r_member_social")
REDIRECT_URI = "http://127.0.0.1:9/callback"
# How far the sandbox's clock is set behind the moment a test stands at before a sign-in. A real
# LinkedIn issues an id_token before the app checks it; were the sandbox's clock (which runs on)
# even a second ahead of the test's (stopped or started later), as on a busy machine with tests
# running in parallel, the token's `iat` would lie in the app's future (ImmatureSignatureError).
ISSUER_LAG = timedelta(seconds=30)


class SandboxServer(EmulatorProcess):
    """`autopilot sandbox linkedin --port <free port>` (the product's own command, as a user would
    start it) in its own process."""

    name = "linkedin-sandbox"
    command = ("-m", "autopilot.cli", "sandbox", "linkedin")
    ready_path = "/_sandbox/clock"


class SandboxControl:
    """The control API (/_sandbox/…) of a sandbox at *url*, plus a member login through the real consent page."""

    def __init__(self, url: str, client: httpx.Client | None = None) -> None:
        self.url = url.rstrip("/")
        self.http = client or httpx.Client(timeout=10)

    def _call(self, method: str, path: str, **kwargs: Any) -> Any:
        response = self.http.request(method, f"{self.url}/_sandbox{path}", **kwargs)
        response.raise_for_status()
        return response.json() if response.content else None

    def posts(self, author: str | None = None, include_deleted: bool = False) -> list[dict[str, Any]]:
        params: dict[str, str] = {"include_deleted": str(include_deleted).lower()}
        if author:
            params["author"] = author
        elements: list[dict[str, Any]] = self._call("GET", "/posts", params=params)["elements"]
        return elements

    def set_app(self, **changes: Any) -> dict[str, Any]:
        config: dict[str, Any] = self._call("PUT", "/app", json=changes)
        return config

    def app(self) -> dict[str, Any]:
        config: dict[str, Any] = self._call("GET", "/app")
        return config

    def faults(self, rules: list[dict[str, Any]], seed: int | None = 0) -> None:
        self._call("POST", "/faults", json={"seed": seed, "rules": rules})

    def clear_faults(self) -> None:
        self._call("DELETE", "/faults")

    def revoke(self, member: str) -> None:
        self._call("POST", "/tokens/revoke", json={"member": member})

    def expire(self, member: str) -> None:
        self._call("POST", "/tokens/expire", json={"member": member})

    def advance(self, seconds: float) -> None:
        self._call("POST", "/clock", json={"advance_s": seconds})

    def set_clock(self, iso: str) -> None:
        self._call("POST", "/clock", json={"now": iso})

    def set_clock_for_sign_in(self, moment: datetime) -> None:
        """The sandbox's clock just behind *moment* (ISSUER_LAG), where the test's clock stands while a
        member signs in: the id_token it issues is valid then however long the sign-in takes."""
        self.set_clock((moment - ISSUER_LAG).isoformat())

    def stats(self) -> dict[str, dict[str, int]]:
        counts: dict[str, dict[str, int]] = self._call("GET", "/stats")
        return counts

    def react(self, urn: str, count: int, kind: str = "LIKE") -> None:
        self._call("POST", f"/posts/{urn}/reactions", json={"count": count, "type": kind})

    def comment(self, urn: str, text: str, author_name: str) -> None:
        self._call("POST", f"/posts/{urn}/comments", json={"text": text, "author_name": author_name})

    def impressions(self, urn: str, impressions: int, members_reached: int = 0) -> None:
        body = {"impressions": impressions, "members_reached": members_reached}
        self._call("POST", f"/posts/{urn}/impressions", json=body)

    def reset(self) -> None:
        self._call("POST", "/reset")

    def authorize(
        self, member: str = "Sandbox Member", scopes: tuple[str, ...] = DEFAULT_SCOPES, redirect_uri: str = REDIRECT_URI
    ) -> str:
        """Walk the consent page as *member* and click Allow; the authorization code."""
        config = self.app()
        self.http.cookies.clear()  # the member cookie would skip consent for the previous member
        query = {
            "response_type": "code",
            "client_id": config["client_id"],
            "redirect_uri": redirect_uri,
            "state": "st",
            "scope": " ".join(scopes),
        }
        page = self.http.get(f"{self.url}/oauth/v2/authorization", params=query)
        if page.status_code == 200:
            consent = re.search(r'name=consent value="([^"]+)"', page.text)
            action = re.search(r'action="([^"]+)"', page.text)
            assert consent and action, page.text
            page = self.http.post(
                action.group(1), data={"consent": consent.group(1), "member_name": member, "decision": "allow"}
            )
        assert page.status_code == 302, page.text
        return parse_qs(urlsplit(page.headers["location"]).query)["code"][0]

    def login(
        self, member: str = "Sandbox Member", scopes: tuple[str, ...] = DEFAULT_SCOPES, redirect_uri: str = REDIRECT_URI
    ) -> dict[str, Any]:
        """Consent as *member*, exchange the code; the token response (access_token, id_token, …)."""
        code = self.authorize(member, scopes, redirect_uri)
        config = self.app()
        response = self.http.post(
            f"{self.url}/oauth/v2/accessToken",
            data={
                "grant_type": "authorization_code",
                "code": code,
                "redirect_uri": redirect_uri,
                "client_id": config["client_id"],
                "client_secret": config["client_secret"],
            },
        )
        response.raise_for_status()
        token: dict[str, Any] = response.json()
        return token
