"""The per-account engagement forecast: how much engagement (reactions + comments) a draft is likely
to draw, as a range, from the account's own posts on top of a prior learned from public posts.

Why a Bayesian linear model rather than the pairwise trees of `model.py`: a draft needs a number
with its uncertainty (an 80 % range) and a basis that says how much of it is the account's own
evidence; the trees only order two posts. The features are `features.py`'s (length, hook, question,
hashtags, mentions, emoji, links, media type) plus the slot the post goes out in (local time band,
weekend). The account's recent baseline is an offset, not a coefficient: the model predicts a post's
lift over its author's usual level (log1p scale), which is what can carry from public authors to
this account; as a free coefficient it was learned > 1 on the public data (authors' levels are
confounded with their reach) and blew up forecasts when an account's recent mix shifted.

- **Prior.** Fitted once on the public influencer posts (../shared/data/linkedin-posts, ODbL/DbCL)
  by `bench/fit_engagement_prior.py` and shipped as `engagement_prior.json` in this package (a few
  kilobytes of coefficients, no post text): nothing is downloaded or read outside the package at
  run time. Those posts have no time of day, so the slot coefficients start at 0 and are learned
  from the account alone. Follower counts are left out: an account's own posts all share one.
- **Update.** The account's posts are the data of a conjugate normal model whose prior mean is the
  public fit, each text coefficient's prior worth `PRIOR_POSTS` posts (the level and the slot only
  `WEAK_PRIOR_POSTS`: the public posts say nothing of them); the noise level is the public one
  worth `PRIOR_NOISE_POSTS` posts, then the account's own residuals.
- **Validation.** Time-ordered: the older posts train, the newer ones test (pairwise accuracy beside
  the longer-text rule, MAE, and how often the 80 % range held the real figure).

Unsure (research does not settle it): whether influencer posts transfer to a consultant's account
at all. The prior-only forecast is therefore labelled as such, and its range is wide on purpose.
CPU work is small (a few dozen features) but training is still run off the event loop by the job.
"""

from __future__ import annotations

import json
import math
import statistics
import uuid
from collections.abc import Sequence
from dataclasses import asdict, dataclass, replace
from datetime import datetime, timedelta
from functools import cache
from importlib import resources
from typing import Any, Literal
from zoneinfo import ZoneInfo

import numpy as np
import numpy.typing as npt
from pydantic import BaseModel, Field
from sqlalchemy import func, select
from sqlalchemy.ext.asyncio import AsyncSession

from autopilot.accounts import service as accounts
from autopilot.analytics.evaluate import length_rule
from autopilot.analytics.features import FEATURE_NAMES, Post, post_features
from autopilot.analytics.model import Pair
from autopilot.analytics.models import AnalyticsPost, EngagementModel
from autopilot.kit.db import upsert_insert
from autopilot.kit.inputs import Input
from autopilot.kit.time import as_utc, utcnow
from autopilot.worker import ledger

Vector = npt.NDArray[np.float64]

SLOT_FEATURES = ("slot_early", "slot_midday", "slot_late", "slot_weekend")  # local: <09:00, 09-14, 14:00+
NAMES: tuple[str, ...] = (*FEATURE_NAMES, *SLOT_FEATURES, "intercept")
PRIOR_POSTS = 20.0  # each coefficient's prior counts as this many posts: 20 posts of the account weigh as much as it
WEAK_PRIOR_POSTS = 4.0  # the level and the slot adapt fast: the public posts say nothing of them here
PRIOR_NOISE_POSTS = 10.0
RECENT_POSTS = 20  # the baseline: the mean log1p engagement of this many earlier posts
INTERVAL = 0.80
_Z80 = 1.2815515655446004  # the standard normal's 90th percentile: a central 80 % range
TEST_SHARE = 0.3
MIN_POSTS_TO_VALIDATE = 6  # fewer: no honest split (at least 2 to test, 4 to train)
PRIOR_FILE = "engagement_prior.json"
# The public fit's ridge penalty. On the public posts' newest 30 %, text features barely predict a
# post's lift over its author's baseline: mean absolute error 0.82 (log1p) with a penalty of 1,
# 0.789 with none of the features, 0.789 with 1,000 (bench/fit_engagement_prior.py). So the prior
# is kept close to "no lift" and the account's own posts do the teaching.
PUBLIC_PENALTY = 1000.0


