"""How a post will look in the LinkedIn feed: the characters LinkedIn counts, and the "…see more" cut.

The cut is not documented by LinkedIn. Guides say the feed shows "about 210 characters" or "three
lines" before "…see more", whichever comes first (research/linkedin-analytics-and-leads.md §4.4:
"~140-210 characters, no primary source found"); mobile is said to cut earlier than desktop. The
public corpus in shared/data/linkedin-posts (1,600 posts scraped in 2021) does not settle it: 847
of its posts end in "…see more", yet the text before it runs from 170 to over 1,100 characters
(median 375) because the scraper flattened the line breaks, and no post under 670 characters was
cut — so the cut is not a fixed character count, at least on desktop then. We show the cautious
reading: at most `SEE_MORE_CHARS` characters and at most `SEE_MORE_LINES` lines (a blank line
counts as a line, as the feed keeps it), cut back to a word. A line long enough to wrap on a
phone is still one line here: the width of the reader's screen is unknown."""

from __future__ import annotations

from dataclasses import dataclass

from autopilot.linkedin import text as little

SEE_MORE_CHARS = 210
SEE_MORE_LINES = 3
WORD_BACKTRACK = 30  # how far back the cut looks for a space, so it does not split a word


@dataclass(frozen=True)
class Preview:
    characters: int  # as LinkedIn counts them: after escaping
    limit: int
    fits: bool
    over_by: int
    visible: str  # what the feed shows before "…see more" (all of it when nothing is cut)
    cut: bool  # True when the feed shows "…see more"
    hidden: int  # characters behind "…see more"
    rule: str


RULE = (
    f"The feed shows about {SEE_MORE_CHARS} characters or {SEE_MORE_LINES} lines, whichever comes first, "
    "then “…see more” (observed, not documented; phones may cut earlier)."
)


def see_more(shown: str) -> str:
    """The part of the text members see before "…see more"."""
    shown = shown.strip()
    lines = shown.split("\n")
    visible = "\n".join(lines[:SEE_MORE_LINES])
    if len(visible) > SEE_MORE_CHARS:
        head = visible[:SEE_MORE_CHARS]
        space = max(head.rfind(" "), head.rfind("\n"))
        if space >= SEE_MORE_CHARS - WORD_BACKTRACK and not visible[SEE_MORE_CHARS].isspace():
            head = head[:space]
        visible = head
    return visible.rstrip()


def preview(text: str) -> Preview:
    """The count, the limit, and the feed's cut for the author's *text*."""
    characters = little.commentary_length(text)
    shown = little.displayed(text).strip()
    visible = see_more(shown)
    return Preview(
        characters=characters,
        limit=little.COMMENTARY_LIMIT,
        fits=characters <= little.COMMENTARY_LIMIT and bool(text.strip()),
        over_by=max(characters - little.COMMENTARY_LIMIT, 0),
        visible=visible,
        cut=len(visible) < len(shown),
        hidden=len(shown) - len(visible),
        rule=RULE,
    )
