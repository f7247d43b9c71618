"""`autopilot analytics eval`: the engagement model is trained on the older posts only and ordered
pairs of newer posts better than the longer-text rule when a learnable rule decides engagement;
a foreign file is refused with a readable message; the same seed gives the same report.

The posts are synthetic: an opening question draws 100 reactions + comments, a statement 10."""

from __future__ import annotations

import csv
import json
import random
from pathlib import Path
from typing import Any

import pytest

from tests.support.cli import autopilot

FILLER = [
    "architecture",
    "review",
    "platform",
    "teams",
    "deploy",
    "pipeline",
    "latency",
    "budget",
    "incident",
    "cloud",
    "cost",
]
AUTHORS = {"ana": 1_200.0, "ben": 45_000.0, "chloe": 8_000.0, "dev": 310.0, "eve": 99_000.0}


def synthetic_posts(count: int, *, seed: int, newest_follow_emoji: bool = False) -> list[dict[str, Any]]:
    """Oldest first. Older posts: a question wins. With *newest_follow_emoji*, the newest fifth
    follows another rule the older posts never show: only statements, and an emoji wins."""
    rng = random.Random(seed)
    posts = []
    for i in range(count):
        author = list(AUTHORS)[i % len(AUTHORS)]
        newest = i >= count * 0.8
        body = " ".join(rng.choices(FILLER, k=rng.randint(4, 80))) + "."
        if newest and newest_follow_emoji:
            emoji = rng.random() < 0.5
            text, wins = f"Teams skip design reviews. {body}" + (" 🚀" if emoji else ""), emoji
        else:
            question = rng.random() < 0.5
            opener = "Why do teams skip design reviews?" if question else "Teams skip design reviews."
            text, wins = f"{opener} {body}", question
        posts.append(
            {
                "content": text,
                "reactions": 90 if wins else 9,
                "comments": 10 if wins else 1,
                "followers": AUTHORS[author],
                "author": author,
                "media_type": "image",
                "num_hashtags": 0,
                "time_spent": f"{count - i} days ago",
            }
        )
    return posts


POSTS_COLUMNS = ["content", "reactions", "comments", "followers", "media_type", "num_hashtags", "time_spent"]


def write_csv(path: Path, posts: list[dict[str, Any]], *, columns: list[str] = POSTS_COLUMNS) -> Path:
    # The public data has no author column: the evaluation finds authors by their follower count.
    shuffled = posts[:]
    random.Random(0).shuffle(shuffled)  # file order is not time order: the age column is
    with path.open("w", newline="", encoding="utf-8") as handle:
        writer = csv.DictWriter(handle, fieldnames=columns, extrasaction="ignore")
        writer.writeheader()
        writer.writerows(shuffled)
    return path


def pairs_of(posts: list[dict[str, Any]], rng: random.Random) -> list[dict[str, Any]]:
    pairs = []
    for a in posts:
        b = rng.choice([p for p in posts if p["reactions"] != a["reactions"]])
        items = [
            {k: p[k] for k in ("reactions", "comments", "author", "followers")} | {"text": p["content"]} for p in (a, b)
        ]
        pairs.append({"post_a": items[0], "post_b": items[1], "label": 0 if a["reactions"] > b["reactions"] else 1})
    return pairs


def write_pairs(path: Path, posts: list[dict[str, Any]]) -> Path:
    rng = random.Random(1)
    cut = int(len(posts) * 0.8)
    path.write_text(json.dumps({"train": pairs_of(posts[:cut], rng), "test": pairs_of(posts[cut:], rng)}))
    return path


def evaluate(*args: str) -> dict[str, Any]:
    # One OpenMP thread: on a busy 2-core machine the trees' thread team waits for cores in turn.
    done = autopilot("analytics", "eval", *args, env={"OMP_NUM_THREADS": "1"})
    assert done.returncode == 0, done.stderr
    lines = done.stdout.strip().splitlines()
    assert len(lines) == 1, done.stdout  # one JSON line; the progress bar went to stderr
    report: dict[str, Any] = json.loads(lines[0])
    return report


