"""Learned best time: Thompson sampling over an account's candidate posting slots.

A slot is a weekday (0 = Monday, as in scheduling's weekly slots) and a local wall time. The reward
of a post is its engagement rate (engagements / impressions). Each slot's rate has a Beta posterior:

- **Scaled-down trials.** A post with 2,000 impressions is not 2,000 independent trials: two posts
  in the same slot differ far more than binomial noise says (the text, the topic, the news of the
  day). Counted raw, a single post would make its slot look certain and the learner would stop
  exploring after one lucky post. So each post counts as at most `trials_per_post` effective trials
  (1,000 by default), keeping its observed rate: for a rate near 3 %, one post then leaves a standard
  deviation of about a fifth of the rate, whatever its reach. Fewer impressions count as they are.
  In the simulation (bench.best_time, seed 7, 500 accounts) caps of 300, 600 and 1,000 were tried
  with a post-to-post content spread of 0, 25 % and 50 %: the tighter caps explored more than 24
  posts can afford and gave up engagement at every spread, so 1,000 it is.
- **The prior follows the account, centred on the proven rhythm.** Accounts differ by a factor of
  three or more in their usual rate, so a fixed prior mean would be pessimistic for some accounts
  (they never leave the slots they have tried) and optimistic for others. Every slot's prior mean is
  the account's own pooled rate so far (shrunk towards `default_rate` when it has few posts), worth
  `pseudo_trials` trials (about one post); the favoured slots (Tue/Thu 06:30 unless configured)
  start `advantage` above it (+40 %), so a new account's first post goes to a 06:30 slot about 70 %
  of the time (a third by chance with six candidates), and the account leaves the rhythm on evidence.
  In the simulation (bench.best_time) +25 % or +40 % changed the regret by less than its noise.

The default candidates are Tue/Thu at 06:30, 08:30 and 12:00: two posts a week give 24 posts in
12 weeks, too few to rank a much wider grid (any grid can be passed in).

Everything here is pure and deterministic given a `random.Random`; nothing touches the database.
"""

from __future__ import annotations

import math
import random
from collections.abc import Iterable, Mapping, Sequence
from dataclasses import dataclass, field, replace

# The default weekly rhythm of the scheduling domain (scheduling.models.DEFAULT_SLOTS), repeated here
# so that this learner stays free of any database model.
PROVEN_WEEKDAYS = (1, 3)  # Tuesday, Thursday
PROVEN_TIME = "06:30"
WEEKDAY_NAMES = ("Mon", "Tue", "Wed", "Thu", "Fri", "Sat", "Sun")


@dataclass(frozen=True, order=True)
class Slot:
    """A weekday (0 = Monday) and a local wall time "HH:MM"."""

    weekday: int
    at: str

    def __post_init__(self) -> None:
        if not 0 <= self.weekday <= 6:
            raise ValueError(f"weekday {self.weekday} is not 0 (Monday) to 6 (Sunday)")
        hours, _, minutes = self.at.partition(":")
        if not (len(self.at) == 5 and hours.isdigit() and minutes.isdigit() and int(hours) < 24 and int(minutes) < 60):
            raise ValueError(f"{self.at!r} is not a time of day as HH:MM")

    def __str__(self) -> str:
        return f"{WEEKDAY_NAMES[self.weekday]} {self.at}"


PROVEN_SLOTS = tuple(Slot(day, PROVEN_TIME) for day in PROVEN_WEEKDAYS)


def candidate_grid(
    weekdays: Iterable[int] = PROVEN_WEEKDAYS, times: Iterable[str] = ("06:30", "08:30", "12:00")
) -> tuple[Slot, ...]:
    """Every weekday x time combination, the proven slots included whatever the grid says."""
    grid = {Slot(day, at) for day in weekdays for at in times} | set(PROVEN_SLOTS)
    return tuple(sorted(grid))


DEFAULT_CANDIDATES = candidate_grid()


