"""The little-text parser decides what members read (contract §3.3)."""

from __future__ import annotations

import pytest
from hypothesis import given
from hypothesis import strategies as st

from autopilot.sandbox.linkedin.little import RESERVED, escape, parse


def test_escaped_reserved_characters_are_shown_literally() -> None:
    parsed = parse(r"2 \* 3 \(really\) \@home \#1 \\ \_x\_ \~ \| \{\} \[\] \<\>")
    assert parsed.displayed == r"2 * 3 (really) @home #1 \ _x_ ~ | {} [] <>"
    assert not parsed.truncated


@pytest.mark.parametrize(
    ("text", "kept"),
    [
        ("Launch (beta) today", "Launch "),
        ("We ship # fast", "We ship "),
        ("path C:\\temp", "path C:"),
        ("mail me@example.com", "mail me"),
        ("snake_case", "snake"),
        ("**bold**", ""),
        ("#tag_two", "#tag"),
        ("a {b} c", "a "),
    ],
)
def test_an_unescaped_reserved_character_cuts_the_text_there(text: str, kept: str) -> None:
    parsed = parse(text)
    assert parsed.truncated
    assert parsed.displayed == kept


def test_hashtags_in_both_forms_are_shown_with_a_hash_and_returned_as_templates() -> None:
    parsed = parse("Ship it #python and {hashtag|\\#|Rust} #été\nnext line")
    assert parsed.displayed == "Ship it #python and #Rust #été\nnext line"
    assert parsed.hashtags == ["python", "Rust", "été"]
    assert parsed.template == "Ship it {hashtag|\\#|python} and {hashtag|\\#|Rust} {hashtag|\\#|été}\nnext line"


def test_a_hashtag_word_ends_at_the_first_non_letter_or_digit() -> None:
    parsed = parse("#v2release! and #42")
    assert parsed.displayed == "#v2release! and #42" and parsed.hashtags == ["v2release", "42"]


def test_mentions_show_the_name() -> None:
    parsed = parse("Thanks @[Ada Lovelace](urn:li:person:abc123XYZ_) and @[Devtestco](urn:li:organization:2414183)!")
    assert parsed.displayed == "Thanks Ada Lovelace and Devtestco!"
    assert [m.urn for m in parsed.mentions] == ["urn:li:person:abc123XYZ_", "urn:li:organization:2414183"]
    assert parse("@[Broken](urn:li:share:1)").displayed == ""


@given(st.text(alphabet=st.characters(codec="utf-8"), max_size=200))
def test_escaping_every_reserved_character_shows_the_text_unchanged(text: str) -> None:
    parsed = parse(escape(text))
    assert parsed.displayed == text
    assert not parsed.truncated


@given(st.text(alphabet=st.sampled_from(sorted(RESERVED) + list("ab #\n")), max_size=60))
def test_what_is_shown_is_never_longer_than_what_was_stored(text: str) -> None:
    parsed = parse(text)
    assert text.startswith(parsed.stored)
    assert parsed.truncated == (parsed.stored != text)
