"""The offline generator: a proven structure filled from the writer's profile and the request, in the
writer's voice. Deterministic and local: the same inputs and seed always give the same post, and no
network, model or data set is involved.

Which phrasing each part takes is one number, read in mixed radix over the parts' choices. That
number is `(offset + seed * stride) mod total`, where the offset is a digest of the inputs and the
stride is coprime with the total: for one set of inputs, every seed below the number of combinations
gives a different post, and seeds beyond it cycle through them again."""

from __future__ import annotations

import hashlib
import json
import math
import re
from collections.abc import Sequence
from dataclasses import dataclass
from itertools import combinations

from autopilot.linkedin.text import COMMENTARY_LIMIT, commentary_length
from autopilot.studio import structures as library
from autopilot.studio.hashtags import line as hashtag_line
from autopilot.studio.structures import FALLBACK_POINTS, MYTHS, Structure
from autopilot.studio.voice import Voice, read_voice, sentences, shorten_sentences

ABOUT_MAX = 280  # of the profile's "about", the first sentences that fit go into a post
FALLBACK_COUNT = 3
# What an unfilled template, a model's stand-in or a note to self looks like in a finished post.
_PLACEHOLDER = re.compile(
    r"\{[^{}\n]{0,60}\}|\[[^\[\]\n]{0,60}\]|\b(?:TODO|TBD|FIXME|XXX)\b|lorem ipsum|<[A-Za-z][A-Za-z _-]{0,30}>",
    re.IGNORECASE,
)
_BRACKETS = "{}[]"
_SPACES = re.compile(r"[ \t\u00a0]+")
_CONTROL = re.compile(r"[\x00-\x08\x0b-\x1f\x7f]")


@dataclass(frozen=True)
class Profile:
    """What the generator reads of a writer profile."""

    topics: tuple[str, ...] = ()
    about: str = ""
    audience: str = ""
    voice_examples: tuple[str, ...] = ()


@dataclass(frozen=True)
class Request:
    structure: str
    topic: str
    key_points: tuple[str, ...] = ()
    seed: int = 0
    hashtags: tuple[str, ...] = ()  # chosen beforehand (hashtags.suggest), set on the last line


@dataclass(frozen=True)
class Post:
    text: str
    structure: str
    seed: int
    hashtags: tuple[str, ...]
    voice: Voice
    notes: tuple[str, ...]  # what the generator had to leave out, said plainly


class GenerationError(Exception):
    """A post that must not be offered: the reasons are in `problems`."""

    def __init__(self, problems: Sequence[str]) -> None:
        super().__init__("; ".join(problems))
        self.problems = list(problems)


def structure_of(key: str) -> Structure:
    """The structure *key*; KeyError names the known ones."""
    try:
        return library.BY_KEY[key]
    except KeyError:
        raise KeyError(f"unknown structure {key!r}; known: {', '.join(library.BY_KEY)}") from None


def clean(text: str) -> str:
    """A user's phrase as it can sit inside a generated post: one line, no control characters, and
    brackets and braces turned into parentheses (in a generated post they would read as a template
    left unfilled)."""
    text = _CONTROL.sub(" ", text.replace("\r", " ").replace("\n", " "))
    text = text.translate(str.maketrans("{[", "((")).translate(str.maketrans("}]", "))"))
    return _SPACES.sub(" ", text).strip()


def first_sentences(text: str, limit: int = ABOUT_MAX) -> str:
    """The opening sentences of *text* that fit in *limit* characters (at least the first, cut at a word)."""
    said = sentences(clean(text))
    kept = ""
    for sentence in said:
        joined = f"{kept} {sentence}".strip()
        if len(joined) > limit:
            break
        kept = joined
    if not kept and said:
        kept = said[0][:limit].rsplit(" ", 1)[0].rstrip(",;:") + "…"
    return kept


def sentence(point: str) -> str:
    return point if point[-1:] in ".!?…" else f"{point}."


def problems(text: str, *, given: str = "") -> list[str]:
    """Why *text* cannot be offered as a LinkedIn post (empty: it can). *given* is what the user
    typed: a bracket or marker that comes from their own words is theirs to keep."""
    found = []
    if not text.strip():
        return ["the post is empty"]
    length = commentary_length(text)
    if length > COMMENTARY_LIMIT:
        found.append(
            f"the post is {length:,} characters as LinkedIn counts them (after escaping); "
            f"the limit is {COMMENTARY_LIMIT:,}"
        )
    markers = sorted({m.group(0) for m in _PLACEHOLDER.finditer(text) if m.group(0) not in given})
    markers += sorted({c for c in _BRACKETS if c in text and c not in given and not any(c in m for m in markers)})
    if markers:
        found.append(f"it holds what looks like an unfilled placeholder: {', '.join(markers[:5])}")
    return found


def fields_for(profile: Profile, topic: str, voice: Voice) -> dict[str, str]:
    """The values a phrasing's fields take for this profile, topic and voice."""
    topic = clean(topic) or "this"
    fields = {
        "topic": topic,
        "Topic": topic[:1].upper() + topic[1:],
        "audience": clean(profile.audience) or f"anyone working on {topic}",
        "about": first_sentences(profile.about) if profile.about.strip() else "",
    }
    return fields | voice.person


def render(template: str, fields: dict[str, str], voice: Voice) -> str:
    """A phrasing filled in, its sentences shortened for a voice that writes short ones."""
    if voice.short_sentences:
        template = shorten_sentences(template)
    return template.format(**fields)


def _digest(*parts: object) -> int:
    raw = json.dumps(parts, ensure_ascii=False, sort_keys=True).encode()
    return int.from_bytes(hashlib.sha256(raw).digest()[:8], "big")