@dataclass(frozen=True)
class Prior:
    """How the learner starts and how much one post weighs (see the module docstring)."""

    default_rate: float = 0.03  # a typical engagement rate, until the account has its own
    default_weight: float = 300.0  # trials behind default_rate in the pooled rate: about one post
    pseudo_trials: float = 300.0  # each slot's prior is worth about one post
    trials_per_post: float = 1000.0
    favoured: tuple[Slot, ...] = PROVEN_SLOTS
    advantage: float = 0.4

    def __post_init__(self) -> None:
        if not 0 < self.default_rate < 1:
            raise ValueError("default_rate must be between 0 and 1")
        if min(self.default_weight, self.pseudo_trials, self.trials_per_post) <= 0 or self.advantage < 0:
            raise ValueError("weights must be positive and the advantage not negative")


DEFAULT_PRIOR = Prior()


@dataclass(frozen=True)
class Observation:
    """One published post: its slot and what it drew."""

    slot: Slot
    impressions: int
    engagements: int

    def __post_init__(self) -> None:
        if self.impressions < 0 or self.engagements < 0:
            raise ValueError("impressions and engagements cannot be negative")


@dataclass(frozen=True)
class Tally:
    """What one slot has gathered: raw counts for people, effective trials for the posterior."""

    posts: int = 0
    impressions: int = 0
    engagements: int = 0
    trials: float = 0.0
    successes: float = 0.0


@dataclass(frozen=True)
class Beta:
    """A Beta(alpha, beta) posterior on a slot's engagement rate."""

    alpha: float
    beta: float

    @property
    def mean(self) -> float:
        return self.alpha / (self.alpha + self.beta)

    def sample(self, rng: random.Random) -> float:
        return rng.betavariate(self.alpha, self.beta)


@dataclass
class Learner:
    """An account's running tallies per candidate slot; `update` adds a post, `posteriors` reads them."""

    candidates: Sequence[Slot] = DEFAULT_CANDIDATES
    prior: Prior = DEFAULT_PRIOR
    tallies: dict[Slot, Tally] = field(default_factory=dict)

    def __post_init__(self) -> None:
        if not self.candidates:
            raise ValueError("a learner needs at least one candidate slot")
        for slot in self.candidates:
            self.tallies.setdefault(slot, Tally())

    def update(self, observation: Observation) -> None:
        """Count one post in its slot (a slot outside the candidates joins them)."""
        self.tallies[observation.slot] = update(self.tallies.get(observation.slot, Tally()), observation, self.prior)

    def posteriors(self) -> dict[Slot, Beta]:
        return posteriors(self.tallies, self.prior)


def update(tally: Tally, observation: Observation, prior: Prior = DEFAULT_PRIOR) -> Tally:
    """The slot's tally with one more post, its impressions scaled down to effective trials."""
    impressions = max(observation.impressions, 0)
    engagements = min(observation.engagements, impressions)  # a reaction count above reach is a data error
    trials = min(float(impressions), prior.trials_per_post)
    successes = trials * engagements / impressions if impressions else 0.0
    return replace(
        tally,
        posts=tally.posts + 1,
        impressions=tally.impressions + impressions,
        engagements=tally.engagements + engagements,
        trials=tally.trials + trials,
        successes=tally.successes + successes,
    )


def tally(
    observations: Iterable[Observation], candidates: Iterable[Slot], prior: Prior = DEFAULT_PRIOR
) -> dict[Slot, Tally]:
    """Tallies of every candidate slot (and of any other slot that has posts) from a post history."""
    out = {slot: Tally() for slot in candidates}
    for observation in observations:
        out[observation.slot] = update(out.get(observation.slot, Tally()), observation, prior)
    return out


def pooled_rate(tallies: Mapping[Slot, Tally], prior: Prior = DEFAULT_PRIOR) -> float:
    """The account's own usual rate, shrunk towards the default while it has little evidence."""
    trials = sum(t.trials for t in tallies.values())
    successes = sum(t.successes for t in tallies.values())
    return (successes + prior.default_rate * prior.default_weight) / (trials + prior.default_weight)


def posteriors(tallies: Mapping[Slot, Tally], prior: Prior = DEFAULT_PRIOR) -> dict[Slot, Beta]:
    """Each slot's Beta posterior: the account-centred prior plus the slot's effective trials."""
    base = pooled_rate(tallies, prior)
    favoured = set(prior.favoured)
    out: dict[Slot, Beta] = {}
    for slot, t in tallies.items():
        mean = min(base * (1 + prior.advantage), 0.99) if slot in favoured else base
        alpha = mean * prior.pseudo_trials + t.successes
        beta = (1 - mean) * prior.pseudo_trials + (t.trials - t.successes)
        out[slot] = Beta(alpha, beta)
    return out


