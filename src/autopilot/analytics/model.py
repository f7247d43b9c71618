"""The engagement model: which of two posts draws more engagement (reactions + comments).

Gradient-boosted trees on the difference of the two posts' features. Comparing posts in pairs
cancels what both share (the same author's audience, the same week), and an ordering is what a
user asks of it: which of my drafts is likely to do better. CPU work: call it from a CLI, a job
or a thread, never on the event loop."""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass

import numpy as np
import numpy.typing as npt

from autopilot.analytics.features import Post, post_features

Matrix = npt.NDArray[np.float64]


@dataclass(frozen=True)
class Pair:
    """Two posts and which one drew more engagement."""

    a: Post
    b: Post
    a_won: bool

    @property
    def same_author(self) -> bool:
        return self.a.author is not None and self.a.author == self.b.author


def _differences(pairs: Sequence[Pair]) -> Matrix:
    rows = [np.subtract(post_features(p.a), post_features(p.b)) for p in pairs]
    return np.asarray(rows, dtype=np.float64)


class EngagementModel:
    """Learns from pairs whose winner is known; predicts the chance that A beats B."""

    def __init__(self, seed: int = 0) -> None:
        # Imported here: loading scikit-learn takes 1-2 s, which a command refusing a bad file
        # (or any module that only needs Pair) should not pay.
        from sklearn.ensemble import HistGradientBoostingClassifier

        self._classifier = HistGradientBoostingClassifier(
            max_iter=200,
            learning_rate=0.05,
            max_leaf_nodes=15,
            l2_regularization=1.0,
            early_stopping=False,  # a fixed number of rounds: the same data and seed give the same model
            random_state=seed,
        )
        self._fitted = False

    def fit(self, pairs: Sequence[Pair]) -> EngagementModel:
        """Train on *pairs* (each also seen swapped, so the model cannot prefer the side A)."""
        if not pairs:
            raise ValueError("no pairs to train on")
        diffs = _differences(pairs)
        won = np.asarray([p.a_won for p in pairs], dtype=np.int64)
        self._classifier.fit(np.vstack([diffs, -diffs]), np.concatenate([won, 1 - won]))
        self._fitted = True
        return self

    def chance_a_wins(self, pairs: Sequence[Pair]) -> list[float]:
        """P(A draws more engagement than B) for each pair, symmetric: (A, B) and (B, A) sum to 1."""
        if not self._fitted:
            raise RuntimeError("the model has not been trained")
        if not pairs:
            return []
        diffs = _differences(pairs)
        forward = self._classifier.predict_proba(diffs)[:, 1]
        swapped = self._classifier.predict_proba(-diffs)[:, 1]
        return [float(x) for x in (forward + 1.0 - swapped) / 2.0]
