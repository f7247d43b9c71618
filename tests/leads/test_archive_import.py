"""Importing LinkedIn's data archive through the API: leads from inbound buying intent, deduplicated
against people added by hand; the member's own messages, recruiters and small talk are not leads;
importing again changes nothing; a damaged or foreign file changes nothing."""

from __future__ import annotations

import os
from typing import Any

import httpx

from autopilot.kit.time import utcnow
from tests.leads.archive import (
    ME,
    MESSAGES_HEADER,
    csv_bytes,
    message,
    scenario_files,
    zipped,
)
from tests.support.accounts import Account

ZIP = "application/zip"


async def upload(
    client: httpx.AsyncClient,
    account: Account,
    data: bytes,
    name: str = "Basic_LinkedInDataExport_11-24-2026.zip",
    **form: str,
) -> httpx.Response:
    kind = ZIP if name.endswith(".zip") else "text/csv"
    return await client.post(
        "/api/v1/leads/import", files={"file": (name, data, kind)}, data=form, headers=account.auth
    )


async def leads_of(client: httpx.AsyncClient, account: Account) -> list[dict[str, Any]]:
    answer = await client.get("/api/v1/leads", headers=account.auth)
    assert answer.status_code == 200, answer.text
    found: list[dict[str, Any]] = answer.json()
    return found


async def add_by_hand(client: httpx.AsyncClient, account: Account, **person: Any) -> httpx.Response:
    return await client.post("/api/v1/leads", json=person, headers=account.auth)


async def test_an_archive_yields_scored_leads_deduplicated_against_people_added_by_hand(
    client: httpx.AsyncClient, alice: Account
) -> None:
    priya = await add_by_hand(
        client, alice, name="Priya Shah", profile_url="linkedin.com/in/Priya-Shah/?trk=x", company="Shah Labs"
    )
    assert priya.status_code == 201, priya.text

    imported = await upload(client, alice, zipped(scenario_files()))

    assert imported.status_code == 200, imported.text
    assert imported.json()["files"] == ["connections", "invitations", "messages", "profile"]
    assert imported.json()["leads_created"] == 1  # Dana; Priya was there already
    assert imported.json()["signals_added"] == 3  # Dana's message and connection, Priya's message
    found = await leads_of(client, alice)
    assert sorted(lead["name"] for lead in found) == ["Dana Lee", "Priya Shah"]
    assert [lead["score"] for lead in found] == sorted((lead["score"] for lead in found), reverse=True)
    dana, priya_now = sorted(found, key=lambda lead: str(lead["name"]))
    assert priya_now["id"] == priya.json()["id"]
    assert dana["score"] > 50 and priya_now["score"] > 50
    assert "asks for a call" in dana["reasons"][0] and "wants a review or audit" in dana["reasons"][0]
    assert dana["last_signal_text"] == "Hi Alice, could we book a call about an architecture review next week?"
    assert (dana["title"], dana["company"], dana["email"]) == ("CTO", "Acme", "dana@acme.example")
    assert "asks about rates" in priya_now["reasons"][0] and "mentions a budget" in priya_now["reasons"][0]
    detail = (await client.get(f"/api/v1/leads/{dana['id']}", headers=alice.auth)).json()
    assert sorted(s["source"] for s in detail["signals"]) == ["archive_connection", "archive_message"]


async def test_importing_the_same_archive_again_changes_nothing(client: httpx.AsyncClient, alice: Account) -> None:
    files = scenario_files()
    archive = zipped(files)
    assert (await upload(client, alice, archive)).status_code == 200
    before = await leads_of(client, alice)

    again = await upload(client, alice, archive)

    assert again.status_code == 200, again.text
    assert (again.json()["signals_added"], again.json()["leads_created"]) == (0, 0)
    assert await leads_of(client, alice) == before
    # Its files alone, under other names, are the same rows too.
    single = await upload(client, alice, files["messages.csv"], "messages_2.csv")
    assert single.json()["signals_added"] == 0, single.text
    assert await leads_of(client, alice) == before


