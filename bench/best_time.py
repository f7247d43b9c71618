"""Learned best time, simulated: accounts with known per-slot engagement rates, each posting
--posts-per-week times a week for --weeks weeks, with the slots chosen by Thompson sampling
(autopilot.analytics.besttime) and, in the same run on the same accounts, by its peers.

    python -m bench.best_time [--accounts 1000 --weeks 12 --posts-per-week 2 --seed 1]
                              [--weekdays 1,3 --times 06:30,08:30,12:00 --min-gap 0.2 --max-gap 0.5 --content-noise 0]

Policies: thompson (the product), always-0630 (Tue/Thu 06:30, the default rhythm), uniform (random
distinct slots each week), epsilon-greedy (each slot once, then the best observed rate with 10 %
random picks), oracle (the truly best slots). Figures:
- found_best: share of accounts whose suggestion (besttime.suggest) after the last week is the true
  best slot; last_week_has_best: share of accounts that posted in the true best slot in the last week.
- regret, in expected engagements over all the weeks (true rate x the post's impressions, so the
  content noise shared by all policies cancels out): against the oracle (mean, p90) and against
  always-0630 (mean, p90; negative means more engagement than always posting at 06:30).
Prints one JSON line; progress on stderr.
"""

from __future__ import annotations

import argparse
import json
import math
import os
import platform
import random
import time
from collections.abc import Callable, Sequence
from dataclasses import dataclass
from typing import Any

from autopilot.analytics.besttime import (
    DEFAULT_PRIOR,
    PROVEN_SLOTS,
    Learner,
    Observation,
    Prior,
    Slot,
    candidate_grid,
    choose_week,
    suggest,
)
from autopilot.worker.health import percentile
from bench._support.load import parse_list, ratio, say

POLICIES = ("thompson", "always-0630", "uniform", "epsilon-greedy", "oracle")
EPSILON = 0.1
REACH_SIGMA = 0.35  # post-to-post spread of impressions around the account's usual reach (log scale)
SUGGEST_DRAWS = 300  # posterior draws per suggestion: enough to rank the slots, cheap for 1,000 accounts


@dataclass(frozen=True)
class Account:
    """One simulated account: its true rate per slot and, per post, the impressions and the content
    quality it will get whatever the slot (the same for every policy, so they are compared fairly)."""

    rates: dict[Slot, float]
    impressions: list[list[int]]  # [week][post]
    quality: list[list[float]]

    @property
    def best(self) -> Slot:
        return max(sorted(self.rates), key=lambda s: self.rates[s])


def draw_account(
    rng: random.Random,
    candidates: Sequence[Slot],
    weeks: int,
    per_week: int,
    gaps: tuple[float, float],
    content_noise: float = 0.0,
) -> Account:
    """True rates drawn so that the best slot is a proven 06:30 slot for a third of the accounts and
    any other candidate for the rest (the default rhythm is good for many accounts, not for all):
    the account's usual rate is 1.5-5 %, the other slots get 50-100 % of it, and the best slot beats
    the runner-up by `gaps` (20-50 % by default: a difference worth moving a post for). Impressions:
    an account reach of 300-3,000 (log-uniform), each post ±35 % around it; engagement ~ binomial.
    With `content_noise` sigma > 0, each post's rate is also multiplied by a lognormal of mean 1 and
    log-spread sigma: the text's own effect, which real accounts have and the binomial alone ignores."""
    base = rng.uniform(0.015, 0.05)
    proven = [s for s in candidates if s in PROVEN_SLOTS]
    others = [s for s in candidates if s not in PROVEN_SLOTS]
    pool = proven if proven and (not others or rng.random() < 1 / 3) else others
    best = rng.choice(pool)
    multipliers = {s: rng.uniform(0.5, 1.0) for s in candidates if s != best}
    runner_up = max(multipliers.values(), default=1.0)
    multipliers[best] = runner_up * (1 + rng.uniform(*gaps))
    reach = math.exp(rng.uniform(math.log(300), math.log(3000)))
    impressions = [
        [max(50, round(reach * rng.lognormvariate(0, REACH_SIGMA))) for _ in range(per_week)] for _ in range(weeks)
    ]
    quality = [
        [rng.lognormvariate(-(content_noise**2) / 2, content_noise) for _ in range(per_week)] for _ in range(weeks)
    ]
    return Account({s: base * m for s, m in multipliers.items()}, impressions, quality)


