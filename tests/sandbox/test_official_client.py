"""LinkedIn's own Python client (`linkedin-api-client`, import `linkedin_api`) works against the sandbox.

The client hard-codes https://www.linkedin.com/oauth/v2 and https://api.linkedin.com/{rest,v2}.
Nothing is patched: a `requests` transport adapter, mounted on each client's `.session` (both
AuthClient and RestliClient send every request through `self.session.send`), rewrites those two
origins to the sandbox server process and forwards the request unchanged otherwise.
"""

from __future__ import annotations

from collections.abc import Iterator
from typing import Any
from urllib.parse import parse_qs, urlsplit

import httpx
import pytest
import requests
from linkedin_api.clients.auth.client import AuthClient  # type: ignore[import-untyped]
from linkedin_api.clients.restli.client import RestliClient  # type: ignore[import-untyped]
from requests.adapters import HTTPAdapter

from tests.support.linkedin_sandbox import SandboxControl, SandboxServer

LINKEDIN_ORIGINS = ("https://www.linkedin.com", "https://api.linkedin.com")
REDIRECT = "http://127.0.0.1:9/callback"
VERSION = "202609"


class ToSandbox(HTTPAdapter):
    """Sends requests meant for LinkedIn's origins to the sandbox instead."""

    def __init__(self, sandbox_url: str) -> None:
        super().__init__()
        self.sandbox_url = sandbox_url

    def send(self, request: requests.PreparedRequest, *args: Any, **kwargs: Any) -> requests.Response:
        url = str(request.url)
        for origin in LINKEDIN_ORIGINS:
            if url.startswith(origin):
                request.url = self.sandbox_url + url[len(origin) :]
        return super().send(request, *args, **kwargs)


def route_to(session: requests.Session, sandbox_url: str) -> None:
    adapter = ToSandbox(sandbox_url)
    for origin in LINKEDIN_ORIGINS:
        session.mount(origin + "/", adapter)


@pytest.fixture(scope="module")
def server() -> Iterator[SandboxServer]:
    with SandboxServer() as running:
        yield running


def sign_in(auth_url: str, sandbox_url: str, member: str) -> str:
    """The member's browser: open the consent page the client built, press Allow; the code."""
    page_url = sandbox_url + auth_url[len("https://www.linkedin.com") :]
    with httpx.Client() as browser:
        page = browser.get(page_url)
        consent = page.text.split('name=consent value="', 1)[1].split('"', 1)[0]
        action = page.text.split('action="', 1)[1].split('"', 1)[0]
        back = browser.post(action, data={"consent": consent, "member_name": member, "decision": "allow"})
    query = parse_qs(urlsplit(back.headers["location"]).query)
    assert query["state"] == ["xyz"]
    return query["code"][0]


def test_the_official_clients_exchange_a_code_and_create_get_and_delete_a_post(server: SandboxServer) -> None:
    control = SandboxControl(server.url)
    control.reset()
    auth = AuthClient(client_id="sandbox-client-id", client_secret="sandbox-client-secret", redirect_url=REDIRECT)
    route_to(auth.session, server.url)
    auth_url = auth.generate_member_auth_url(
        ["openid", "profile", "email", "w_member_social", "r_member_social"], "xyz"
    )
    code = sign_in(auth_url, server.url, "Ada Lovelace")

    token = auth.exchange_auth_code_for_access_token(code)
    assert token.status_code == 200 and token.expires_in == 5183999
    assert token.refresh_token and token.refresh_token_expires_in == 31535999
    assert token.scope == "email,openid,profile,r_member_social,w_member_social"
    introspection = auth.introspect_access_token(token.access_token)
    assert introspection.active is True and introspection.status == "active"
    refreshed = auth.exchange_refresh_token_for_access_token(token.refresh_token)
    assert refreshed.status_code == 200 and refreshed.refresh_token == token.refresh_token

    restli = RestliClient()
    route_to(restli.session, server.url)
    access = refreshed.access_token
    me = restli.get(resource_path="/userinfo", access_token=access)  # /v2, no version
    author = f"urn:li:person:{me.entity['sub']}"
    created = restli.create(
        resource_path="/posts",
        entity={
            "author": author,
            "commentary": "Posted by the official client \\(really\\) #sandbox",
            "visibility": "PUBLIC",
            "distribution": {
                "feedDistribution": "MAIN_FEED",
                "targetEntities": [],
                "thirdPartyDistributionChannels": [],
            },
            "lifecycleState": "PUBLISHED",
            "isReshareDisabledByAuthor": False,
        },
        access_token=access,
        version_string=VERSION,
    )
    assert created.status_code == 201
    urn = created.entity_id
    assert urn.startswith("urn:li:share:")

    got = restli.get(resource_path="/posts/{id}", path_keys={"id": urn}, access_token=access, version_string=VERSION)
    assert got.status_code == 200 and got.entity["id"] == urn
    assert got.entity["commentary"] == "Posted by the official client \\(really\\) {hashtag|\\#|sandbox}"
    found = restli.finder(
        resource_path="/posts",
        finder_name="author",
        query_params={"author": author, "count": 10, "sortBy": "LAST_MODIFIED"},
        access_token=access,
        version_string=VERSION,
    )
    assert [e["id"] for e in found.elements] == [urn] and found.paging.total == 1
    assert control.posts()[0]["displayed_text"] == "Posted by the official client (really) #sandbox"

    deleted = restli.delete(
        resource_path="/posts/{id}", path_keys={"id": urn}, access_token=access, version_string=VERSION
    )
    assert deleted.status_code == 204
    again = restli.get(resource_path="/posts/{id}", path_keys={"id": urn}, access_token=access, version_string=VERSION)
    assert again.status_code == 404
    assert control.posts() == []


def test_the_official_client_sees_linkedins_errors(server: SandboxServer) -> None:
    restli = RestliClient()
    route_to(restli.session, server.url)
    response = restli.get(
        resource_path="/posts/{id}", path_keys={"id": "urn:li:share:1"}, access_token="nope", version_string="202504"
    )
    assert response.status_code == 401 and response.entity["serviceErrorCode"] == 65600
