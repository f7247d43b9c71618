"""The buying-intent classifier and the score's parts, on hand-written messages."""

from __future__ import annotations

from datetime import UTC, datetime, timedelta

import pytest

from autopilot.leads.scoring import HALF_LIFE_DAYS, combine, fit_of, intent_of, recency_of

BUYING = [
    "Could we book a call about an architecture review next week?",
    "Hi! What are your day rates for a two-week engagement?",
    "Could you send me a proposal for the migration to Kubernetes?",
    "Are you available in January? We need help with our data platform.",
    "We'd like to hire you for a security audit of our API.",
    "Do you have capacity for a new project? Budget is approved.",
    "Looking for a consultant to review our AWS architecture, can we set up a meeting?",
    "How much do you charge for a code review of a Django monolith?",
    "Our CTO asked me to reach out: could you help us with a technical assessment?",
    "Can we jump on a quick call tomorrow to discuss a platform review?",
    "We have budget for an external cloud audit this quarter. Interested?",
    "Would you be available for a two-day workshop and a roadmap for our team?",
    "Loved your post on event sourcing. Could you help us with a similar project?",
    "Please send a quote for the design review we discussed.",
    "We're looking for a fractional CTO for our seed-stage startup, can we schedule a call?",
    "Are you free next week to talk about a consulting engagement?",
    "What is your pricing for an architecture review?",
]
NOT_BUYING = [
    "Congrats on the new job!",
    "Thanks for connecting, great to meet you at the conference.",
    "Exciting new opportunity: a permanent role as Senior Engineer. Open to it?",
    "I'm a recruiter at TalentCo and we have candidates you might like.",
    "Hi, I'd like to apply for the open position on your team. Attached is my CV.",
    "We are hiring! Book a call with our talent acquisition team to hear about the role.",
    "Boost your SEO with guaranteed results: book a call today!",
    "Our outsourcing team can deliver your project at half the price. Click here.",
    "Happy birthday!",
    "Would love to connect!",
    "I'm looking for a job as a junior developer, do you have any openings?",
    "Great article about microservices.",
    "Did you see the game last night?",
    "I'm working on a side project in Rust.",
    "Thanks for the review of my talk slides.",
    "Crypto investment opportunity with 30% monthly returns, limited-time offer.",
    "Can you share my resume with your network?",
    "Exciting new opportunity at a fast-growing startup! Can we book a call about your day rate and a proposal?",
]


@pytest.mark.parametrize("text", BUYING)
def test_buying_intent_is_recognised(text: str) -> None:
    found = intent_of(text)
    assert found.buying, (found.score, found.reasons)


@pytest.mark.parametrize("text", NOT_BUYING)
def test_no_buying_intent_is_recognised(text: str) -> None:
    found = intent_of(text)
    assert not found.buying, (found.score, found.reasons)


def test_the_intent_says_why() -> None:
    found = intent_of("could we book a call about an architecture review next week?")
    assert {"asks for a call", "wants a review or audit"} <= set(found.reasons)
    assert intent_of("Exciting new opportunity, are you available?").reasons[-1] == "reads like a recruiter"


def test_recency_halves_every_half_life() -> None:
    now = datetime(2026, 11, 24, tzinfo=UTC)
    assert recency_of(now, now) == 100
    assert recency_of(now - timedelta(days=HALF_LIFE_DAYS), now) == 50
    assert recency_of(now - timedelta(days=2 * HALF_LIFE_DAYS), now) == 25
    assert recency_of(None, now) == 0


def test_fit_comes_from_title_and_company() -> None:
    assert fit_of("CTO", "Acme")[0] > fit_of("Senior Engineer", "Acme")[0] > fit_of("Senior Engineer", "")[0]
    assert fit_of("VP of Engineering", "")[0] >= 40
    assert fit_of("Technical Recruiter", "Acme")[0] == 0


def test_the_score_is_between_0_and_100_and_explained() -> None:
    now = datetime(2026, 11, 24, tzinfo=UTC)
    best = combine([intent_of("book a call, send a proposal, your rates, our budget")], now, "CTO", "Acme", now)
    assert best.score <= 100 and best.intent == 100 and best.recency == 100
    cold = combine([intent_of("Happy birthday!")], now - timedelta(days=365), "", "", now)
    assert cold.score == 0
    assert [r.split(":")[0] for r in best.reasons] == ["intent 100", "recency 100", "fit 80"]