def choose(posteriors: Mapping[Slot, Beta], rng: random.Random, exclude: Iterable[Slot] = ()) -> Slot:
    """Thompson sampling: the slot whose sampled rate is highest (ties: the earliest slot)."""
    taken = set(exclude)
    best: Slot | None = None
    best_draw = -1.0
    for slot in sorted(posteriors):
        if slot in taken:
            continue
        draw = posteriors[slot].sample(rng)
        if draw > best_draw:
            best, best_draw = slot, draw
    if best is None:
        raise ValueError("no candidate slot is left to choose from")
    return best


def choose_week(posteriors: Mapping[Slot, Beta], rng: random.Random, posts: int) -> list[Slot]:
    """The slots of one week's posts: one Thompson draw each, a slot used at most once a week."""
    chosen: list[Slot] = []
    for _ in range(min(posts, len(posteriors))):
        chosen.append(choose(posteriors, rng, exclude=chosen))
    return chosen


@dataclass(frozen=True)
class SlotEvidence:
    """What a suggestion rests on for one slot, as shown to the user."""

    slot: Slot
    posts: int
    impressions: int
    engagements: int
    observed_rate: float | None  # engagements / impressions over its posts; None without posts
    posterior_mean: float
    interval: tuple[float, float]  # the central 90 % credible interval of its rate
    probability_best: float


@dataclass(frozen=True)
class Suggestion:
    """The slot most likely to be the best, how likely, and the evidence per slot (best first)."""

    slot: Slot
    probability_best: float
    evidence: tuple[SlotEvidence, ...]


def suggest(
    observations: Iterable[Observation],
    candidates: Iterable[Slot] = DEFAULT_CANDIDATES,
    prior: Prior = DEFAULT_PRIOR,
    *,
    draws: int = 1000,
    seed: int = 0,
    min_posts: int = 1,
) -> Suggestion:
    """The slot with the highest posterior probability of being the best, with each slot's evidence.

    Probabilities and intervals come from `draws` joint samples of the posteriors with a fixed seed,
    so the same history always gives the same suggestion. Only a slot with at least `min_posts`
    posts is suggested (when any has): an untried slot can win draws on its prior alone, and a
    suggestion shown to a person must rest on their own posts. Without posts, the prior decides.
    """
    tallies = tally(observations, candidates, prior)
    if not tallies:
        raise ValueError("a suggestion needs at least one candidate slot")
    post = posteriors(tallies, prior)
    slots = sorted(post)
    betas = [(post[slot].alpha, post[slot].beta) for slot in slots]
    rng = random.Random(seed)
    total = max(draws, 1)
    samples: list[list[float]] = [[] for _ in slots]
    wins = [0] * len(slots)
    for _ in range(total):
        best, best_draw = 0, -1.0
        for i, (alpha, beta) in enumerate(betas):
            draw = rng.betavariate(alpha, beta)
            samples[i].append(draw)
            if draw > best_draw:
                best, best_draw = i, draw
        wins[best] += 1
    evidence = [
        SlotEvidence(
            slot=slot,
            posts=tallies[slot].posts,
            impressions=tallies[slot].impressions,
            engagements=tallies[slot].engagements,
            observed_rate=tallies[slot].engagements / tallies[slot].impressions if tallies[slot].impressions else None,
            posterior_mean=post[slot].mean,
            interval=_interval(samples[i], 0.90),
            probability_best=wins[i] / total,
        )
        for i, slot in enumerate(slots)
    ]
    # Best first; equal probabilities fall back to the posterior mean, then the slot order.
    evidence.sort(key=lambda e: (-e.probability_best, -e.posterior_mean, e.slot))
    top = next((e for e in evidence if e.posts >= min_posts), evidence[0])
    return Suggestion(slot=top.slot, probability_best=top.probability_best, evidence=tuple(evidence))


def _interval(draws: list[float], level: float) -> tuple[float, float]:
    ordered = sorted(draws)
    tail = (1 - level) / 2
    low = ordered[min(len(ordered) - 1, math.floor(tail * len(ordered)))]
    high = ordered[min(len(ordered) - 1, math.ceil((1 - tail) * len(ordered)) - 1)]
    return low, high