def binomial(rng: random.Random, n: int, p: float) -> int:
    """Binomial(n, p): exact inversion while n·p is small, the normal approximation above (the
    standard library has no binomial sampler before Python 3.12)."""
    p = min(max(p, 0.0), 1.0)
    if p == 1.0:
        return n
    if n * p >= 25:
        return min(n, max(0, round(rng.gauss(n * p, math.sqrt(n * p * (1 - p))))))
    u = rng.random()
    q = 1 - p
    pmf = q**n
    cumulative, k = pmf, 0
    while u > cumulative and k < n:
        pmf *= (n - k) / (k + 1) * p / q
        k += 1
        cumulative += pmf
    return k


Chooser = Callable[[list[Observation], random.Random, int], list[Slot]]


def thompson(candidates: Sequence[Slot], prior: Prior = DEFAULT_PRIOR) -> Chooser:
    def choose(history: list[Observation], rng: random.Random, posts: int) -> list[Slot]:
        learner = Learner(candidates, prior)
        for observation in history:
            learner.update(observation)
        return choose_week(learner.posteriors(), rng, posts)

    return choose


def always_0630(candidates: Sequence[Slot]) -> Chooser:
    order = [s for s in candidates if s in PROVEN_SLOTS] + [s for s in candidates if s not in PROVEN_SLOTS]
    return lambda _history, _rng, posts: order[:posts]


def uniform(candidates: Sequence[Slot]) -> Chooser:
    return lambda _history, rng, posts: rng.sample(list(candidates), min(posts, len(candidates)))


def epsilon_greedy(candidates: Sequence[Slot]) -> Chooser:
    def choose(history: list[Observation], rng: random.Random, posts: int) -> list[Slot]:
        shown = dict.fromkeys(candidates, 0)
        engaged = dict.fromkeys(candidates, 0)
        for o in history:
            shown[o.slot] += o.impressions
            engaged[o.slot] += o.engagements
        chosen: list[Slot] = []
        for _ in range(min(posts, len(candidates))):
            left = [s for s in candidates if s not in chosen]
            untried = [s for s in left if not shown[s]]
            if untried:
                chosen.append(rng.choice(untried))
            elif rng.random() < EPSILON:
                chosen.append(rng.choice(left))
            else:
                chosen.append(max(left, key=lambda s: engaged[s] / shown[s]))
        return chosen

    return choose


def oracle(account: Account) -> Chooser:
    order = sorted(account.rates, key=lambda s: (-account.rates[s], s))
    return lambda _history, _rng, posts: order[:posts]


@dataclass
class Outcome:
    expected: float  # expected engagements over all the posts
    history: list[Observation]
    last_week: list[Slot]


def play(account: Account, chooser: Chooser, rng: random.Random) -> Outcome:
    history: list[Observation] = []
    expected = 0.0
    slots: list[Slot] = []
    for impressions, quality in zip(account.impressions, account.quality, strict=True):
        slots = chooser(history, rng, len(impressions))
        for slot, shown, q in zip(slots, impressions, quality, strict=False):
            rate = account.rates[slot]
            expected += rate * shown
            history.append(Observation(slot, shown, binomial(rng, shown, rate * q)))
    return Outcome(expected, history, slots)


