"""The library of proven structures: enough of them, each part with several phrasings of our own,
and nothing in a phrasing but text and the documented fields."""

from __future__ import annotations

import string

from autopilot.studio import structures
from autopilot.studio.voice import PLURAL, SINGULAR

FIELDS = {"topic", "Topic", "audience", "about", *SINGULAR}
REQUIRED = {"story", "lesson", "contrarian", "case_study", "checklist", "question", "behind_the_scenes", "how_to"}
REQUIRED |= {"myth_vs_fact", "before_after", "mistakes"}


def phrasings() -> list[tuple[str, str, str]]:
    found = [(s.key, part, p) for s in structures.STRUCTURES for part, options in s.parts().items() for p in options]
    return found + [("*", "myth", myth) for myth in structures.MYTHS]


def test_the_library_holds_the_proven_structures_each_with_every_part() -> None:
    keys = [s.key for s in structures.STRUCTURES]
    assert len(keys) == len(set(keys)) >= 10
    assert set(keys) >= REQUIRED
    for structure in structures.STRUCTURES:
        parts = structure.parts()
        assert set(parts) == set(structures.PART_NAMES)
        for part, options in parts.items():
            assert len(options) >= 3, f"{structure.key}.{part} has {len(options)} phrasings"
            assert len(set(options)) == len(options), f"{structure.key}.{part} repeats a phrasing"
        assert len(structure.questions) >= 3 and len(structure.statements) >= 3


def test_a_phrasing_uses_only_the_documented_fields_and_no_reserved_marks() -> None:
    for key, part, phrasing in phrasings():
        named = {name for _text, name, _spec, _conv in string.Formatter().parse(phrasing) if name is not None}
        assert named <= FIELDS, f"{key}.{part}: unknown fields {named - FIELDS} in {phrasing!r}"
        literal = "".join(text for text, *_ in string.Formatter().parse(phrasing))
        for mark in ("#", "[", "]", "{", "}", "TODO", "TBD", "XXX"):
            assert mark not in literal, f"{key}.{part}: {mark!r} in {phrasing!r}"


def test_every_phrasing_reads_in_the_singular_and_in_the_plural() -> None:
    values = {"topic": "platform teams", "Topic": "Platform teams", "audience": "CTOs", "about": "I help teams."}
    for key, part, phrasing in phrasings():
        for person in (SINGULAR, PLURAL):
            filled = phrasing.format(**values, **person)
            assert "{" not in filled and filled.strip(), f"{key}.{part}"
            assert filled[0].isupper() or filled[0] in "→", f"{key}.{part} does not start a sentence: {filled!r}"
