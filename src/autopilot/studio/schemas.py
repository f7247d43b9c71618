from __future__ import annotations

import uuid
from datetime import datetime
from typing import Annotated, Literal

from pydantic import BaseModel, Field, StringConstraints, field_validator

from autopilot.kit.inputs import Input
from autopilot.studio import hashtags, structures

MAX_TOPICS, TOPIC_LENGTH = 10, 60
ABOUT_LENGTH, AUDIENCE_LENGTH = 1000, 200
MAX_VOICE_EXAMPLES, VOICE_EXAMPLE_LENGTH = 5, 3000
MAX_KEY_POINTS, KEY_POINT_LENGTH, POST_TOPIC_LENGTH = 10, 280, 150
SEED_MAX = 2**31 - 1

ProfileTopic = Annotated[str, StringConstraints(strip_whitespace=True, min_length=1, max_length=TOPIC_LENGTH)]
VoiceExample = Annotated[str, StringConstraints(strip_whitespace=True, min_length=1, max_length=VOICE_EXAMPLE_LENGTH)]
KeyPoint = Annotated[str, StringConstraints(strip_whitespace=True, min_length=1, max_length=KEY_POINT_LENGTH)]


class ProfileIn(Input):
    """The whole writer profile; what is left out is emptied."""

    topics: list[ProfileTopic] = Field(
        default=[], max_length=MAX_TOPICS, description="What you write about", examples=[["platform engineering"]]
    )
    about: str = Field(default="", max_length=ABOUT_LENGTH, description="Who you are and what you do, in your words")
    audience: str = Field(default="", max_length=AUDIENCE_LENGTH, description="Who you write for")
    voice_examples: list[VoiceExample] = Field(
        default=[],
        max_length=MAX_VOICE_EXAMPLES,
        description="Posts of yours whose voice the drafts should follow (sentence length, emoji, I or we, lines)",
    )

    @field_validator("topics")
    @classmethod
    def _distinct(cls, value: list[str]) -> list[str]:
        distinct: dict[str, str] = {}
        for topic in value:
            distinct.setdefault(topic.lower(), topic)  # "AI" and "ai" are one topic
        return list(distinct.values())


class ProfileOut(BaseModel):
    topics: list[str]
    about: str
    audience: str
    voice_examples: list[str]
    voice: list[str] = Field(description="The cues read from the voice examples, in words")
    updated_at: datetime | None = Field(description="None until the profile is first saved")


class PartOut(BaseModel):
    name: str = Field(description="hook, context, body, turn, takeaway or cta")
    phrasings: list[str] = Field(description="Its alternative phrasings, as templates with {fields}")


class StructureOut(BaseModel):
    key: str
    name: str
    description: str
    points: str = Field(description="How the key points are laid out in the body")
    parts: list[PartOut]


class DraftIn(Input):
    structure: str = Field(description="A structure's key (GET /api/v1/studio/structures)", examples=["story"])
    topic: Annotated[str, StringConstraints(strip_whitespace=True, min_length=1, max_length=POST_TOPIC_LENGTH)]
    key_points: list[KeyPoint] = Field(default=[], max_length=MAX_KEY_POINTS)
    engine: Literal["offline", "llm"] = Field(
        default="offline", description="offline: the deterministic generator; llm: the configured LLM server"
    )
    seed: int | None = Field(
        default=None, ge=0, le=SEED_MAX, description="The same inputs and seed give the same offline post"
    )
    hashtags: int = Field(
        default=hashtags.DEFAULT_COUNT, ge=0, le=hashtags.MAX_COUNT, description="How many hashtags to suggest"
    )
    integration_id: uuid.UUID | None = Field(default=None, description="The LinkedIn account the draft is for")
    save: bool = Field(default=False, description="Also save the post as a content draft (its id is returned)")

    @field_validator("structure")
    @classmethod
    def _known(cls, value: str) -> str:
        if value not in structures.BY_KEY:
            raise ValueError(f"unknown structure {value!r}; choose one of: {', '.join(structures.BY_KEY)}")
        return value


class PreviewIn(Input):
    text: str = Field(max_length=20_000, description="The post as the author wrote it")


class PreviewOut(BaseModel):
    characters: int = Field(description="Characters LinkedIn counts (after escaping)")
    limit: int
    fits: bool
    over_by: int
    visible: str = Field(description='What the feed shows before "…see more" (everything when nothing is cut)')
    cut: bool = Field(description='True when the feed shows "…see more"')
    hidden: int = Field(description='Characters behind "…see more"')
    rule: str = Field(description="How the cut is estimated, and why it is an estimate")


class HashtagOut(BaseModel):
    tag: str
    source: Literal["history", "topic", "profile"]
    uses: int = Field(description="Times you used it in your earlier posts")


class DraftOut(BaseModel):
    text: str
    structure: str
    engine: Literal["offline", "llm"]
    model: str | None = Field(description="The LLM's model (llm engine only)")
    sandbox: bool = Field(description="True when the LLM is the app's own sandbox")
    seed: int
    hashtags: list[HashtagOut]
    notes: list[str] = Field(description="What had to be left out or changed, in words")
    voice: list[str]
    preview: PreviewOut
    content_id: uuid.UUID | None = Field(description="The saved content draft (save=true)")