def _stride(total: int) -> int:
    """A step coprime with *total* near its golden section, so neighbouring seeds differ in every part."""
    stride = max(int(total * 0.618), 1)
    while math.gcd(stride, total) != 1:
        stride += 1
    return stride


def _pick(sizes: Sequence[int], offset: int, seed: int) -> list[int]:
    total = math.prod(sizes)
    number = (offset + seed * _stride(total)) % total
    picked = []
    for size in sizes:
        number, digit = divmod(number, size)
        picked.append(digit)
    return picked


def _points(structure: Structure, points: Sequence[str], fields: dict[str, str], myth_offset: int) -> list[str]:
    style = structure.points
    if style == "numbered":
        return [f"{n}. {p}" for n, p in enumerate(points, 1)]
    if style == "steps":
        return [f"Step {n}: {p}" for n, p in enumerate(points, 1)]
    if style == "story":
        steps = ["First:", *(["Then:", "Next:", "After that:"] * 4)][: max(len(points) - 1, 1)]
        said = [f"{steps[n]} {sentence(p)}" for n, p in enumerate(points[:-1])]
        return [*said, f"{'In the end:' if len(points) > 1 else 'First:'} {sentence(points[-1])}"]
    if style == "myths":
        lines = []
        for n, point in enumerate(points):
            myth = MYTHS[(myth_offset + n) % len(MYTHS)].format(**fields)
            lines += [f"Myth: {myth}", f"Fact: {sentence(point)}"]
        return lines
    if style == "before_after":
        return [f"Now: {p}" for p in points]
    return [f"→ {p}" for p in points]


def _lines(text: str, voice: Voice) -> str:
    """An airy voice puts each sentence of a part on its own line."""
    return "\n".join(sentences(text)) if voice.airy else text


def write(profile: Profile, request: Request) -> Post:
    """A complete post: the structure's parts filled, the voice applied, the hashtags on the last line,
    within LinkedIn's 3,000 characters after escaping. Raises GenerationError only on a bug."""
    structure = structure_of(request.structure)
    voice = read_voice(profile.voice_examples)
    fields = fields_for(profile, request.topic, voice)
    topic, about, audience = fields["topic"], fields["about"], fields["audience"]
    given_points = [p for p in (clean(k) for k in request.key_points) if p]

    ctas = structure.questions if voice.asks_questions else structure.statements
    fallbacks = list(combinations(range(len(FALLBACK_POINTS)), FALLBACK_COUNT)) if not given_points else [()]
    choices = {
        "hook": structure.hooks,
        "context": library.CONTEXTS if about else ("",),
        "body": structure.intros,
        "turn": structure.turns,
        "takeaway": structure.takeaways,
        "cta": ctas,
    }
    sizes = [len(options) for options in choices.values()] + [len(fallbacks), len(MYTHS)]
    offset = _digest(structure.key, topic, given_points, about, audience, voice.examples, request.hashtags)
    *part_digits, fallback_digit, myth_offset = _pick(sizes, offset, request.seed)
    chosen = {name: options[d] for (name, options), d in zip(choices.items(), part_digits, strict=True)}
    points = given_points or [FALLBACK_POINTS[i] for i in fallbacks[fallback_digit]]

    text = {name: render(template, fields, voice) if template else "" for name, template in chosen.items()}

    notes: list[str] = []
    dropped: set[str] = set()
    while True:
        post = _assemble(structure, text, points, fields, myth_offset, voice, request.hashtags, dropped)
        if commentary_length(post) <= COMMENTARY_LIMIT:
            break
        if "context" not in dropped and text["context"]:
            dropped.add("context")
            notes.append("Left out the line about you, to stay within LinkedIn's 3,000 characters.")
        elif "turn" not in dropped:
            dropped.add("turn")
            notes.append("Left out the turn, to stay within LinkedIn's 3,000 characters.")
        elif len(points) > 1:
            notes.append(f"Left out the key point “{points[-1][:60]}”, to stay within LinkedIn's 3,000 characters.")
            points = points[:-1]
        else:
            break  # a single point with its frame still too long: refused just below
    found = problems(post, given=" ".join([request.topic, *request.key_points, profile.about, profile.audience]))
    if found:
        raise GenerationError(found)
    return Post(post, structure.key, request.seed, request.hashtags, voice, tuple(notes))


def _assemble(
    structure: Structure,
    text: dict[str, str],
    points: Sequence[str],
    fields: dict[str, str],
    myth_offset: int,
    voice: Voice,
    hashtags: Sequence[str],
    dropped: set[str],
) -> str:
    part = {name: ("" if name in dropped else value) for name, value in text.items()}
    if voice.airy:
        part = {name: value if name == "context" else _lines(value, voice) for name, value in part.items()}
    if voice.emoji:  # the author's own emoji, where they usually sit: after the hook, before the point
        part["hook"] = f"{part['hook']} {voice.emoji[0]}"
        part["takeaway"] = f"{voice.emoji[1 % len(voice.emoji)]} {part['takeaway']}"
    body = "\n".join([part["body"], *_points(structure, points, fields, myth_offset)])
    if voice.airy:
        paragraphs = [part["hook"], part["context"], body, part["turn"], part["takeaway"], part["cta"]]
    else:
        paragraphs = [f"{part['hook']} {part['context']}".strip(), body]
        paragraphs += [f"{part['turn']} {part['takeaway']}".strip(), part["cta"]]
    if hashtags:
        paragraphs.append(hashtag_line(hashtags))
    return "\n\n".join(p for p in paragraphs if p.strip())