@dataclass(frozen=True)
class AccountPost:
    """One post of the account with known figures, as the model learns from it."""

    text: str
    media_type: str | None
    published_local: datetime | None  # in the account owner's zone
    engagement: float  # reactions + comments


def slot_features(local: datetime | None) -> list[float]:
    """The local time band and weekend flag; all zeros when the time is unknown."""
    if local is None:
        return [0.0] * len(SLOT_FEATURES)
    minutes = local.hour * 60 + local.minute
    return [
        1.0 if minutes < 9 * 60 else 0.0,
        1.0 if 9 * 60 <= minutes < 14 * 60 else 0.0,
        1.0 if minutes >= 14 * 60 else 0.0,
        1.0 if local.weekday() >= 5 else 0.0,
    ]


def row(text: str, media_type: str | None, local: datetime | None) -> list[float]:
    """A post as numbers in the order of NAMES. Followers and the baseline stay unknown here (their
    columns are constant): an account's posts share one follower count, and the baseline is the offset."""
    post = Post(text=text, media_type=media_type)
    return [*post_features(post), *slot_features(local), 1.0]


def baseline_of(engagements: Sequence[float]) -> float | None:
    """The account's usual level: mean log1p(engagement) of its RECENT_POSTS latest posts. The mean of
    logs rather than evaluate.py's median: an account alternating two kinds of post would make a
    median jump from one kind to the other."""
    recent = list(engagements)[-RECENT_POSTS:]
    return statistics.fmean(math.log1p(max(e, 0.0)) for e in recent) if recent else None


@dataclass(frozen=True)
class Fit:
    """A fitted model: standardisation, posterior mean and precision, noise. JSON-serialisable."""

    names: tuple[str, ...]
    center: tuple[float, ...]
    scale: tuple[float, ...]
    weights: tuple[float, ...]
    precision: tuple[tuple[float, ...], ...]  # posterior precision of the standardised weights, per σ²
    noise: float  # residual standard deviation, log1p scale
    noise_weight: float  # how many posts the noise estimate rests on
    account_posts: int  # 0: prior only
    typical: float  # the public posts' mean log1p engagement: the level while the account has no posts

    def as_json(self) -> dict[str, Any]:
        return asdict(self)

    @classmethod
    def from_json(cls, data: dict[str, Any]) -> Fit:
        return cls(
            names=tuple(data["names"]),
            center=tuple(data["center"]),
            scale=tuple(data["scale"]),
            weights=tuple(data["weights"]),
            precision=tuple(tuple(r) for r in data["precision"]),
            noise=float(data["noise"]),
            noise_weight=float(data["noise_weight"]),
            account_posts=int(data["account_posts"]),
            typical=float(data["typical"]),
        )

    def _standard(self, x: Sequence[float]) -> Vector:
        z = (np.asarray(x, dtype=np.float64) - np.asarray(self.center)) / np.asarray(self.scale)
        z[-1] = 1.0  # the intercept stays 1
        standard: Vector = z
        return standard

    def forecast(self, x: Sequence[float]) -> tuple[float, float]:
        """Mean and standard deviation of a post's lift over its author's baseline (log1p scale)."""
        z = self._standard(x)
        mean = float(z @ np.asarray(self.weights))
        spread = float(z @ np.linalg.solve(np.asarray(self.precision), z))
        return mean, self.noise * math.sqrt(1.0 + max(spread, 0.0))


def _prior_precision(size: int) -> Vector:
    # The slot coefficients are not public evidence (those posts have no time of day): as weak as the level's.
    weak = {NAMES.index(n) for n in (*SLOT_FEATURES, "intercept")}
    return np.diag([WEAK_PRIOR_POSTS if i in weak else PRIOR_POSTS for i in range(size)])