def simulate(
    accounts: int,
    weeks: int,
    posts_per_week: int,
    seed: int,
    candidates: Sequence[Slot],
    gaps: tuple[float, float] = (0.2, 0.5),
    policies: Sequence[str] = POLICIES,
    prior: Prior = DEFAULT_PRIOR,
    content_noise: float = 0.0,
    progress: Callable[[int], None] | None = None,
) -> dict[str, Any]:
    """The policies on the same accounts; the figures of the module docstring, per policy. The
    oracle and always-0630 are always played: the regrets are measured against them."""
    played = [p for p in POLICIES if p in {*policies, "oracle", "always-0630"}]
    suggested = {p for p in policies if p != "oracle"}  # an oracle needs no suggestion
    makers: dict[str, Callable[[Account], Chooser]] = {
        "thompson": lambda _a: thompson(candidates, prior),
        "always-0630": lambda _a: always_0630(candidates),
        "uniform": lambda _a: uniform(candidates),
        "epsilon-greedy": lambda _a: epsilon_greedy(candidates),
        "oracle": oracle,
    }
    found = dict.fromkeys(played, 0)
    in_best = dict.fromkeys(played, 0)
    regret: dict[str, list[float]] = {p: [] for p in played}
    vs_0630: dict[str, list[float]] = {p: [] for p in played}
    oracle_total = 0.0
    for i in range(accounts):
        world = random.Random(f"{seed}:{i}:world")
        account = draw_account(world, candidates, weeks, posts_per_week, gaps, content_noise)
        outcomes = {p: play(account, makers[p](account), random.Random(f"{seed}:{i}:{p}")) for p in played}
        best = account.best
        oracle_total += outcomes["oracle"].expected
        for p, outcome in outcomes.items():
            regret[p].append(outcomes["oracle"].expected - outcome.expected)
            vs_0630[p].append(outcomes["always-0630"].expected - outcome.expected)
            in_best[p] += best in outcome.last_week
            if p in suggested and suggest(outcome.history, candidates, prior, draws=SUGGEST_DRAWS, seed=i).slot == best:
                found[p] += 1
        if progress:
            progress(i + 1)

    def r(value: float | None, digits: int = 3) -> float | None:
        return None if value is None else round(value, digits)

    return {
        p: {
            "found_best": r(found[p] / accounts) if p in suggested else None,
            "last_week_has_best": r(in_best[p] / accounts),
            "regret_vs_oracle_mean": r(sum(regret[p]) / accounts, 2),
            "regret_vs_oracle_p90": r(percentile(regret[p], 90), 2),
            "regret_vs_oracle_share": r(sum(regret[p]) / oracle_total) if oracle_total else None,
            "regret_vs_0630_mean": r(sum(vs_0630[p]) / accounts, 2),
            "regret_vs_0630_p90": r(percentile(vs_0630[p], 90), 2),
        }
        for p in played
    }


def parse_args(argv: list[str] | None = None) -> argparse.Namespace:
    parser = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("--accounts", type=int, default=1000)
    parser.add_argument("--weeks", type=int, default=12)
    parser.add_argument("--posts-per-week", type=int, default=2)
    parser.add_argument("--seed", type=int, default=1)
    parser.add_argument("--weekdays", default="1,3", help="candidate weekdays, 0 = Monday")
    parser.add_argument("--times", default="06:30,08:30,12:00", help="candidate local times, HH:MM")
    parser.add_argument("--min-gap", type=float, default=0.2, help="least lead of the best slot over the runner-up")
    parser.add_argument("--max-gap", type=float, default=0.5)
    parser.add_argument(
        "--content-noise",
        type=float,
        default=0.0,
        help="log-spread of each post's own effect on its rate (0: binomial only)",
    )
    args = parser.parse_args(argv)
    weekdays = [int(d) for d in parse_list(args.weekdays, {str(d) for d in range(7)})]
    args.candidates = candidate_grid(weekdays, args.times.split(","))
    if min(args.accounts, args.weeks, args.posts_per_week) < 1 or not 0 <= args.min_gap <= args.max_gap:
        parser.error("accounts, weeks and posts per week must be positive, and 0 <= min gap <= max gap")
    if args.content_noise < 0:
        parser.error("--content-noise cannot be negative")
    return args


def main(argv: list[str] | None = None) -> None:
    args = parse_args(argv)
    say(f"{args.accounts:,} accounts x {args.weeks} weeks x {args.posts_per_week} posts, {len(args.candidates)} slots")
    started = time.perf_counter()
    step = max(1, args.accounts // 10)

    def progress(done: int) -> None:
        if done % step == 0 or done == args.accounts:
            say(f"{done:,}/{args.accounts:,} accounts ({time.perf_counter() - started:.1f} s)")

    results = simulate(
        args.accounts,
        args.weeks,
        args.posts_per_week,
        args.seed,
        args.candidates,
        (args.min_gap, args.max_gap),
        content_noise=args.content_noise,
        progress=progress,
    )
    line = {
        "accounts": args.accounts,
        "weeks": args.weeks,
        "posts_per_week": args.posts_per_week,
        "seed": args.seed,
        "candidates": [str(s) for s in args.candidates],
        "gap": [args.min_gap, args.max_gap],
        "content_noise": args.content_noise,
        "seconds": round(time.perf_counter() - started, 2),
        "machine": {"cpus": os.cpu_count(), "python": platform.python_version()},
        "results": results,
        "found_best_vs_uniform": ratio(results["thompson"]["found_best"], results["uniform"]["found_best"]),
        "regret_vs_epsilon_greedy": ratio(
            results["thompson"]["regret_vs_oracle_mean"], results["epsilon-greedy"]["regret_vs_oracle_mean"]
        ),
        "goal_found_best_90": results["thompson"]["found_best"] is not None
        and results["thompson"]["found_best"] >= 0.9,
    }
    print(json.dumps(line))


if __name__ == "__main__":
    main()
