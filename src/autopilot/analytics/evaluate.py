"""Evaluation of the engagement model on post data a user has: train on the earlier part only,
then report on the later part how often the model orders two posts right (pairwise accuracy),
beside two naive rules (the longer text wins; the author with more followers wins).

Engagement is reactions + comments. A tie of a rule (same length, same or unknown followers)
counts as half right, as a coin toss would."""

from __future__ import annotations

import math
import random
import statistics
from collections import defaultdict
from collections.abc import Callable, Sequence
from pathlib import Path
from typing import Any

from autopilot.analytics.features import FEATURE_NAMES, Post, clean_text
from autopilot.analytics.model import EngagementModel, Pair
from autopilot.analytics.sources import (
    EvalInputError,
    LabelledPair,
    PairPost,
    PostRow,
    read_pairs_json,
    read_posts_csv,
)

GOAL = 0.85  # the product brief's pairwise accuracy
MAX_PAIRS_PER_AUTHOR = 300  # so that one prolific author does not stand for the whole data
RECENT_POSTS = 20  # the author's baseline is the median of this many earlier posts
STAGES = 4  # read, pair, train, score: what the progress bar counts

OnStage = Callable[[str], None]


def _baseline(engagements: Sequence[float]) -> float | None:
    recent = list(engagements)[-RECENT_POSTS:]
    return statistics.median(math.log1p(e) for e in recent) if recent else None


def _as_post(row: PostRow, baseline: float | None) -> Post:
    return Post(
        text=row.text,
        author=row.author,
        media_type=row.media_type,
        followers=row.followers,
        hashtags=row.hashtags,
        links=row.links,
        mentions=row.mentions,
        author_baseline=baseline,
    )


def _posts_with_baselines(train: list[PostRow], test: list[PostRow]) -> tuple[list[Post], list[Post]]:
    """A training post's baseline comes from the author's earlier training posts; a test post's
    from all of them. Test engagement is never used: that is what is being predicted."""
    history: dict[str, list[float]] = defaultdict(list)
    train_posts = []
    for row in train:  # oldest first
        key = row.author
        train_posts.append(_as_post(row, _baseline(history[key]) if key else None))
        if key:
            history[key].append(row.engagement)
    test_posts = [_as_post(row, _baseline(history[row.author]) if row.author else None) for row in test]
    return train_posts, test_posts


def pairs_within(posts: list[Post], engagement: list[float], rng: random.Random) -> list[Pair]:
    """Pairs of one part: every two posts of the same author whose engagement differs (at most
    MAX_PAIRS_PER_AUTHOR per author); a post whose author has no other post in the part is
    paired with a random other post."""
    by_author: dict[str, list[int]] = defaultdict(list)
    lonely: list[int] = []
    for i, post in enumerate(posts):
        if post.author is None:
            lonely.append(i)
        else:
            by_author[post.author].append(i)
    chosen: list[tuple[int, int]] = []
    for author in sorted(by_author):
        members = by_author[author]
        if len(members) < 2:
            lonely.extend(members)
            continue
        candidates = [
            (i, j)
            for k, i in enumerate(members)
            for j in members[k + 1 :]
            if engagement[i] != engagement[j]  # a tie has no winner to predict
        ]
        if len(candidates) > MAX_PAIRS_PER_AUTHOR:
            candidates = rng.sample(candidates, MAX_PAIRS_PER_AUTHOR)
        chosen.extend(candidates)
    for i in sorted(lonely):
        others = [j for j in range(len(posts)) if j != i and engagement[j] != engagement[i]]
        if others:
            chosen.append((i, rng.choice(others)))
    pairs = []
    for i, j in chosen:
        if rng.random() < 0.5:  # which side is A is a coin toss: the labels come out balanced
            i, j = j, i
        pairs.append(Pair(posts[i], posts[j], a_won=engagement[i] > engagement[j]))
    return pairs


def _accuracy(pairs: Sequence[Pair], chance_a_wins: Sequence[float]) -> float | None:
    if not pairs:
        return None
    score = 0.0
    for pair, p in zip(pairs, chance_a_wins, strict=True):
        if p == 0.5:
            score += 0.5
        elif (p > 0.5) == pair.a_won:
            score += 1.0
    return round(score / len(pairs), 4)


def _rule(value_a: float | None, value_b: float | None) -> float:
    if value_a is None or value_b is None or value_a == value_b:
        return 0.5
    return 1.0 if value_a > value_b else 0.0


def length_rule(pair: Pair) -> float:
    """The longer text wins."""
    return _rule(len(clean_text(pair.a.text)), len(clean_text(pair.b.text)))


def followers_rule(pair: Pair) -> float:
    """The author with more followers wins."""
    return _rule(pair.a.followers, pair.b.followers)