def fit_public(rows: Sequence[Sequence[float]], targets: Sequence[float], typical: float) -> Fit:
    """The prior: ridge regression of the lift on public posts (standardised features, PUBLIC_PENALTY)."""
    x = np.asarray(rows, dtype=np.float64)
    y = np.asarray(targets, dtype=np.float64)
    center = x.mean(axis=0)
    scale = x.std(axis=0)
    scale[scale == 0] = 1.0
    center[-1], scale[-1] = 0.0, 1.0
    z = (x - center) / scale
    precision = z.T @ z + PUBLIC_PENALTY * np.eye(x.shape[1])
    weights = np.linalg.solve(precision, z.T @ y)
    residual = y - z @ weights
    noise = float(np.sqrt(np.mean(residual**2)))
    return Fit(
        names=NAMES,
        center=tuple(float(v) for v in center),
        scale=tuple(float(v) for v in scale),
        weights=tuple(float(v) for v in weights),
        precision=tuple(tuple(float(v) for v in r) for r in _prior_precision(x.shape[1])),
        noise=noise,
        noise_weight=PRIOR_NOISE_POSTS,
        account_posts=0,
        typical=typical,
    )


@dataclass(frozen=True)
class Example:
    """A post as the model learns from it: its row, its baseline then, and its lift over it."""

    post: AccountPost
    row: list[float]
    baseline: float
    lift: float


def account_examples(posts: Sequence[AccountPost]) -> list[Example]:
    """Oldest first; each post's baseline from the posts before it only (the very first post has
    none and teaches nothing about lift)."""
    examples: list[Example] = []
    history: list[float] = []
    for post in posts:
        baseline = baseline_of(history)
        if baseline is not None:
            lift = math.log1p(max(post.engagement, 0.0)) - baseline
            examples.append(Example(post, row(post.text, post.media_type, post.published_local), baseline, lift))
        history.append(post.engagement)
    return examples


def _learn(prior: Fit, examples: Sequence[Example]) -> Fit:
    return update(prior, [e.row for e in examples], [e.lift for e in examples])


def update(prior: Fit, rows: Sequence[Sequence[float]], targets: Sequence[float]) -> Fit:
    """The prior updated with the account's posts (conjugate normal; noise re-estimated)."""
    if not rows:
        return prior
    z = np.vstack([prior._standard(r) for r in rows])
    y = np.asarray(targets, dtype=np.float64)
    p0 = _prior_precision(len(prior.names))
    m0 = np.asarray(prior.weights)
    precision = p0 + z.T @ z
    weights = np.linalg.solve(precision, p0 @ m0 + z.T @ y)
    residual = y - z @ weights
    n = len(targets)
    noise = math.sqrt((prior.noise_weight * prior.noise**2 + float(residual @ residual)) / (prior.noise_weight + n))
    return Fit(
        names=prior.names,
        center=prior.center,
        scale=prior.scale,
        weights=tuple(float(v) for v in weights),
        precision=tuple(tuple(float(v) for v in r) for r in precision),
        noise=noise,
        noise_weight=prior.noise_weight + n,
        account_posts=n,
        typical=prior.typical,
    )


@dataclass(frozen=True)
class Forecast:
    """What a draft is likely to draw, in reactions + comments."""

    low: int
    expected: int  # the median of the forecast
    high: int
    interval: float
    chance_above_median: float | None  # None: the account has no posts to compare with
    account_median: float | None
    basis_posts: int


def _normal_cdf(value: float) -> float:
    return 0.5 * (1.0 + math.erf(value / math.sqrt(2.0)))


def forecast(fit: Fit, x: Sequence[float], baseline: float | None, account_median: float | None) -> Forecast:
    """The 80 % range and the chance to beat the account's median engagement."""
    lift, spread = fit.forecast(x)
    mean = (fit.typical if baseline is None else baseline) + lift
    chance = None
    if account_median is not None:
        chance = 1.0 - _normal_cdf((math.log1p(account_median) - mean) / spread)
    return Forecast(
        low=max(0, round(math.expm1(mean - _Z80 * spread))),
        expected=max(0, round(math.expm1(mean))),
        high=max(0, round(math.expm1(mean + _Z80 * spread))),
        interval=INTERVAL,
        chance_above_median=chance,
        account_median=account_median,
        basis_posts=fit.account_posts,
    )


def relative_statement(found: Forecast) -> str:
    """ "likely above your median (72 %)" in the user's words; honest when it cannot say."""
    if found.chance_above_median is None or found.account_median is None:
        return "no posts of yours with figures yet to compare with"
    chance = found.chance_above_median
    median = f"{found.account_median:,.0f}"
    if chance >= 0.6:
        return f"likely above your median of {median} ({chance:.0%} chance)"
    if chance <= 0.4:
        return f"likely below your median of {median} ({1 - chance:.0%} chance)"
    return f"about your median of {median} ({chance:.0%} chance to beat it)"


