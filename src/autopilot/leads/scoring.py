"""How a lead is scored, explainably: intent (what they wrote), recency (when), fit (who they are).

Intent is a small deterministic classifier of buying intent: weighted phrases (asking to book a
call, for rates, a proposal, availability, help with a review, an audit, a project, a budget, to
hire you) minus the marks of what only looks like interest (job applications, recruiters, spam).
Each phrase that matched is a reason the user reads next to the score. The weights were set by hand
against the examples in tests/leads/test_scoring.py; a phrase counts once however often it occurs."""

from __future__ import annotations

import re
from dataclasses import dataclass
from datetime import datetime

# (pattern, weight, reason): a positive weight is buying intent, a negative one its opposite.
_PHRASES: tuple[tuple[str, int, str], ...] = (
    (
        r"\b(book|schedule|set up|arrange|hop on|jump on|get on)\b[^.?!]{0,20}\b(call|meeting|chat|session|zoom)\b",
        40,
        "asks for a call",
    ),
    (r"\b(talk|speak)\b[^.?!]{0,20}\b(next week|this week|tomorrow|soon)\b", 20, "wants to talk soon"),
    (
        r"\b(your|day|daily|hourly) rates?\b|\b(your )?(pricing|fees?)\b|\b(a|your) quote\b"
        r"|\bhow much (do|would|does) (you|it) (charge|cost)\b",
        35,
        "asks about rates",
    ),
    (r"\b(proposal|statement of work|sow)\b", 35, "asks for a proposal"),
    (
        r"\b(availability|are you available|you be available|(are|were) you free|have capacity|your capacity)\b",
        25,
        "asks about availability",
    ),
    (r"\b(help (us|me|our team)|could use (some )?help|need (some )?help|support us)\b", 25, "asks for help"),
    (
        r"\b(architecture|code|security|design|technical|cloud|platform) (review|audit|assessment)\b",
        35,
        "wants a review or audit",
    ),
    (r"\b(review|audit)\b", 15, "mentions a review or audit"),
    (r"\b(project|engagement|initiative|migration|roadmap)\b", 15, "mentions a project"),
    (r"\bbudget\b", 25, "mentions a budget"),
    (r"\b(hire|hiring|engage|retain|bring in|contract) (you|your (services|team|firm))\b", 35, "wants to hire you"),
    (
        r"\blooking for (a |an )?(consultant|contractor|freelancer|advisor|expert|fractional)\b",
        35,
        "looks for a consultant",
    ),
    (r"\b(consulting|consultation|advisory|workshop|training for our)\b", 15, "mentions consulting"),
    # What reads like interest but is not a client: applicants, recruiters, vendors.
    (
        r"\b(apply|applying|application) (for|to)\b|\bmy (cv|resume|résumé|portfolio)\b"
        r"|\b(open|vacant) (position|role)s?\b|\b(looking for|seeking) (a |an )?(job|internship|position|role)\b"
        r"|\bjob (opening|opportunit\w*)\b",
        -60,
        "reads like a job application",
    ),
    (
        r"\b(recruiter|recruiting|recruitment|talent acquisition|headhunt\w*)\b|\bwe('re| are) hiring\b"
        r"|\b(exciting|new|great) (opportunity|role)\b|\b(permanent|full[- ]time) (role|position)\b|\bcandidates?\b",
        -60,
        "reads like a recruiter",
    ),
    (
        r"\b(seo|backlinks?|crypto|bitcoin|forex|guaranteed (leads|results|traffic)|click here|limited[- ]time offer"
        r"|lead generation services|outsourc\w* (team|services|partner)|web(site)? design services|unsubscribe)\b",
        -70,
        "reads like spam or a sales pitch",
    ),
)
_COMPILED = tuple((re.compile(p, re.IGNORECASE), w, r) for p, w, r in _PHRASES)
BUYING_THRESHOLD = 30  # an intent at or above this is buying intent