async def test_a_damaged_or_foreign_file_changes_nothing(client: httpx.AsyncClient, alice: Account) -> None:
    await add_by_hand(client, alice, name="Ana Costa", email="ana@example.com")
    before = await leads_of(client, alice)
    archive = zipped(scenario_files())
    files = scenario_files()
    bad_date = files["messages.csv"] + b"c9,,Eve Stone,,Alice Martin,,yesterday,,Can we book a call?,INBOX,\r\n"

    answers = {
        "truncated zip": await upload(client, alice, archive[: len(archive) // 2]),
        "foreign csv": await upload(
            client, alice, b"Date,Impressions,Engagements\r\n12/12/2024,605,7\r\n", "export.csv"
        ),
        "zip without signals": await upload(client, alice, zipped({"Shares.csv": b"Date,ShareLink\r\n"})),
        "bad date in the last row": await upload(client, alice, zipped({**files, "messages.csv": bad_date})),
        "not utf-8": await upload(client, alice, files["messages.csv"] + "Zoë".encode("latin-1"), "messages.csv"),
        "empty": await upload(client, alice, b"", "messages.csv"),
    }

    for case, answer in answers.items():
        assert answer.status_code == 422, f"{case}: {answer.status_code} {answer.text}"
        assert answer.headers["content-type"] == "application/problem+json"
    assert "zip" in answers["truncated zip"].json()["detail"]
    assert "not LinkedIn's messages.csv" in answers["foreign csv"].json()["detail"]
    assert "'yesterday' is not a date" in answers["bad date in the last row"].json()["detail"]
    assert await leads_of(client, alice) == before  # the good rows before the bad one were not kept


async def test_connections_csv_alone_is_found_by_its_header_after_the_notes(
    client: httpx.AsyncClient, alice: Account
) -> None:
    answer = await upload(client, alice, scenario_files()["Connections.csv"], "Connections_17529409.csv")
    assert answer.status_code == 200, answer.text
    assert answer.json()["files"] == ["connections"]
    assert [lead["name"] for lead in await leads_of(client, alice)] == ["Dana Lee"]  # a CTO; not the student


async def test_a_lone_messages_csv_tells_the_members_own_messages_apart(
    client: httpx.AsyncClient, alice: Account
) -> None:
    now = utcnow()
    one_conversation = csv_bytes(
        MESSAGES_HEADER,
        [
            message("c1", "Kim Park", "https://www.linkedin.com/in/kim-park", ME, now, "Can we book a call?"),
            message("c1", ME, "", "Kim Park", now, "Yes: could we book a call on Friday about your budget?"),
        ],
    )
    unsure = await upload(client, alice, one_conversation, "messages.csv")
    assert unsure.status_code == 422 and "your own" in unsure.json()["detail"], unsure.text

    named = await upload(client, alice, one_conversation, "messages.csv", your_name=ME)

    assert named.status_code == 200, named.text
    assert [lead["name"] for lead in await leads_of(client, alice)] == ["Kim Park"]
    # Several conversations: the member is the one person in all of them.
    files = scenario_files()
    assert (await upload(client, alice, files["messages.csv"], "messages.csv")).status_code == 200
    assert {lead["name"] for lead in await leads_of(client, alice)} == {"Kim Park", "Dana Lee", "Priya Shah"}


async def test_each_organization_imports_into_its_own_leads(
    client: httpx.AsyncClient, alice: Account, bob: Account
) -> None:
    archive = zipped(scenario_files())
    assert (await upload(client, alice, archive)).json()["leads_created"] == 2
    assert (await upload(client, bob, archive)).json()["leads_created"] == 2  # the same people, Bob's own leads
    alices, bobs = await leads_of(client, alice), await leads_of(client, bob)
    assert {lead["id"] for lead in alices}.isdisjoint({lead["id"] for lead in bobs})
    assert (await client.get(f"/api/v1/leads/{alices[0]['id']}", headers=bob.auth)).status_code == 404


async def test_an_archive_of_a_few_megabytes_is_accepted(client: httpx.AsyncClient, alice: Account) -> None:
    """Archives hold photos and documents too: larger than the API's 1 MiB bodies, under the upload limit."""
    files = {**scenario_files(), "Rich_Media/photo.jpg": os.urandom(3_000_000)}
    answer = await upload(client, alice, zipped(files))
    assert answer.status_code == 200, answer.text
    assert answer.json()["leads_created"] == 2