def basis_statement(posts: int) -> str:
    return "prior only (public posts)" if posts == 0 else f"public prior + {posts} of your posts"


@cache
def shipped_prior() -> Fit:
    """The prior shipped in the package (see bench/fit_engagement_prior.py)."""
    text = resources.files("autopilot.analytics").joinpath(PRIOR_FILE).read_text(encoding="utf-8")
    return Fit.from_json(json.loads(text)["fit"])


# -- validation on the account's later posts ---------------------------------------------------


def _level(fit: Fit, example: Example) -> float:
    """The forecast's log1p(engagement): the post's baseline then, plus its predicted lift."""
    return example.baseline + fit.forecast(example.row)[0]


def _pairwise(examples: Sequence[Example], fit: Fit) -> dict[str, Any]:
    """How often the model and the longer-text rule order two test posts right (ties: half)."""
    levels = [_level(fit, e) for e in examples]
    model = length = 0.0
    pairs = 0
    for i, a in enumerate(examples):
        for j in range(i + 1, len(examples)):
            b = examples[j]
            if a.post.engagement == b.post.engagement:
                continue  # a tie has no winner to predict
            pairs += 1
            a_won = a.post.engagement > b.post.engagement
            model += 0.5 if levels[i] == levels[j] else float((levels[i] > levels[j]) == a_won)
            longer = length_rule(Pair(Post(a.post.text), Post(b.post.text), a_won=a_won))  # 1: A is longer
            length += longer if a_won else 1.0 - longer
    if not pairs:
        return {"pairs": 0, "model": None, "length_baseline": None}
    return {"pairs": pairs, "model": round(model / pairs, 4), "length_baseline": round(length / pairs, 4)}


def validate(prior: Fit, posts: Sequence[AccountPost]) -> dict[str, Any]:
    """Train on the oldest (1 - TEST_SHARE) of *posts* (oldest first), report on the newest. A test
    post's baseline includes the test posts before it, as it would when forecasting one post ahead."""
    examples = account_examples(posts)
    if len(examples) < MIN_POSTS_TO_VALIDATE:
        return {
            "validated": False,
            "reason": f"{len(posts)} posts with text and figures; "
            f"{MIN_POSTS_TO_VALIDATE + 1} are needed to test on later ones",
            "train": len(posts),
            "test": 0,
        }
    n_test = max(2, round(len(examples) * TEST_SHARE))
    learning, testing = examples[:-n_test], examples[-n_test:]
    trained = _learn(prior, learning)
    inside = 0
    errors, prior_errors = [], []
    for example in testing:
        lift, spread = trained.forecast(example.row)
        inside += int(abs(example.lift - lift) <= _Z80 * spread)
        errors.append(abs(example.post.engagement - math.expm1(_level(trained, example))))
        prior_errors.append(abs(example.post.engagement - math.expm1(_level(prior, example))))
    pairwise = _pairwise(testing, trained)
    return {
        "validated": True,
        "split": f"time-ordered: the oldest {len(learning)} posts train, the newest {n_test} test",
        "train": len(learning),
        "test": n_test,
        "test_from": _day(testing[0].post.published_local),  # the first test post's day: all later
        "pairs": pairwise["pairs"],
        "accuracy": {
            "model": pairwise["model"],
            "length_baseline": pairwise["length_baseline"],
            "prior_only": _pairwise(testing, prior)["model"],
        },
        "mae": {"model": round(statistics.mean(errors), 2), "prior_only": round(statistics.mean(prior_errors), 2)},
        "coverage": {"interval": INTERVAL, "inside": round(inside / n_test, 4)},
    }


def _day(moment: datetime | None) -> str | None:
    return moment.date().isoformat() if moment is not None else None


def train(prior: Fit, posts: Sequence[AccountPost]) -> tuple[Fit, dict[str, Any]]:
    """Validate on the later posts, then fit on all of them: the model a draft is scored with."""
    report = validate(prior, posts)
    # Every post counts in the basis: the first one only sets the baseline the others' lifts are over.
    return replace(_learn(prior, account_examples(posts)), account_posts=len(posts)), report


def local_time(moment: datetime | None, zone: str) -> datetime | None:
    return as_utc(moment).astimezone(ZoneInfo(zone)) if moment is not None else None


