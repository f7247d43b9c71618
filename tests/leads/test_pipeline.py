"""The deal pipeline through the API: stages along the pipeline only, values in cents per currency,
and the totals (open pipeline value, won value) that follow every move."""

from __future__ import annotations

from typing import Any

import httpx

from tests.support.accounts import Account


async def a_lead(client: httpx.AsyncClient, account: Account, **person: Any) -> dict[str, Any]:
    answer = await client.post(
        "/api/v1/leads", json={"name": "Dana Lee", "company": "Acme", **person}, headers=account.auth
    )
    assert answer.status_code == 201, answer.text
    found: dict[str, Any] = answer.json()
    return found


async def patch(client: httpx.AsyncClient, account: Account, lead: dict[str, Any], **change: Any) -> httpx.Response:
    return await client.patch(f"/api/v1/leads/{lead['id']}", json=change, headers=account.auth)


async def summary(client: httpx.AsyncClient, account: Account) -> dict[str, Any]:
    answer = await client.get("/api/v1/leads/summary", headers=account.auth)
    assert answer.status_code == 200, answer.text
    found: dict[str, Any] = answer.json()
    return found


async def test_moving_a_lead_to_won_adds_its_value_to_the_won_total(client: httpx.AsyncClient, alice: Account) -> None:
    dana = await a_lead(client, alice, value_cents=1_200_000)
    other = await a_lead(client, alice, name="Priya Shah", value_cents=500_000, currency="usd")
    assert (await summary(client, alice))["open_value"] == {"EUR": 1_200_000, "USD": 500_000}

    for stage in ("contacted", "call_booked", "proposal", "won"):
        answer = await patch(client, alice, dana, stage=stage)
        assert answer.status_code == 200 and answer.json()["stage"] == stage, answer.text

    totals = await summary(client, alice)
    assert totals["won_value"] == {"EUR": 1_200_000}
    assert totals["open_value"] == {"USD": 500_000}  # no open deal in EUR
    assert totals["counts"] == {"new": 1, "contacted": 0, "call_booked": 0, "proposal": 0, "won": 1, "lost": 0}
    assert (await patch(client, alice, other, stage="lost")).status_code == 200
    assert (await summary(client, alice))["open_value"] == {}


async def test_a_stage_change_off_the_pipeline_is_refused_and_changes_nothing(
    client: httpx.AsyncClient, alice: Account
) -> None:
    dana = await a_lead(client, alice)
    assert (await patch(client, alice, dana, stage="won", value_cents=300_00)).status_code == 200

    refused = await patch(client, alice, dana, stage="contacted", value_cents=999_00)

    assert refused.status_code == 409, refused.text
    assert "cannot move to contacted" in refused.json()["detail"]
    detail = (await client.get(f"/api/v1/leads/{dana['id']}", headers=alice.auth)).json()
    assert (detail["stage"], detail["value_cents"], detail["next_stages"]) == ("won", 300_00, ["proposal"])
    unknown = await patch(client, alice, dana, stage="closed")
    assert unknown.status_code == 422
    assert (await patch(client, alice, dana, value_cents=-1)).status_code == 422
    assert (await patch(client, alice, dana, currency="euro")).status_code == 422


async def test_people_added_by_hand_are_found_again_by_email_profile_or_name_at_company(
    client: httpx.AsyncClient, alice: Account
) -> None:
    ana = await a_lead(client, alice, name="Ana Costa", company="", email="Ana.Costa@Example.com")
    same_mail = await client.post("/api/v1/leads", json={"email": " ana.costa@example.com"}, headers=alice.auth)
    assert same_mail.status_code == 200 and same_mail.json()["id"] == ana["id"], same_mail.text

    kim = await a_lead(client, alice, name="Kim Park", profile_url="https://www.linkedin.com/in/kim-park/?trk=1")
    same_url = await client.post(
        "/api/v1/leads", json={"name": "K. Park", "profile_url": "de.linkedin.com/in/Kim-Park"}, headers=alice.auth
    )
    assert same_url.json()["id"] == kim["id"], same_url.text

    zoe = await a_lead(client, alice, name="Zoë O'Brien", company="Nimbus Inc.")
    same_name = await client.post(
        "/api/v1/leads", json={"name": "zoe o brien", "company": "NIMBUS"}, headers=alice.auth
    )
    assert same_name.json()["id"] == zoe["id"], same_name.text
    namesake = await client.post(
        "/api/v1/leads", json={"name": "Zoë O'Brien", "company": "Elsewhere"}, headers=alice.auth
    )
    assert namesake.status_code == 201 and namesake.json()["id"] != zoe["id"]

    assert len((await client.get("/api/v1/leads", headers=alice.auth)).json()) == 4
    nobody = await client.post("/api/v1/leads", json={"company": "Acme"}, headers=alice.auth)
    assert nobody.status_code == 422