# Titles and companies a technical consultant sells to (the ideal customer profile).
FIT_TITLES: tuple[tuple[str, int], ...] = (
    (r"\b(cto|chief technology officer|chief technical officer)\b", 60),
    (r"\b(ceo|founder|co-founder|cofounder|owner|managing director)\b", 50),
    (
        r"\b(vp|vice president|head|director)\b[^,]{0,20}"
        r"\b(engineering|technology|software|it|platform|data|product)\b",
        55,
    ),
    (r"\b(engineering manager|it manager|cio|chief information officer|product manager)\b", 40),
    (r"\b(architect|principal|staff engineer|tech lead|lead engineer)\b", 30),
)
NO_FIT = re.compile(r"\b(student|intern|recruiter|talent|sourcer|job seeker|retired)\b", re.IGNORECASE)
FIT_COMPANY = 20  # a known company makes a person easier to sell to
HALF_LIFE_DAYS = 14.0  # a signal's recency halves every two weeks

# How the three parts add up to the score (0 to 100).
WEIGHTS = {"intent": 0.6, "recency": 0.25, "fit": 0.15}


@dataclass(frozen=True)
class Intent:
    score: int  # 0 to 100
    reasons: tuple[str, ...]

    @property
    def buying(self) -> bool:
        return self.score >= BUYING_THRESHOLD


def intent_of(text: str) -> Intent:
    """The buying intent of a message, with the phrases that decided it."""
    total, reasons = 0, []
    negative = False
    for pattern, weight, reason in _COMPILED:
        if pattern.search(text):
            total += weight
            negative = negative or weight < 0
            reasons.append(reason)
    # One mark of a job application, a recruiter or spam outweighs any wording of interest.
    score = 0 if negative else max(0, min(100, total))
    return Intent(score, tuple(reasons))


def recency_of(last: datetime | None, now: datetime) -> int:
    """100 for a signal today, halving every HALF_LIFE_DAYS."""
    if last is None:
        return 0
    age_days = max(0.0, (now - last).total_seconds() / 86_400)
    factor: float = 0.5 ** (age_days / HALF_LIFE_DAYS)
    return round(100 * factor)


def fit_of(title: str, company: str) -> tuple[int, list[str]]:
    """How well a person's title and company match whom a technical consultant sells to."""
    if NO_FIT.search(title):
        return 0, [f"title “{title}” is not a buyer"]
    best, reasons = 0, []
    for pattern, weight in FIT_TITLES:
        if re.search(pattern, title, re.IGNORECASE) and weight > best:
            best = weight
    if best:
        reasons.append(f"title “{title}” fits")
    if company.strip():
        best += FIT_COMPANY
        reasons.append(f"works at {company.strip()}")
    return min(100, best), reasons


@dataclass(frozen=True)
class Score:
    score: int
    intent: int
    recency: int
    fit: int
    reasons: list[str]


def combine(intents: list[Intent], last: datetime | None, title: str, company: str, now: datetime) -> Score:
    """The lead's score from all its signals' intents (the strongest counts), its last signal and its profile."""
    strongest = max(intents, key=lambda i: i.score, default=Intent(0, ()))
    recency = recency_of(last, now)
    fit, fit_reasons = fit_of(title, company)
    reasons = [f"intent {strongest.score}: " + (", ".join(strongest.reasons) or "no words of buying interest")]
    for intent in intents:  # what only looked like interest is worth saying too
        for reason in intent.reasons:
            if reason.startswith("reads like") and reason not in reasons:
                reasons.append(reason)
    reasons.append(f"recency {recency}: last signal {_age(last, now)}")
    reasons.append(f"fit {fit}: " + (", ".join(fit_reasons) or "no title or company known"))
    total = WEIGHTS["intent"] * strongest.score + WEIGHTS["recency"] * recency + WEIGHTS["fit"] * fit
    return Score(max(0, min(100, round(total))), strongest.score, recency, fit, reasons)


def _age(last: datetime | None, now: datetime) -> str:
    if last is None:
        return "never"
    days = int(max(0.0, (now - last).total_seconds()) // 86_400)
    return "today" if days == 0 else ("1 day ago" if days == 1 else f"{days} days ago")