# -- the account's model in the database -------------------------------------------------------

TRAIN_KIND = "analytics.train_forecast"
RETRAIN_EVERY = 5  # new posts with figures before the model is trained again
RETRAIN_DELAY = timedelta(minutes=10)  # figures arrive in bursts (a sync round, an import): wait for the rest


def _with_figures(org_id: uuid.UUID) -> Any:
    """The account's posts the model can learn from: text, time and both counts known."""
    return (
        AnalyticsPost.org_id == org_id,
        AnalyticsPost.text.is_not(None),
        AnalyticsPost.published_at.is_not(None),
        AnalyticsPost.reactions.is_not(None),
        AnalyticsPost.comments.is_not(None),
    )


def _engagement(reactions: int | None, comments: int | None) -> float:
    # Both are known (the query asks for it); LinkedIn's net counts can be negative: clamp.
    return float(max(reactions or 0, 0) + max(comments or 0, 0))


async def posts_with_figures(session: AsyncSession, org_id: uuid.UUID) -> int:
    return int(await session.scalar(select(func.count()).where(*_with_figures(org_id))) or 0)


async def account_posts(session: AsyncSession, org_id: uuid.UUID, zone: str) -> list[AccountPost]:
    """The account's posts with figures, oldest first, their time in *zone*."""
    rows = await session.execute(
        select(
            AnalyticsPost.text,
            AnalyticsPost.media_type,
            AnalyticsPost.published_at,
            AnalyticsPost.reactions,
            AnalyticsPost.comments,
        )
        .where(*_with_figures(org_id))
        .order_by(AnalyticsPost.published_at, AnalyticsPost.id)
    )
    return [AccountPost(text or "", media, local_time(at, zone), _engagement(r, c)) for text, media, at, r, c in rows]


async def account_zone(session: AsyncSession, org_id: uuid.UUID) -> str:
    """The zone the account's posting times are read in: its first owner's."""
    owners = await accounts.member_contacts(session, org_id, roles=accounts.OWNER_ROLES)
    return owners[0].timezone if owners else "UTC"


async def stored_model(session: AsyncSession, org_id: uuid.UUID) -> EngagementModel | None:
    found: EngagementModel | None = await session.scalar(
        select(EngagementModel).where(EngagementModel.org_id == org_id)
    )
    return found


async def store_model(
    session: AsyncSession, org_id: uuid.UUID, fit: Fit, report: dict[str, Any], posts_seen: int
) -> None:
    """Keep the new model (one row per organization; a concurrent training's row is replaced)."""
    now = utcnow()
    values = {
        "fit": fit.as_json(),
        "report": report,
        "basis_posts": fit.account_posts,
        "posts_seen": posts_seen,
        "trained_at": now,
        "updated_at": now,
    }
    insert = upsert_insert(session, EngagementModel).values(id=uuid.uuid4(), org_id=org_id, created_at=now, **values)
    await session.execute(insert.on_conflict_do_update(index_elements=["org_id"], set_=values))


async def plan_training(session: AsyncSession, org_id: uuid.UUID, *, asked: bool) -> int:
    """Enqueue a training of the account's model in the caller's transaction: at once when a person
    asks, after RETRAIN_DELAY when figures arrived. Asked twice on the same posts: one job."""
    count = await posts_with_figures(session, org_id)
    delay = timedelta(0) if asked else RETRAIN_DELAY
    return await ledger.enqueue(
        session,
        kind=TRAIN_KIND,
        payload={},
        org_id=org_id,
        run_at=utcnow() + delay,
        dedupe_key=f"{'asked' if asked else 'auto'}:{count}",
    )


async def retrain_if_due(session: AsyncSession, org_id: uuid.UUID) -> int | None:
    """After new figures: a training once RETRAIN_EVERY more posts have figures than the model saw."""
    count = await posts_with_figures(session, org_id)
    model = await stored_model(session, org_id)
    seen = model.posts_seen if model is not None else 0
    if count - seen < RETRAIN_EVERY:
        return None
    return await ledger.enqueue(
        session,
        kind=TRAIN_KIND,
        payload={},
        org_id=org_id,
        run_at=utcnow() + RETRAIN_DELAY,
        # One job per RETRAIN_EVERY posts, however often figures arrive meanwhile (the debounce).
        dedupe_key=f"auto:{count // RETRAIN_EVERY}",
    )


