"""Injected faults, against a real sandbox process over a socket: what a client of LinkedIn sees
when the network or LinkedIn misbehaves (contract §7, §8)."""

from __future__ import annotations

import time
from collections.abc import Iterator
from typing import Any

import httpx
import pytest

from tests.sandbox.conftest import post_body
from tests.support.linkedin_sandbox import SandboxControl, SandboxServer


@pytest.fixture(scope="module")
def server() -> Iterator[SandboxServer]:
    with SandboxServer() as running:
        yield running


@pytest.fixture
def control(server: SandboxServer) -> Iterator[SandboxControl]:
    control = SandboxControl(server.url)
    control.reset()
    yield control
    control.clear_faults()


class Member:
    def __init__(self, control: SandboxControl) -> None:
        token = control.login("Ada Lovelace")
        self.url = control.url
        self.token = token["access_token"]
        info = httpx.get(f"{self.url}/v2/userinfo", headers={"Authorization": f"Bearer {self.token}"}).json()
        self.author = f"urn:li:person:{info['sub']}"

    def create(self, text: str, timeout: float = 5.0) -> httpx.Response:
        headers = {
            "Authorization": f"Bearer {self.token}",
            "LinkedIn-Version": "202609",
            "X-Restli-Protocol-Version": "2.0.0",
        }
        return httpx.post(f"{self.url}/rest/posts", json=post_body(self.author, text), headers=headers, timeout=timeout)


# A dropped connection reads as a protocol error (headers, then EOF) or, when the request body is
# still unread in the server's socket, as a TCP reset; both are "the connection broke" to a client.
BROKEN = (httpx.RemoteProtocolError, httpx.ReadError)


def rule(fault: str, endpoint: str = "posts.create", **extra: Any) -> dict[str, Any]:
    return {"endpoint": endpoint, "fault": fault, **extra}


def test_reset_breaks_the_connection_and_creates_nothing(control: SandboxControl) -> None:
    member = Member(control)
    control.faults([rule("reset", times=1)])
    with pytest.raises(BROKEN):
        member.create("hello")
    assert control.posts() == []
    assert member.create("hello").status_code == 201  # times=1: the next call is served


def test_commit_then_drop_stores_the_post_and_the_retry_is_a_duplicate(control: SandboxControl) -> None:
    member = Member(control)
    control.faults([rule("commit_then_drop", times=1)])
    with pytest.raises(BROKEN):
        member.create("ambiguous")
    [stored] = control.posts()
    retry = member.create("ambiguous")
    assert retry.status_code == 422 and f"Content is a duplicate of {stored['urn']}" in retry.json()["message"]


def test_commit_then_drop_can_hang_past_the_clients_timeout(control: SandboxControl) -> None:
    member = Member(control)
    control.faults([rule("commit_then_drop", times=1, hang_s=3)])
    with pytest.raises(httpx.ReadTimeout):
        member.create("slow", timeout=0.5)
    assert len(control.posts()) == 1


def test_timeout_delays_the_answer(control: SandboxControl) -> None:
    member = Member(control)
    control.faults([rule("timeout", times=2, timeout_s=1.0)])
    with pytest.raises(httpx.ReadTimeout):
        member.create("late", timeout=0.3)
    started = time.monotonic()
    response = member.create("later", timeout=5)
    assert response.status_code == 201 and time.monotonic() - started >= 1.0


@pytest.mark.parametrize(("fault", "status"), [("error_500", 500), ("error_503", 503), ("rate_limit", 429)])
def test_error_faults_answer_with_their_status_then_recover(control: SandboxControl, fault: str, status: int) -> None:
    member = Member(control)
    control.faults([rule(fault, times=2)])
    assert [member.create(f"try {i}").status_code for i in range(3)] == [status, status, 201]
    assert "retry-after" not in member.create("x").headers
    stats = control.stats()
    assert stats["faults_fired"] == {f"posts.create:{fault}": 2}
    assert stats["requests"][f"posts.create {status}"] == 2
    assert stats["served"]["429" if status == 429 else "5xx"] == 2
    assert control.posts()[0]["commentary"] == "try 2"


def test_any_matches_every_endpoint_and_the_token_endpoint_can_fail(control: SandboxControl) -> None:
    control.faults([rule("error_503", endpoint="token", times=1)])
    with pytest.raises(httpx.HTTPStatusError):
        control.login("Ada Lovelace")
    control.faults([rule("error_500", endpoint="any", times=1)])
    assert httpx.get(f"{control.url}/v2/userinfo").status_code == 500


def test_probabilistic_faults_are_deterministic_for_a_seed(control: SandboxControl) -> None:
    def run() -> list[int]:
        control.reset()
        member = Member(control)
        control.faults([rule("error_500", probability=0.5)], seed=7)
        return [member.create(f"p{i}").status_code for i in range(12)]

    first = run()
    assert run() == first and {500, 201} == set(first)


def test_global_latency_slows_every_call(control: SandboxControl) -> None:
    control.set_app(latency_ms=300)
    try:
        started = time.monotonic()
        httpx.get(f"{control.url}/oauth/openid/jwks")
        assert time.monotonic() - started >= 0.3
    finally:
        control.set_app(latency_ms=0)
