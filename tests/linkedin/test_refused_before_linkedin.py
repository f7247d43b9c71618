"""Text and files LinkedIn would refuse (or silently cut) are refused by us, with a clear 4xx,
before any call to LinkedIn: nothing is published."""

from __future__ import annotations

import io

import httpx
import pytest
from PIL import Image

from tests.support.accounts import Account
from tests.support.linkedin import approved, connect
from tests.support.linkedin_sandbox import SandboxControl


def png(width: int, height: int) -> bytes:
    out = io.BytesIO()
    Image.new("1", (width, height)).save(out, format="PNG", optimize=True)
    return out.getvalue()


@pytest.mark.parametrize(
    ("text", "says"),
    [
        ("", "no text"),
        ("   \n\t ", "no text"),
        ("x" * 3001, "3,001 characters"),
        ("(" * 1501, "3,002 characters"),  # 1,501 characters become 3,002 once escaped
    ],
)
async def test_text_linkedin_would_refuse_is_refused_first(
    text: str, says: str, client: httpx.AsyncClient, alice: Account, sandbox: SandboxControl
) -> None:
    await connect(client, alice)
    answer = await client.post("/api/v1/content", json={"text": text}, headers=alice.auth)
    assert answer.status_code == 422
    assert answer.headers["content-type"].startswith("application/problem+json")
    assert says in answer.json()["detail"]
    assert sum(sandbox.stats()["posts_created"].values()) == 0
    assert sandbox.posts() == []


async def test_exactly_3000_characters_is_accepted(client: httpx.AsyncClient, alice: Account) -> None:
    answer = await client.post("/api/v1/content", json={"text": "x" * 3000}, headers=alice.auth)
    assert answer.status_code == 201
    assert answer.json()["characters"] == 3000


async def test_an_oversized_image_is_refused_with_its_size(client: httpx.AsyncClient, alice: Account) -> None:
    huge = png(6100, 6000)  # 36,600,000 pixels: LinkedIn takes fewer than 36,152,320
    answer = await client.post("/api/v1/media", files={"file": ("big.png", huge, "image/png")}, headers=alice.auth)
    assert answer.status_code == 422
    assert "6100x6000" in answer.json()["detail"] and "36,152,320" in answer.json()["detail"]


async def test_a_file_that_is_not_a_pdf_or_image_is_refused(client: httpx.AsyncClient, alice: Account) -> None:
    for name, data in [
        ("deck.pdf", b"PK\x03\x04 a zip file named .pdf"),
        ("empty.pdf", b""),
        ("cut.pdf", b"%PDF-1.7 cut"),
    ]:
        answer = await client.post("/api/v1/media", files={"file": (name, data, "application/pdf")}, headers=alice.auth)
        assert answer.status_code == 422, (name, answer.text)
        assert name in answer.json()["detail"]


async def test_a_good_image_and_a_pdf_are_accepted(client: httpx.AsyncClient, alice: Account) -> None:
    image = await client.post(
        "/api/v1/media", files={"file": ("ok.png", png(1200, 627), "image/png")}, headers=alice.auth
    )
    assert image.status_code == 201 and image.json()["kind"] == "image" and image.json()["width"] == 1200
    pdf = b"%PDF-1.4\n1 0 obj<<>>endobj\ntrailer<<>>\n%%EOF\n"
    doc = await client.post("/api/v1/media", files={"file": ("deck.pdf", pdf, "application/pdf")}, headers=alice.auth)
    assert doc.status_code == 201 and doc.json()["kind"] == "document"


async def test_unapproved_content_is_not_published(
    client: httpx.AsyncClient, alice: Account, sandbox: SandboxControl
) -> None:
    await connect(client, alice)
    draft = await client.post("/api/v1/content", json={"text": "not yet"}, headers=alice.auth)
    answer = await client.post(f"/api/v1/content/{draft.json()['id']}/publish", headers=alice.auth)
    assert answer.status_code == 409 and "approved" in answer.json()["detail"]


async def test_publishing_without_a_connection_says_what_to_do(client: httpx.AsyncClient, alice: Account) -> None:
    item = await approved(client, alice, "hello")
    answer = await client.post(f"/api/v1/content/{item['id']}/publish", headers=alice.auth)
    assert answer.status_code == 409 and "connect" in answer.json()["detail"].lower()