@dataclass(frozen=True)
class Prediction:
    forecast: Forecast
    statement: str
    basis: str
    trained_at: datetime | None


async def predict(
    session: AsyncSession,
    org_id: uuid.UUID,
    zone: str,
    text: str,
    media_type: str | None,
    slot: datetime | None,
) -> Prediction:
    """A draft's forecast from the account's stored model (or the prior alone before any training)."""
    model = await stored_model(session, org_id)
    fit = Fit.from_json(model.fit) if model is not None else shipped_prior()
    recent = await session.execute(
        select(AnalyticsPost.reactions, AnalyticsPost.comments)
        .where(*_with_figures(org_id))
        .order_by(AnalyticsPost.published_at.desc())
        .limit(RECENT_POSTS)
    )
    engagements = [_engagement(r, c) for r, c in recent][::-1]
    median = statistics.median(engagements) if engagements else None
    local = None
    if slot is not None:  # a time without an offset is the user's own wall-clock time
        local = slot.replace(tzinfo=ZoneInfo(zone)) if slot.tzinfo is None else slot.astimezone(ZoneInfo(zone))
    found = forecast(fit, row(text, media_type, local), baseline_of(engagements), median)
    return Prediction(
        forecast=found,
        statement=relative_statement(found),
        basis=basis_statement(fit.account_posts),
        trained_at=as_utc(model.trained_at) if model is not None else None,
    )


# -- API shapes ----------------------------------------------------------------------------------


class PredictIn(Input):
    """A draft to forecast."""

    text: str = Field(min_length=1, max_length=20_000)
    media_type: Literal["text", "image", "video", "document", "article", "poll"] | None = None
    slot: datetime | None = Field(
        default=None,
        description="When it would go out (ISO 8601; without an offset, in your time zone); its time band counts",
    )


class PredictionOut(BaseModel):
    low: int = Field(description="Reactions + comments: lower end of the range")
    expected: int = Field(description="The middle of the forecast")
    high: int
    interval: float = Field(description="How often the real figure should fall in the range (0.8)")
    statement: str = Field(description='Compared with your median, e.g. "likely above your median of 40 (70 % chance)"')
    chance_above_median: float | None
    your_median: float | None = Field(description="Median reactions + comments of your latest posts")
    basis: str = Field(description='"prior only (public posts)" or "public prior + N of your posts"')
    basis_posts: int
    trained_at: datetime | None


class ModelReportOut(BaseModel):
    basis: str
    basis_posts: int
    posts_with_figures: int = Field(description="Your posts with text, time and figures now")
    trained_at: datetime | None
    report: dict[str, Any] = Field(description="Validation on your later posts (time-ordered split)")
    prior: dict[str, Any] = Field(description="Where the prior comes from, and its own time-ordered check")


class TrainingOut(BaseModel):
    job_id: int


def prediction_out(found: Prediction) -> PredictionOut:
    f = found.forecast
    return PredictionOut(
        low=f.low,
        expected=f.expected,
        high=f.high,
        interval=f.interval,
        statement=found.statement,
        chance_above_median=f.chance_above_median,
        your_median=f.account_median,
        basis=found.basis,
        basis_posts=f.basis_posts,
        trained_at=found.trained_at,
    )


@cache
def prior_about() -> dict[str, Any]:
    text = resources.files("autopilot.analytics").joinpath(PRIOR_FILE).read_text(encoding="utf-8")
    document = json.loads(text)
    return {"about": document["about"], "source": document["source"], "check": document["check"]}


async def model_report(session: AsyncSession, org_id: uuid.UUID) -> ModelReportOut:
    """The stored model's basis and validation report, or what is missing for one."""
    model = await stored_model(session, org_id)
    count = await posts_with_figures(session, org_id)
    if model is None:
        report: dict[str, Any] = {"validated": False, "reason": "not trained yet: the forecast uses the prior only"}
        return ModelReportOut(
            basis=basis_statement(0),
            basis_posts=0,
            posts_with_figures=count,
            trained_at=None,
            report=report,
            prior=prior_about(),
        )
    return ModelReportOut(
        basis=basis_statement(model.basis_posts),
        basis_posts=model.basis_posts,
        posts_with_figures=count,
        trained_at=as_utc(model.trained_at),
        report=model.report,
        prior=prior_about(),
    )
