"""The author's voice as a few simple cues read from their own example posts, and how a cue changes
a generated post. Cues, not imitation: sentence length, emoji (their own ones), "I" or "we", airy or
compact lines, and whether they ask questions."""

from __future__ import annotations

import re
from collections import Counter
from collections.abc import Sequence
from dataclasses import dataclass, field, replace

# Pictographs, symbols and dingbats that render as emoji; variation selectors and joiners ride along.
EMOJI = re.compile(
    "(?:[\U0001f300-\U0001faff\u2600-\u27bf\u2b00-\u2bff\u2300-\u23ff][\ufe0f\u200d]?(?:[\U0001f3fb-\U0001f3ff])?)"
)
_SENTENCE_END = re.compile(r"(?<=[.!?])\s+|\n+")
_APOSTROPHE = "['\u2019]"  # straight or typographic
_WORD = re.compile(rf"[^\W_]+(?:{_APOSTROPHE}[^\W_]+)?")
_SINGULAR = re.compile(rf"\b(?:I|I{_APOSTROPHE}m|I{_APOSTROPHE}ve|me|my|mine|myself)\b")
_PLURAL = re.compile(rf"\b(?:we|we{_APOSTROPHE}re|we{_APOSTROPHE}ve|us|our|ours|ourselves)\b", re.IGNORECASE)
SHORT_SENTENCE_WORDS = 11.0  # at or under this average, a voice writes short sentences
QUESTION_SHARE = 0.08  # a voice that ends this share of its sentences with "?" asks questions
AIRY_LINES_PER_SENTENCE = 0.6  # lines of text per sentence at or over which a voice is airy

SINGULAR = {
    "I": "I",
    "i": "I",
    "me": "me",
    "my": "my",
    "My": "My",
    "Im": "I'm",
    "im": "I'm",
    "Ive": "I've",
    "ive": "I've",
    "was": "was",
    "am": "am",
    "myself": "myself",
}
PLURAL = {
    "I": "We",
    "i": "we",
    "me": "us",
    "my": "our",
    "My": "Our",
    "Im": "We're",
    "im": "we're",
    "Ive": "We've",
    "ive": "we've",
    "was": "were",
    "am": "are",
    "myself": "ourselves",
}


@dataclass(frozen=True)
class Voice:
    """What the examples show. The default (no examples) is the usual consultant's post: first
    person singular, airy lines, medium sentences, no emoji, a question at the end."""

    examples: int = 0
    words_per_sentence: float = 0.0
    emoji: tuple[str, ...] = ()  # the author's own, most used first; empty: they use none
    plural: bool = False  # writes "we" rather than "I"
    airy: bool = True  # a line per sentence and blank lines between parts
    asks_questions: bool = True
    notes: tuple[str, ...] = field(default=(), compare=False)

    @property
    def short_sentences(self) -> bool:
        return 0 < self.words_per_sentence <= SHORT_SENTENCE_WORDS

    @property
    def person(self) -> dict[str, str]:
        return PLURAL if self.plural else SINGULAR


def sentences(text: str) -> list[str]:
    return [s.strip() for s in _SENTENCE_END.split(text) if _WORD.search(s)]


def read_voice(examples: Sequence[str]) -> Voice:
    """The cues of the author's example posts; the default voice when there are none."""
    texts = [e for e in (x.strip() for x in examples) if e]
    if not texts:
        return Voice()
    said = [s for text in texts for s in sentences(text)]
    count = max(len(said), 1)
    words = sum(len(_WORD.findall(s)) for s in said) / count
    used = Counter(m.group(0) for text in texts for m in EMOJI.finditer(text))
    # An emoji now and then is a habit; one in a single post of many is not.
    posts_with_emoji = sum(1 for text in texts if EMOJI.search(text))
    emoji = tuple(e for e, _n in used.most_common(3)) if posts_with_emoji * 2 >= len(texts) else ()
    singular = sum(len(_SINGULAR.findall(text)) for text in texts)
    plural = sum(len(_PLURAL.findall(text)) for text in texts)
    lines = sum(1 for text in texts for line in text.splitlines() if _WORD.search(line)) / count
    questions = sum(1 for s in said if s.rstrip().endswith("?")) / count
    voice = Voice(
        examples=len(texts),
        words_per_sentence=round(words, 1),
        emoji=emoji,
        plural=plural > singular,
        airy=lines >= AIRY_LINES_PER_SENTENCE,
        asks_questions=questions >= QUESTION_SHARE,
    )
    return replace(voice, notes=describe(voice))


def describe(voice: Voice) -> tuple[str, ...]:
    """The cues in words, as the API and the page show them."""
    if not voice.examples:
        return ("No voice examples in your profile: first person, airy lines, no emoji, a question at the end.",)
    length = "short" if voice.short_sentences else "medium to long"
    return (
        f"Sentences: {length} (about {voice.words_per_sentence:g} words each in your examples).",
        f"Emoji: {' '.join(voice.emoji)}" if voice.emoji else "Emoji: none, like your examples.",
        "Person: “we”." if voice.plural else "Person: “I”.",
        "Lines: airy, a line per sentence." if voice.airy else "Lines: compact paragraphs.",
        "Ends with a question." if voice.asks_questions else "Ends with a statement, not a question.",
    )


def shorten_sentences(template: str) -> str:
    """For a voice of short sentences: a template's " — " and "; " joints become full stops."""
    for joint in (" — ", "; "):
        while joint in template:
            before, _, after = template.partition(joint)
            template = f"{before.rstrip(',')}. {_capitalised(after)}"
    return template


def _capitalised(template: str) -> str:
    """A template with its first word capitalised, a field included ("{im} …" → "{Im} …")."""
    for field_name, upper in _SENTENCE_START.items():
        if template.startswith(field_name):
            return upper + template[len(field_name) :]
    return template[:1].upper() + template[1:]


_SENTENCE_START = {"{i}": "{I}", "{im}": "{Im}", "{ive}": "{Ive}", "{my}": "{My}", "{topic}": "{Topic}"}
