"""The password policy (NIST SP 800-63B): length, no composition rules, and a refusal of passwords
that are common, leaked, repetitive, sequential or built from what an attacker knows about the user.

A password is taken exactly as typed: spaces and every other character count and nothing is
stripped or altered. Guessability is judged by zxcvbn, whose frequency lists (leaked passwords,
common words and names) ship inside the package, with the user's own e-mail, name and organization
added as context words.
"""

from __future__ import annotations

import re
from collections.abc import Mapping, Sequence

from zxcvbn import zxcvbn

from autopilot.kit.errors import Unprocessable

MIN_PASSWORD = 10
MAX_PASSWORD = 1024
# zxcvbn's estimate grows costly with length and it refuses more than 72 characters; a password
# whose first 72 characters are hard to guess is hard to guess.
SCORED_PREFIX = 72
# zxcvbn's scale: 3 means about 10^8 guesses or more, "safely unguessable" against an online attack
# and slow (argon2) offline hashing; 2 and below are refused.
MIN_SCORE = 3
PRODUCT_WORDS = ("autopilot", "techlead", "techlead autopilot")
_WORDS = re.compile(r"[^\W_]+")

ADVICE = "a few uncommon words with spaces between them make a strong password that is easy to remember"


def password_problem(password: str, *, email: str = "", name: str = "", organization: str = "") -> str | None:
    """Why *password* is refused for this user, as a sentence for them; None when it is acceptable."""
    if len(password) < MIN_PASSWORD:
        return f"it must be at least {MIN_PASSWORD} characters long"
    if len(password) > MAX_PASSWORD:
        return f"it must be at most {MAX_PASSWORD} characters long"
    sources = _context_words(email=email, name=name, organization=organization)
    # What an attacker knows about the user adds nothing: the rest must be strong on its own.
    folded = password.casefold()
    known = [word for word in sorted(sources, key=len, reverse=True) if word in folded]
    if known:
        rest = folded
        for word in known:
            rest = rest.replace(word, " ")
        if _score(rest, sources) < MIN_SCORE:
            return f"it contains {sources[known[0]]}; {ADVICE}"
    verdict = zxcvbn(password[:SCORED_PREFIX], user_inputs=list(sources))
    if verdict["score"] >= MIN_SCORE:
        return None
    return f"{_reason(verdict['sequence'], sources)}; {ADVICE}"


def check_password(password: str, *, email: str = "", name: str = "", organization: str = "") -> None:
    """Refuse a weak password with a 422 that says why (see `password_problem`)."""
    problem = password_problem(password, email=email, name=name, organization=organization)
    if problem is not None:
        raise Unprocessable(
            f"this password cannot be used: {problem}", errors=[{"field": "password", "message": problem}]
        )


def _score(text: str, sources: dict[str, str]) -> int:
    return zxcvbn(text[:SCORED_PREFIX], user_inputs=list(sources))["score"] if text.strip() else 0


def _context_words(*, email: str, name: str, organization: str) -> dict[str, str]:
    """Each word an attacker would try first for this user, mapped to what it is, for the reason."""
    words: dict[str, str] = {}

    def add(value: str, what: str) -> None:
        value = value.strip().casefold()
        if len(value) >= 3:
            words.setdefault(value, what)
        for part in _WORDS.findall(value):
            if len(part) >= 3:
                words.setdefault(part, what)

    add(name, "your name")  # first: a name that is also in the e-mail is named as the name
    add(organization, "your organization's name")
    add(email, "your e-mail address")
    add(email.partition("@")[0], "your e-mail address")
    for word in PRODUCT_WORDS:
        add(word, "the name of this service")
    return words


def _reason(sequence: Sequence[Mapping[str, object]], sources: dict[str, str]) -> str:
    """The most telling weakness zxcvbn found, in plain words."""
    patterns = {match["pattern"] for match in sequence}
    for match in sequence:
        if match["pattern"] == "dictionary" and match.get("dictionary_name") == "user_inputs":
            return f"it contains {sources.get(str(match.get('matched_word', '')), 'something about you')}"
    for match in sequence:
        if match["pattern"] == "dictionary" and match.get("dictionary_name") == "passwords":
            return "this password is too common: it is on lists of frequently used and leaked passwords"
    if "repeat" in patterns:
        return "it repeats characters or words (like aaaaaaaaaa or abcabcabc)"
    if "sequence" in patterns:
        return "it is a sequence (like 1234567890 or abcdefghij)"
    if "spatial" in patterns:
        return "it is a keyboard pattern (like qwertyuiop)"
    if "date" in patterns or "regex" in patterns:
        return "it is mostly a date or a year"
    if "dictionary" in patterns:
        return "it is too common: a word or name found in every password-guessing list"
    return "it is too easy to guess"
