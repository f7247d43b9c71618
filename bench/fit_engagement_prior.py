"""Fit the engagement forecast's prior on public posts and write it into the package.

    python -m bench.fit_engagement_prior [--posts ../shared/data/linkedin-posts/annotated_data.csv]
                                         [--out src/autopilot/analytics/engagement_prior.json]

The data (public LinkedIn posts by well-known profiles, MIT repository / ODbL-DbCL contents, see the
data folder's LICENSE.md) stays outside the package: only the fitted coefficients, the provenance and
a time-ordered check are written (no post text). Prints one JSON line: the check, where the newest
30 % of posts were held out of a fit on the older 70 %.
"""

from __future__ import annotations

import argparse
import json
import math
import statistics
from collections import defaultdict
from pathlib import Path

from autopilot.analytics import prediction
from autopilot.analytics.sources import PostRow, read_posts_csv

DEFAULT_POSTS = Path(__file__).resolve().parents[2] / "shared" / "data" / "linkedin-posts" / "annotated_data.csv"
DEFAULT_OUT = Path(__file__).resolve().parents[1] / "src" / "autopilot" / "analytics" / prediction.PRIOR_FILE


def rows_of(posts: list[PostRow]) -> tuple[list[list[float]], list[float]]:
    """Oldest first: each post whose author has earlier posts (authors by follower count), as its
    row and its lift over that author's baseline then."""
    history: dict[str, list[float]] = defaultdict(list)
    rows, lifts = [], []
    for post in posts:
        baseline = prediction.baseline_of(history[post.author]) if post.author else None
        if baseline is not None:
            rows.append(prediction.row(post.text, post.media_type, None))
            lifts.append(math.log1p(post.engagement) - baseline)
        if post.author:
            history[post.author].append(post.engagement)
    return rows, lifts


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.split("\n")[0])
    parser.add_argument("--posts", type=Path, default=DEFAULT_POSTS)
    parser.add_argument("--out", type=Path, default=DEFAULT_OUT)
    args = parser.parse_args()
    data = read_posts_csv(args.posts)
    posts = sorted(data.rows, key=lambda r: r.order_key)
    rows, targets = rows_of(posts)
    typical = statistics.fmean(math.log1p(p.engagement) for p in posts)
    cut = round(len(rows) * 0.7)
    held_out = prediction.fit_public(rows[:cut], targets[:cut], typical)
    means = [held_out.forecast(r)[0] for r in rows[cut:]]
    errors = [abs(m - y) for m, y in zip(means, targets[cut:], strict=True)]
    check = {
        "train": cut,
        "test": len(rows) - cut,
        "mae_log1p": round(sum(errors) / len(errors), 4),
        "mae_log1p_no_lift": round(sum(abs(y) for y in targets[cut:]) / len(errors), 4),  # baseline alone
        "noise_log1p": round(held_out.noise, 4),
    }
    fit = prediction.fit_public(rows, targets, typical)
    document = {
        "about": "Prior of the engagement forecast (autopilot.analytics.prediction), fitted by "
        "bench/fit_engagement_prior.py on public LinkedIn posts; coefficients only, no post text.",
        "source": {
            "data": "zhengyi-ds/linkedin_posts_corpus data/annotated_data.csv at b8db106b (MIT); posts from the "
            "Kaggle dataset 'LinkedIn Influencers' Data' (ODbL 1.0 / DbCL 1.0)",
            "rows": len(posts),
            "order": data.order,
            "engagement": "reactions + comments",
            "lifts": len(rows),
        },
        "check": check,
        "fit": fit.as_json(),
    }
    args.out.write_text(json.dumps(document, indent=1) + "\n", encoding="utf-8")
    print(json.dumps({"out": str(args.out), "rows": len(posts), **check}))


if __name__ == "__main__":
    main()