def test_the_model_learns_the_rule_that_decides_engagement_and_beats_both_rules(tmp_path: Path) -> None:
    report = evaluate("--posts", str(write_csv(tmp_path / "posts.csv", synthetic_posts(150, seed=3))))
    assert report["rows_read"] == 150
    assert report["engagement"] == "reactions + comments"
    assert "time_spent" in report["split"]["rule"]
    assert (report["split"]["train_rows"], report["split"]["test_rows"]) == (120, 30)
    assert report["pairs"]["test"] == report["pairs"]["test_same_author"] > 0  # pairs within each author
    accuracy = report["accuracy"]
    assert accuracy["model"] >= 0.95
    assert accuracy["length_baseline"] < 0.75
    assert accuracy["followers_baseline"] == 0.5  # the same author on both sides: a coin toss
    assert report["goal"] == 0.85 and report["met"] is True


def test_pairs_files_are_evaluated_on_their_own_split(tmp_path: Path) -> None:
    report = evaluate("--pairs", str(write_pairs(tmp_path / "pairs.json", synthetic_posts(150, seed=4))))
    assert report["split"] == {"rule": "as given in the file (train / test)", "train_rows": 120, "test_rows": 30}
    assert report["accuracy"]["model"] >= 0.95
    assert report["accuracy"]["model"] > report["accuracy"]["length_baseline"] + 0.2
    assert report["accuracy"]["followers_baseline"] is not None


@pytest.mark.parametrize("source", ["posts", "pairs"])
def test_the_model_learns_only_from_the_training_part(tmp_path: Path, source: str) -> None:
    # The newest posts follow a rule the older ones never show (an emoji wins). Trained on the
    # older part alone the model cannot know it; had it seen the test part, it would.
    posts = synthetic_posts(200, seed=5, newest_follow_emoji=True)
    path = write_csv(tmp_path / "p.csv", posts) if source == "posts" else write_pairs(tmp_path / "p.json", posts)
    report = evaluate(f"--{source}", str(path))
    assert report["pairs"]["test"] >= 30
    assert report["accuracy"]["model"] < 0.75
    assert report["met"] is False


def test_the_same_seed_gives_the_same_report(tmp_path: Path) -> None:
    # Without follower counts no two posts share an author: each is paired with a random other,
    # and with noisy engagement the figures depend on which pairs were drawn.
    posts = synthetic_posts(200, seed=6)
    noise = random.Random(6)
    for post in posts:
        post["reactions"] = noise.randint(0, 500)
    columns = [c for c in POSTS_COLUMNS if c != "followers"]
    path = write_csv(tmp_path / "posts.csv", posts, columns=columns)
    first, second = evaluate("--posts", str(path), "--seed", "7"), evaluate("--posts", str(path), "--seed", "7")
    assert first == second
    assert first["seed"] == 7 and first["pairs"]["test_same_author"] == 0


BAD_FILES = {
    "foreign.csv": ("name,age\nada,36\n", "is not a posts file: missing a text column (content or text)"),
    "words.csv": ("content,reactions,comments\nhello,lots,2\n", "line 2: reactions 'lots' is not a number"),
    "tiny.csv": ("content,reactions,comments\nhello,1,2\n", "tiny.csv has 1 usable posts"),
    "binary.csv": (b"\x89PNG\r\n\x1a\n\xff\xfe\x00", "is not a UTF-8 text file"),
    "pairs.json": ('{"train": []}', "is not a pairs file (train: List should have at least 1 item"),
    "broken.json": ("{not json", "is not a pairs file (file: Invalid JSON"),
}


@pytest.mark.parametrize("name", sorted(BAD_FILES))
def test_a_bad_or_foreign_file_is_refused_with_a_readable_message(tmp_path: Path, name: str) -> None:
    content, message = BAD_FILES[name]
    path = tmp_path / name
    if isinstance(content, bytes):
        path.write_bytes(content)
    else:
        path.write_text(content)
    option = "--pairs" if name.endswith(".json") else "--posts"
    done = autopilot("analytics", "eval", option, str(path), env={})
    assert done.returncode == 2
    assert done.stdout == ""
    assert message in done.stderr


def test_exactly_one_source_is_required(tmp_path: Path) -> None:
    done = autopilot("analytics", "eval", env={})
    assert done.returncode == 2
    assert "give exactly one of --posts PATH or --pairs PATH" in done.stderr
