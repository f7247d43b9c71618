"""The Leads page as a browser without JavaScript uses it: the acceptance scenario end to end —
add a person by hand, import the archive with the form, read the scored leads and their reasons,
move one to won with its value and see the won total; errors said plainly, nothing half-done."""

from __future__ import annotations

import re

import httpx

from tests.leads.archive import scenario_files, zipped
from tests.linkedin.test_pages import alert_of, press, text_of
from tests.support.accounts import Account, csrf_of, log_in_with_the_form


def lead_ids(page: httpx.Response) -> list[str]:
    return re.findall(r'<article class="post" id="lead-([0-9a-f-]{36})"', page.text)


def card(page: httpx.Response, lead_id: str) -> str:
    found = re.search(rf'<article class="post" id="lead-{lead_id}">(.*?)</article>', page.text, re.S)
    assert found, text_of(page)[:2000]
    return text_of(httpx.Response(200, text=found.group(1)))


async def import_with_the_form(client: httpx.AsyncClient, data: bytes, name: str) -> httpx.Response:
    token = csrf_of(await client.get("/leads"))
    return await client.post(
        "/leads/import", data={"csrf_token": token}, files={"archive": (name, data, "application/octet-stream")}
    )


async def test_the_acceptance_scenario_on_the_leads_page(client: httpx.AsyncClient, alice: Account) -> None:
    await log_in_with_the_form(client, alice)
    empty = await client.get("/leads")
    assert empty.status_code == 200 and "No leads yet" in text_of(empty)
    assert not re.search(r"<script(?![^>]*\bsrc=)", empty.text), "no inline script"

    added = await press(
        client, "/leads", "/leads", name="Dana Lee", profile_url="https://www.linkedin.com/in/dana-lee/", value="12,000"
    )
    assert added.status_code == 303, added.text
    imported = await import_with_the_form(client, zipped(scenario_files()), "Basic_LinkedInDataExport.zip")

    assert imported.status_code == 200, imported.text
    assert "3 new signals, 1 new leads" in text_of(imported)  # Dana's message and connection, Priya
    ids = lead_ids(imported)
    assert len(ids) == 2  # Dana once: the import found the person added by hand
    dana = card(imported, ids[0])
    assert "Dana Lee" in dana and "CTO at Acme" in dana
    assert "asks for a call" in dana and "wants a review or audit" in dana
    assert "Added by hand" in dana  # the last signal: added by hand after her message
    priya = card(imported, ids[1])
    assert "Priya Shah" in priya and "asks about rates" in priya
    assert "What are your day rates for a two-week security audit?" in priya  # her last signal
    assert "Open pipeline 12,000.00 EUR Won 0.00 EUR" in text_of(imported)

    won = await press(client, "/leads", f"/leads/{ids[0]}", stage="won", value="12,000", currency="EUR", notes="")
    assert won.status_code == 303, won.text
    page = await client.get("/leads")
    assert "Open pipeline 0.00 EUR Won 12,000.00 EUR" in text_of(page)
    assert "Won 1" in text_of(page)


async def test_the_page_says_what_is_wrong_and_keeps_nothing(client: httpx.AsyncClient, alice: Account) -> None:
    await log_in_with_the_form(client, alice)

    foreign = await import_with_the_form(client, b"Date,Impressions\r\n1/2/2025,3\r\n", "export.csv")
    assert foreign.status_code == 422
    assert "not LinkedIn's messages.csv" in alert_of(foreign)
    broken = await import_with_the_form(client, b"PK\x03\x04 not really a zip", "archive.zip")
    assert broken.status_code == 422 and "zip" in alert_of(broken)
    nobody = await press(client, "/leads", "/leads", name="", company="Acme")
    assert nobody.status_code == 422 and "name, a profile URL or an e-mail" in alert_of(nobody)
    bad_value = await press(client, "/leads", "/leads", name="Kim Park", value="lots")
    assert bad_value.status_code == 422 and "not an amount" in alert_of(bad_value)
    assert lead_ids(await client.get("/leads")) == []

    await press(client, "/leads", "/leads", name="Kim Park")
    [kim] = lead_ids(await client.get("/leads"))
    assert (await press(client, "/leads", f"/leads/{kim}", stage="won", value="10")).status_code == 303
    off_pipeline = await press(client, "/leads", f"/leads/{kim}", stage="new", value="99")
    assert off_pipeline.status_code == 409 and "cannot move to new" in alert_of(off_pipeline)
    assert "Won 10.00 EUR" in text_of(await client.get("/leads"))
