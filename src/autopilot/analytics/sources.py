"""Reading post data a user brings: a CSV of posts (the public influencer-posts columns or an
export's) or a JSON file of labelled pairs. A foreign or broken file is refused with a sentence
that says what is wrong, before any work is done."""

from __future__ import annotations

import ast
import csv
import math
import re
from dataclasses import dataclass
from datetime import datetime
from pathlib import Path
from typing import Literal

from pydantic import BaseModel, ConfigDict, Field, ValidationError


class EvalInputError(ValueError):
    """The file cannot be evaluated; the message is meant for the person who chose it."""


# Column names we accept for each field, the first present wins (lower-cased headers).
TEXT_COLUMNS = ("content", "text", "commentary", "post_text")
AUTHOR_COLUMNS = ("author", "author_name", "name", "profile")
DATE_COLUMNS = ("date", "published_at", "posted_at", "created_at", "post_date")


@dataclass(frozen=True)
class PostRow:
    """One post of a CSV: what the model may see, plus its engagement and where it sits in time."""

    line: int
    text: str
    reactions: float
    comments: float
    author: str | None
    followers: float | None
    media_type: str | None
    hashtags: int | None
    links: int | None
    mentions: int | None
    order_key: float  # larger is later

    @property
    def engagement(self) -> float:
        return self.reactions + self.comments


@dataclass(frozen=True)
class PostsFile:
    rows: list[PostRow]
    rows_read: int
    rows_skipped: int  # a blank engagement cell: nothing to learn from
    order: str  # how order_key was found, in words
    author_source: str
    mapping: dict[str, str]  # our field -> the file's column


def _number(raw: str, *, line: int, column: str) -> float | None:
    cleaned = raw.strip().replace(",", "").replace("\u00a0", "")
    if not cleaned:
        return None
    try:
        value = float(cleaned)
    except ValueError:
        raise EvalInputError(f"line {line}: {column} {raw.strip()[:40]!r} is not a number") from None
    if not math.isfinite(value) or value < 0:
        raise EvalInputError(f"line {line}: {column} {raw.strip()[:40]!r} is not a count")
    return value


_AGE = re.compile(r"^\s*(\d+)\s+(minute|hour|day|week|month|year)s?\s+ago\s*$", re.IGNORECASE)
_AGE_HOURS = {"minute": 1 / 60, "hour": 1.0, "day": 24.0, "week": 168.0, "month": 730.0, "year": 8766.0}


def age_in_hours(raw: str, *, line: int) -> float:
    """'3 months ago' → hours. The influencer-posts data gives each post's age at scrape time."""
    match = _AGE.match(raw)
    if not match:
        raise EvalInputError(f"line {line}: time_spent {raw.strip()[:40]!r} is not an age such as '2 months ago'")
    return int(match.group(1)) * _AGE_HOURS[match.group(2).lower()]


def _timestamp(raw: str, *, line: int, column: str) -> float:
    try:
        return datetime.fromisoformat(raw.strip()).timestamp()
    except ValueError:
        raise EvalInputError(f"line {line}: {column} {raw.strip()[:40]!r} is not an ISO date") from None


def _link_counts(raw: str) -> tuple[int, int] | None:
    """(links, mentions) from the data set's content_links: a Python-style list of [url, anchor]."""
    try:
        items = ast.literal_eval(raw.strip()) if raw.strip() else []
    except (ValueError, SyntaxError, MemoryError, RecursionError):
        return None
    if not isinstance(items, list):
        return None
    urls = [str(item[0]) for item in items if isinstance(item, list | tuple) and item]
    mentions = sum(1 for u in urls if "/in/" in u or "/company/" in u)
    hashtags = sum(1 for u in urls if "/feed/hashtag/" in u)
    return len(urls) - mentions - hashtags, mentions


def _pick(headers: dict[str, str], names: tuple[str, ...]) -> str | None:
    return next((headers[n] for n in names if n in headers), None)


def read_posts_csv(path: Path) -> PostsFile:
    """Read a CSV of posts; needs a text column, reactions and comments."""
    try:
        with path.open(encoding="utf-8-sig", newline="") as handle:
            reader = csv.DictReader(handle)
            headers = {h.strip().lower(): h for h in (reader.fieldnames or []) if h}
            text_col = _pick(headers, TEXT_COLUMNS)
            missing = [
                name
                for name, col in (
                    ("a text column (content or text)", text_col),
                    ("reactions", headers.get("reactions")),
                    ("comments", headers.get("comments")),
                )
                if col is None
            ]
            if missing:
                found = ", ".join(list(headers)[:12]) or "none"
                raise EvalInputError(
                    f"{path.name} is not a posts file: missing {', '.join(missing)} (columns: {found})"
                )
            assert text_col is not None
            return _read_rows(reader, headers, text_col)
    except UnicodeDecodeError:
        raise EvalInputError(f"{path.name} is not a UTF-8 text file (a CSV of posts was expected)") from None
    except csv.Error as exc:
        raise EvalInputError(f"{path.name} is not a readable CSV: {exc}") from None