def score(train: Sequence[Pair], test: Sequence[Pair], *, seed: int, on_stage: OnStage) -> dict[str, Any]:
    """Train on *train* only, then the accuracy of the model and of both rules on *test*."""
    if not train or not test:
        raise EvalInputError(f"too few posts to compare: {len(train)} training and {len(test)} test pairs")
    on_stage(f"training on {len(train)} pairs")
    model = EngagementModel(seed=seed).fit(train)
    on_stage(f"scoring {len(test)} pairs")
    chances = model.chance_a_wins(test)
    same = [k for k, p in enumerate(test) if p.same_author]

    def accuracies(indices: Sequence[int]) -> dict[str, float | None]:
        pairs = [test[k] for k in indices]
        return {
            "model": _accuracy(pairs, [chances[k] for k in indices]),
            "length_baseline": _accuracy(pairs, [length_rule(p) for p in pairs]),
            "followers_baseline": _accuracy(pairs, [followers_rule(p) for p in pairs])
            if any(p.a.followers is not None and p.b.followers is not None for p in pairs)
            else None,  # no follower counts in the file: the rule cannot be judged
        }

    overall = accuracies(range(len(test)))
    model_accuracy = overall["model"] or 0.0
    return {
        "pairs": {"train": len(train), "test": len(test), "test_same_author": len(same)},
        "accuracy": overall,
        "accuracy_same_author": accuracies(same) if same else None,
        "goal": GOAL,
        "met": model_accuracy >= GOAL,
        "features": list(FEATURE_NAMES),
    }


def evaluate_posts(path: Path, *, test_share: float, seed: int, on_stage: OnStage) -> dict[str, Any]:
    """`autopilot analytics eval --posts`: a time-ordered split of a CSV of posts."""
    if not 0 < test_share < 1:
        raise EvalInputError(f"--test-share must be between 0 and 1, not {test_share}")
    on_stage(f"reading {path.name}")
    data = read_posts_csv(path)
    # Oldest first; the sort is stable, so posts of the same age keep their file order.
    rows = sorted(data.rows, key=lambda r: r.order_key)
    n_test = round(len(rows) * test_share)
    if len(rows) < 4 or n_test < 2 or len(rows) - n_test < 2:
        raise EvalInputError(f"{path.name} has {len(rows)} usable posts; at least 4 are needed (2 per part)")
    train_rows, test_rows = rows[: len(rows) - n_test], rows[len(rows) - n_test :]
    on_stage("pairing posts")
    train_posts, test_posts = _posts_with_baselines(train_rows, test_rows)
    rng = random.Random(seed)
    train_pairs = pairs_within(train_posts, [r.engagement for r in train_rows], rng)
    test_pairs = pairs_within(test_posts, [r.engagement for r in test_rows], rng)
    report = score(train_pairs, test_pairs, seed=seed, on_stage=on_stage)
    return {
        "source": "posts",
        "file": path.name,
        "rows_read": data.rows_read,
        "rows_skipped": data.rows_skipped,
        "columns": data.mapping,
        "engagement": "reactions + comments",
        "author": data.author_source,
        "split": {
            "rule": f"{data.order}: the oldest {len(train_rows)} posts train, the newest {len(test_rows)} test",
            "test_share": test_share,
            "train_rows": len(train_rows),
            "test_rows": len(test_rows),
        },
        "seed": seed,
        **report,
    }


def _pair_posts(items: list[LabelledPair]) -> list[tuple[PairPost, PairPost, bool]]:
    return [(item.post_a, item.post_b, item.label == 0) for item in items]


def _to_post(item: PairPost, baseline: float | None) -> Post:
    return Post(
        text=item.text,
        author=item.author,
        media_type=item.media_type,
        followers=item.followers,
        author_baseline=baseline,
    )


def evaluate_pairs(path: Path, *, seed: int, on_stage: OnStage) -> dict[str, Any]:
    """`autopilot analytics eval --pairs`: the file's own train/test split."""
    on_stage(f"reading {path.name}")
    data = read_pairs_json(path)
    on_stage("pairing posts")
    # The author baseline comes from training posts with known engagement (each post once);
    # a training post's own engagement is left out of its baseline. Test engagement is unused.
    known: dict[str, dict[str, float]] = defaultdict(dict)
    for a, b, _ in _pair_posts(data.train):
        for item in (a, b):
            if item.author is not None and item.reactions is not None and item.comments is not None:
                known[item.author][item.text] = item.reactions + item.comments

    def baseline(item: PairPost, *, leave_out: bool) -> float | None:
        if item.author is None:
            return None
        history = [e for text, e in known[item.author].items() if not (leave_out and text == item.text)]
        return _baseline(history)

    train = [
        Pair(_to_post(a, baseline(a, leave_out=True)), _to_post(b, baseline(b, leave_out=True)), won)
        for a, b, won in _pair_posts(data.train)
    ]
    test = [
        Pair(_to_post(a, baseline(a, leave_out=False)), _to_post(b, baseline(b, leave_out=False)), won)
        for a, b, won in _pair_posts(data.test)
    ]
    report = score(train, test, seed=seed, on_stage=on_stage)
    return {
        "source": "pairs",
        "file": path.name,
        "rows_read": len(data.train) + len(data.test),
        "engagement": "as labelled in the file (label 0: post_a drew more)",
        "split": {"rule": "as given in the file (train / test)", "train_rows": len(train), "test_rows": len(test)},
        "seed": seed,
        **report,
    }
