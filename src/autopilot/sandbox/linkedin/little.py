"""LinkedIn's "little" text format (contract §3.3): what members see of a post's commentary.

Fifteen characters are reserved. A backslash makes one literal; `#word` and `{hashtag|\\#|word}` are
hashtags; `@[Name](urn:li:person:ID)` is a mention. Any other unescaped reserved character does
not raise an error: LinkedIn keeps the text up to that character and drops the rest (measured in
production by several projects), so `parse` reports where the commentary was cut.
"""

from __future__ import annotations

import re
from dataclasses import dataclass, field

RESERVED = frozenset("|{}@[]()<>#\\*_~")
_WORD = re.compile(r"[^\W_]+")
_HASHTAG_TEMPLATE = re.compile(r"\{hashtag\|\\#\|([^\W_]+)\}")
_MENTION = re.compile(r"@\[([^\[\]()\\|{}<>@#*_~]+)\]\((urn:li:(?:person|organization):[A-Za-z0-9_-]+)\)")


@dataclass(frozen=True)
class Mention:
    name: str
    urn: str


@dataclass(frozen=True)
class Parsed:
    """A commentary as LinkedIn keeps it (`stored`, cut at the first unparsable character), as its
    API gives it back (`template`: hashtags in `{hashtag|\\#|word}` form) and as members read it."""

    stored: str
    template: str
    displayed: str
    truncated: bool
    hashtags: list[str] = field(default_factory=list)
    mentions: list[Mention] = field(default_factory=list)


def parse(commentary: str) -> Parsed:
    """Parse little text the way the feed renders it, truncating at an unescaped reserved character."""
    shown: list[str] = []
    template: list[str] = []
    hashtags: list[str] = []
    mentions: list[Mention] = []
    i = 0
    while i < len(commentary):
        char = commentary[i]
        if char not in RESERVED:
            shown.append(char)
            template.append(char)
            i += 1
            continue
        if char == "\\" and i + 1 < len(commentary) and commentary[i + 1] in RESERVED:
            shown.append(commentary[i + 1])
            template.append(commentary[i : i + 2])
            i += 2
            continue
        element = _element_at(commentary, i)
        if element is None:
            return Parsed(commentary[:i], "".join(template), "".join(shown), True, hashtags, mentions)
        end, text, source = element
        if isinstance(source, Mention):
            mentions.append(source)
        else:
            hashtags.append(source)
        shown.append(text)
        template.append(f"{{hashtag|\\#|{source}}}" if isinstance(source, str) else commentary[i:end])
        i = end
    return Parsed(commentary, "".join(template), "".join(shown), False, hashtags, mentions)


def _element_at(text: str, i: int) -> tuple[int, str, str | Mention] | None:
    """The element starting at text[i]: (end, displayed text, hashtag word or mention), or None."""
    if text[i] == "#":
        word = _WORD.match(text, i + 1)
        return (word.end(), f"#{word.group()}", word.group()) if word else None
    if text[i] == "{":
        tag = _HASHTAG_TEMPLATE.match(text, i)
        return (tag.end(), f"#{tag.group(1)}", tag.group(1)) if tag else None
    if text[i] == "@":
        mention = _MENTION.match(text, i)
        if mention:
            return mention.end(), mention.group(1), Mention(mention.group(1), mention.group(2))
    return None


def escape(text: str) -> str:
    """Plain text made literal: every reserved character behind a backslash."""
    return "".join("\\" + c if c in RESERVED else c for c in text)