def _read_rows(reader: csv.DictReader[str], headers: dict[str, str], text_col: str) -> PostsFile:
    author_col = _pick(headers, AUTHOR_COLUMNS)
    date_col = _pick(headers, DATE_COLUMNS)
    followers_col = headers.get("followers")
    media_col = headers.get("media_type")
    hashtags_col = headers.get("num_hashtags")
    links_col = headers.get("content_links")
    age_col = headers.get("time_spent")
    rows: list[PostRow] = []
    read = skipped = 0
    for position, record in enumerate(reader):
        line = reader.line_num
        read += 1

        def cell(column: str | None, record: dict[str, str | None] = record) -> str:
            return (record.get(column) or "") if column else ""

        reactions = _number(cell(headers["reactions"]), line=line, column="reactions")
        comments = _number(cell(headers["comments"]), line=line, column="comments")
        if reactions is None or comments is None:
            skipped += 1
            continue
        followers = _number(cell(followers_col), line=line, column="followers")
        hashtags = _number(cell(hashtags_col), line=line, column="num_hashtags")
        links = _link_counts(cell(links_col)) if links_col else None
        if date_col:
            order_key = _timestamp(cell(date_col), line=line, column=date_col)
        elif age_col:
            order_key = -age_in_hours(cell(age_col), line=line)
        else:
            order_key = float(position)
        author = cell(author_col).strip() or None
        if author is None and followers is not None:
            # No author column (the public data dropped names): one profile has one follower count.
            author = f"followers={followers:.0f}"
        rows.append(
            PostRow(
                line=line,
                text=cell(text_col),
                reactions=reactions,
                comments=comments,
                author=author,
                followers=followers,
                media_type=cell(media_col).strip() or None,
                hashtags=int(hashtags) if hashtags is not None else None,
                links=links[0] if links else None,
                mentions=links[1] if links else None,
                order_key=order_key,
            )
        )
    if date_col:
        order = f"time-ordered by the {date_col!r} column"
    elif age_col:
        order = f"time-ordered by {age_col!r} (the post's age when the data was collected), ties in file order"
    else:
        order = "file order (no date column): earlier rows count as older"
    mapping = {
        field: col
        for field, col in (
            ("text", text_col),
            ("reactions", headers["reactions"]),
            ("comments", headers["comments"]),
            ("author", author_col),
            ("date", date_col),
            ("age", age_col),
            ("followers", followers_col),
            ("media_type", media_col),
            ("hashtags", hashtags_col),
            ("links_and_mentions", links_col),
        )
        if col
    }
    author_source = (
        f"the {author_col!r} column"
        if author_col
        else "posts with the same follower count (no author column)"
        if followers_col
        else "unknown: every post counts as its own author"
    )
    return PostsFile(rows, read, skipped, order, author_source, mapping)


class PairPost(BaseModel):
    model_config = ConfigDict(extra="ignore")

    text: str
    reactions: float | None = Field(default=None, ge=0)
    comments: float | None = Field(default=None, ge=0)
    author: str | None = None
    followers: float | None = Field(default=None, ge=0)
    media_type: str | None = None


class LabelledPair(BaseModel):
    post_a: PairPost
    post_b: PairPost
    label: Literal[0, 1]  # 0: A drew more engagement


class PairsFile(BaseModel):
    train: list[LabelledPair] = Field(min_length=1)
    test: list[LabelledPair] = Field(min_length=1)


def read_pairs_json(path: Path) -> PairsFile:
    """Read {"train": [...], "test": [...]}; the first problems found are named in the error."""
    try:
        raw = path.read_bytes()
        return PairsFile.model_validate_json(raw)
    except ValidationError as exc:
        problems = "; ".join(
            f"{'.'.join(map(str, e['loc'])) or 'file'}: {str(e['msg']).removeprefix('Value error, ')}"
            for e in exc.errors()[:3]
        )
        raise EvalInputError(f"{path.name} is not a pairs file ({problems})") from None
