"""A user's time zone is UTC or a real Area/Location of the IANA database: the host's `localtime`,
the `Factory` placeholder and the system's other non-place names are refused."""

from __future__ import annotations

import httpx
import pytest

from autopilot.kit.time import is_iana_zone
from tests.support.accounts import Account

NOT_PLACES = ["localtime", "Factory", "posixrules", "posix/Europe/Paris", "right/UTC", "EST5EDT", "Moon/Base"]


@pytest.mark.parametrize("zone", NOT_PLACES)
async def test_a_name_that_is_not_a_place_is_refused_as_a_zone(
    client: httpx.AsyncClient, alice: Account, zone: str
) -> None:
    response = await client.patch("/api/v1/me", json={"timezone": zone}, headers=alice.auth)
    assert response.status_code == 422, response.text
    assert response.headers["content-type"] == "application/problem+json"
    assert "not an IANA time zone" in response.json()["detail"]
    me = (await client.get("/api/v1/me", headers=alice.auth)).json()
    assert me["timezone"] == "Europe/Paris"  # unchanged


async def test_places_and_utc_are_accepted(client: httpx.AsyncClient, alice: Account) -> None:
    for zone in ("America/Argentina/Buenos_Aires", "Pacific/Chatham", "UTC"):
        response = await client.patch("/api/v1/me", json={"timezone": zone}, headers=alice.auth)
        assert response.status_code == 200, response.text
        assert response.json()["timezone"] == zone


def test_the_zone_check_knows_the_system_names_are_no_places() -> None:
    assert not any(is_iana_zone(name) for name in NOT_PLACES)
    assert all(is_iana_zone(name) for name in ("Europe/Paris", "Asia/Kolkata", "UTC"))
