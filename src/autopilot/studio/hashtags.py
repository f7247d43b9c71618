"""Hashtag suggestions from the author's own history and the post's topic, three or fewer by default.

Research (research/linkedin-analytics-and-leads.md §4.5): hashtags barely move reach, and 3 or more
have been measured to cost some; so a few of the author's own, relevant ones, at the end of the post.
A hashtag used in the author's earlier posts weighs by how often and how recently it was used (each
use halves in weight every `HALF_LIFE_DAYS`); one that shares a word with the topic or the key points
comes first, then the topic itself as a hashtag, then the author's other habits, then profile topics."""

from __future__ import annotations

import re
from collections.abc import Iterable, Sequence
from dataclasses import dataclass
from datetime import datetime
from typing import Literal

from autopilot.linkedin import text as little

DEFAULT_COUNT = 3
MAX_COUNT = 5
HALF_LIFE_DAYS = 30.0
MAX_TAG_LENGTH = 40  # longer ones read as noise, and LinkedIn shows them cut
TOPIC_TAG_MAX_WORDS = 3  # a longer topic is a sentence, not a hashtag
_WORD = re.compile(r"[^\W_]+")
_CAMEL = re.compile(r"[A-Z]?[a-z]+|[A-Z]+(?![a-z])|\d+|[^\W\d_A-Za-z]+")
# Spelled out, because "+", "#" and "." are not hashtag characters: "C++" → CPlusPlus, not C.
_SPELLED = ((re.compile(r"\+\+"), " plus plus "), (re.compile(r"(?<=\w)#"), " sharp "), (re.compile(r"^\."), "dot "))
Source = Literal["history", "topic", "profile"]


@dataclass(frozen=True)
class PastPost:
    """One of the author's earlier posts: its text and when it was written."""

    text: str
    at: datetime


@dataclass(frozen=True)
class Suggestion:
    tag: str  # "#CamelCase"
    source: Source
    uses: int = 0  # in the author's history
    weight: float = 0.0


def normalise(raw: str) -> str | None:
    """A hashtag as LinkedIn keeps it live: "#" then letters and digits only, each word capitalised
    ("platform engineering" → #PlatformEngineering, "devOps" → #DevOps, "C++" → #CPlusPlus).
    None when nothing usable is left (no letter, or too long)."""
    text = raw.strip().lstrip("#").strip()
    for pattern, spelled in _SPELLED:
        text = pattern.sub(spelled, text)
    words = _WORD.findall(text)
    tag = "".join(word[:1].upper() + word[1:] for word in words)
    if not tag or not any(c.isalpha() for c in tag) or len(tag) > MAX_TAG_LENGTH:
        return None
    return f"#{tag}"


def _stems(text: str) -> set[str]:
    """Lower-case words of three letters or more, a plural "s" dropped: what "shares a word" compares."""
    found = set()
    for word in _WORD.findall(text):
        for part in _CAMEL.findall(word) or [word]:
            lowered = part.lower()
            if len(lowered) >= 3:
                found.add(lowered[:-1] if lowered.endswith("s") and len(lowered) > 3 else lowered)
    return found


def history_weights(posts: Iterable[PastPost], now: datetime) -> dict[str, tuple[str, int, float]]:
    """Each hashtag of the author's posts, by lower-case key: (its most recent spelling, uses, weight)."""
    found: dict[str, tuple[str, int, float, datetime]] = {}
    for post in posts:
        age_days = max((now - post.at).total_seconds() / 86_400, 0.0)
        weight = 0.5 ** (age_days / HALF_LIFE_DAYS)
        for raw in little.hashtags(post.text):
            tag = normalise(raw)
            if tag is None:
                continue
            key = tag.lower()
            spelling, uses, total, last = found.get(key, (tag, 0, 0.0, post.at))
            if post.at >= last:
                spelling, last = tag, post.at
            found[key] = (spelling, uses + 1, total + weight, last)
    return {key: (spelling, uses, total) for key, (spelling, uses, total, _last) in found.items()}


def suggest(
    history: Sequence[PastPost],
    topic: str,
    key_points: Sequence[str] = (),
    profile_topics: Sequence[str] = (),
    *,
    now: datetime,
    count: int = DEFAULT_COUNT,
) -> list[Suggestion]:
    """Up to *count* hashtags for a post on *topic*, no two alike (case-insensitive)."""
    subject = _stems(" ".join([topic, *key_points]))
    weights = history_weights(history, now)
    ranked = sorted(weights.items(), key=lambda item: (-item[1][2], item[0]))
    relevant = [(k, v) for k, v in ranked if _stems(v[0]) & subject]
    habits = [(k, v) for k, v in ranked if not _stems(v[0]) & subject]
    topic_tag = normalise(topic) if len(_WORD.findall(topic)) <= TOPIC_TAG_MAX_WORDS else None
    profile = [(tag, bool(_stems(t) & subject)) for t in profile_topics if (tag := normalise(t))]
    candidates = [
        *(Suggestion(v[0], "history", v[1], round(v[2], 4)) for _k, v in relevant),
        *([Suggestion(topic_tag, "topic")] if topic_tag else []),
        *(Suggestion(tag, "profile") for tag, related in profile if related),
        *(Suggestion(v[0], "history", v[1], round(v[2], 4)) for _k, v in habits),
        *(Suggestion(tag, "profile") for tag, related in profile if not related),
    ]
    chosen: list[Suggestion] = []
    seen: set[str] = set()
    for candidate in candidates:
        key = candidate.tag.lower()
        if key not in seen and len(chosen) < count:
            seen.add(key)
            chosen.append(candidate)
    return chosen


def line(tags: Sequence[str]) -> str:
    """The hashtags as the post's last line."""
    return " ".join(tags)
