"""LinkedIn's "little" text format (research/linkedin-api-contract.md §3.3).

Fifteen characters are reserved; an unescaped one that does not start a valid element makes
LinkedIn silently cut the post there (201, no error). We escape every reserved character except
the two things an author means: a hashtag (`#` followed by letters or digits) and a mention
written as `@[Display Name](urn:li:person:ID)` (or an organization URN). Everything else reaches
LinkedIn as plain text; the text is never altered beyond escaping."""

from __future__ import annotations

import re

RESERVED = frozenset("|{}@[]()<>#\\*_~")
COMMENTARY_LIMIT = 3000  # code points, as sent (after escaping): the contract's safest reading

# A hashtag is `#` followed by letters or digits; `_` is reserved, so it ends the tag (LinkedIn
# parses `#my_tag` as `#my` + `_tag`; we send `#my\_tag`, which shows as "#my_tag").
_HASHTAG = re.compile(r"#[^\W_]+")
_MENTION = re.compile(r"@\[([^\[\]\\|{}@()<>#*_~]+)\]\((urn:li:(?:person|organization):[A-Za-z0-9_-]+)\)")


def _escape_plain(text: str) -> str:
    return "".join("\\" + c if c in RESERVED else c for c in text)


def escape(text: str) -> str:
    """The author's text as LinkedIn commentary: hashtags and structured mentions kept, every
    other reserved character escaped."""
    out: list[str] = []
    pos = 0
    while pos < len(text):
        mention = _MENTION.match(text, pos)
        if mention:
            out.append(mention.group(0))  # names hold no reserved character
            pos = mention.end()
            continue
        tag = _HASHTAG.match(text, pos)
        if tag:
            out.append(tag.group(0))
            pos = tag.end()
            continue
        out.append("\\" + text[pos] if text[pos] in RESERVED else text[pos])
        pos += 1
    return "".join(out)


def displayed(text: str) -> str:
    """What members see for the author's text: mentions show their name."""
    return _MENTION.sub(lambda m: m.group(1), text)


def hashtags(text: str) -> list[str]:
    return [m.group(0)[1:] for m in _HASHTAG.finditer(_MENTION.sub("", text))]


def commentary_length(text: str) -> int:
    """Code points LinkedIn counts for the author's text (after escaping)."""
    return len(escape(text))
