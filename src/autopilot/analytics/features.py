"""What the prediction model sees of a post: numbers that exist before it is published (its text,
attachment and author), never the engagement it went on to draw."""

from __future__ import annotations

import math
import re
from dataclasses import dataclass
from enum import StrEnum


class Hook(StrEnum):
    """The kind of opening line, the part a reader sees before "…see more"."""

    QUESTION = "question"
    HOW_TO = "how_to"
    NUMBER = "number"
    CONTRARIAN = "contrarian"
    STORY = "story"
    STATEMENT = "statement"


MEDIA_TYPES = ("text", "article", "image", "video", "document", "poll")


@dataclass(frozen=True)
class Post:
    """A post as the model knows it. `None` means unknown, which the features keep apart from 0."""

    text: str
    author: str | None = None
    media_type: str | None = None
    followers: float | None = None
    hashtags: int | None = None  # when the source counted them; else counted in the text
    links: int | None = None  # idem
    mentions: int | None = None  # idem
    # The author's typical engagement from earlier posts (median of log1p(reactions + comments)).
    author_baseline: float | None = None


_SEE_MORE = re.compile(r"\s*…\s*see more\s*$", re.IGNORECASE)  # scraped previews end with it
_SENTENCE_END = re.compile(r"(?<=[.!?])\s")
_NUMBER_WORDS = {"one", "two", "three", "four", "five", "six", "seven", "eight", "nine", "ten", "twelve", "100"}
_HOW_TO = re.compile(r"^(how to|how i|how we|here's how|here is how|\d+ (ways|tips|steps|lessons|things))\b")
_CONTRARIAN = re.compile(
    r"\b(not|never|stop|don't|doesn't|isn't|won't|myth|wrong|unpopular|nobody|no one|overrated|forget)\b"
)
_STORY = re.compile(r"^(i|i'm|i've|i'd|i was|my|when i|last (week|year|month)|yesterday|today i)\b")
_HASHTAG = re.compile(r"(?<!\w)#\w+")
_MENTION = re.compile(r"(?<!\w)@\w+")
_LINK = re.compile(r"https?://\S+|\blnkd\.in/\S+", re.IGNORECASE)
_EMOJI = re.compile("[\U0001f300-\U0001faff\u2600-\u27bf\u2b50\u2b06\u2194-\u21aa]")


def clean_text(text: str) -> str:
    """The post's text without a scraper's trailing "…see more"."""
    return _SEE_MORE.sub("", text).strip()


def first_sentence(text: str) -> str:
    """The opening line, cut at its first sentence end (some posts are one long line)."""
    line = next((ln.strip() for ln in text.splitlines() if ln.strip()), "")
    return _SENTENCE_END.split(line, maxsplit=1)[0][:240]


def hook_of(text: str) -> Hook:
    """Classify the opening: the first rule that matches, in the order of the Hook enum."""
    opening = first_sentence(text).lower().replace("\u2019", "'")
    if opening.endswith("?"):
        return Hook.QUESTION
    if _HOW_TO.search(opening):
        return Hook.HOW_TO
    first_word = opening.split(" ", 1)[0].strip(".,:;-")
    if first_word[:1].isdigit() or first_word in _NUMBER_WORDS:
        return Hook.NUMBER
    if _CONTRARIAN.search(opening):
        return Hook.CONTRARIAN
    if _STORY.search(opening):
        return Hook.STORY
    return Hook.STATEMENT


FEATURE_NAMES: tuple[str, ...] = (
    "log_chars",
    "lines",
    "log_words",
    *(f"hook_{h.value}" for h in Hook),
    "has_question",
    "hashtags",
    "mentions",
    "emoji",
    "links",
    *(f"media_{m}" for m in MEDIA_TYPES),
    "log_followers",
    "followers_known",
    "author_baseline",
    "author_baseline_known",
)


def post_features(post: Post) -> list[float]:
    """The post as a row of numbers in the order of FEATURE_NAMES."""
    text = clean_text(post.text)
    hook = hook_of(text)
    media = (post.media_type or "text").strip().lower()
    hashtags = post.hashtags if post.hashtags is not None else len(_HASHTAG.findall(text))
    mentions = post.mentions if post.mentions is not None else len(_MENTION.findall(text))
    links = post.links if post.links is not None else len(_LINK.findall(text))
    return [
        math.log1p(len(text)),
        float(len([ln for ln in text.splitlines() if ln.strip()])),
        math.log1p(len(text.split())),
        *(1.0 if hook is h else 0.0 for h in Hook),
        1.0 if "?" in text else 0.0,
        float(hashtags),
        float(mentions),
        float(len(_EMOJI.findall(text))),
        float(links),
        *(1.0 if media == m else 0.0 for m in MEDIA_TYPES),
        math.log1p(post.followers) if post.followers is not None else 0.0,
        1.0 if post.followers is not None else 0.0,
        post.author_baseline if post.author_baseline is not None else 0.0,
        1.0 if post.author_baseline is not None else 0.0,
    ]
