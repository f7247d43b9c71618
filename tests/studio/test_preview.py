"""The LinkedIn preview: the count after escaping and the "…see more" cut (about 210 characters or
three lines, whichever comes first; back to a word)."""

from __future__ import annotations

import httpx

from autopilot.linkedin.text import COMMENTARY_LIMIT
from autopilot.studio.preview import SEE_MORE_CHARS, SEE_MORE_LINES, preview
from tests.support.accounts import Account


def test_a_short_post_is_shown_whole() -> None:
    shown = preview("Hello (world) #tips")
    assert shown.visible == "Hello (world) #tips" and not shown.cut and shown.hidden == 0
    assert shown.characters == len("Hello \\(world\\) #tips")  # the parentheses are sent escaped
    assert shown.fits and shown.limit == COMMENTARY_LIMIT


def test_the_fourth_line_goes_behind_see_more() -> None:
    text = "Line one\nLine two\n\nLine four is hidden"
    shown = preview(text)
    assert shown.visible == "Line one\nLine two"  # the blank third line counts as a line
    assert shown.cut and shown.hidden == len(text) - len("Line one\nLine two")
    assert len(text.split("\n")) > SEE_MORE_LINES


def test_a_long_first_line_is_cut_near_210_characters_at_a_word() -> None:
    words = " ".join(f"word{n:03d}" for n in range(60))  # 8 characters a word, spaces between
    shown = preview(words)
    assert shown.cut
    assert len(shown.visible) <= SEE_MORE_CHARS
    assert len(shown.visible) > SEE_MORE_CHARS - 10
    assert words.startswith(shown.visible) and words[len(shown.visible)] == " "  # no word split


def test_mentions_are_shown_by_name_and_the_count_says_how_far_over() -> None:
    text = "Thanks @[Ada Lovelace](urn:li:person:abc123) for the review"
    assert preview(text).visible == "Thanks Ada Lovelace for the review"
    over = preview("(" * 1600)  # 1,600 reserved characters are 3,200 once escaped
    assert over.characters == 3200 and not over.fits and over.over_by == 200


async def test_the_preview_api_answers_for_a_signed_in_user(client: httpx.AsyncClient, alice: Account) -> None:
    answer = await client.post("/api/v1/studio/preview", json={"text": "One\nTwo\nThree\nFour"}, headers=alice.auth)
    assert answer.status_code == 200, answer.text
    body = answer.json()
    assert body["visible"] == "One\nTwo\nThree" and body["cut"] is True and body["fits"] is True
    assert "see more" in body["rule"]
    anonymous = await client.post("/api/v1/studio/preview", json={"text": "x"})
    assert anonymous.status_code == 401
