from __future__ import annotations

import uuid
from datetime import datetime

from fastapi import UploadFile
from pydantic import BaseModel, ConfigDict, Field

from autopilot.kit.inputs import Input


class ContentIn(Input):
    text: str = Field(max_length=20_000, description="The post as the author wrote it (hashtags and mentions kept)")
    first_comment: str = Field(default="", max_length=1250)
    media_id: uuid.UUID | None = Field(default=None, description="An uploaded image or PDF (POST /api/v1/media)")
    integration_id: uuid.UUID | None = Field(
        default=None, description="The LinkedIn account to publish with; default: the organization's connected one"
    )


class ContentEdit(Input):
    """Only the fields given change. An edit withdraws the approval (scheduled content keeps its slot)."""

    text: str | None = Field(default=None, max_length=20_000)
    first_comment: str | None = Field(default=None, max_length=1250)


class MediaUpload(Input):
    """A multipart form with one file (JPEG, PNG, GIF or PDF)."""

    file: UploadFile = Field(description="JPEG, PNG or GIF under 36,152,320 pixels, or a PDF up to 100 MB")


class MediaOut(BaseModel):
    model_config = ConfigDict(from_attributes=True)
    id: uuid.UUID
    kind: str
    filename: str
    content_type: str
    size: int
    width: int | None
    height: int | None


class ContentOut(BaseModel):
    model_config = ConfigDict(from_attributes=True)
    id: uuid.UUID
    state: str
    text: str
    first_comment: str
    media_id: uuid.UUID | None
    integration_id: uuid.UUID | None
    version: int
    characters: int = Field(description="Characters LinkedIn counts (after escaping); the limit is 3,000")
    approved_at: datetime | None
    publish_job_id: int | None
    attempts: int = Field(description="Calls made to LinkedIn to publish it")
    post_urn: str | None
    post_url: str | None
    published_at: datetime | None
    last_error: str
    created_at: datetime
    updated_at: datetime


class ReviewIn(Input):
    """A reviewer's decision; a rejection needs a comment (the author reads it to fix the draft)."""

    comment: str = Field(default="", max_length=2000)


class ApprovalRequestIn(Input):
    comment: str = Field(default="", max_length=2000, description="A note for the approvers")


class CommentIn(Input):
    body: str = Field(min_length=1, max_length=2000)


class BulkApproveIn(Input):
    ids: list[uuid.UUID] = Field(min_length=1, max_length=100, description="The drafts to approve")


class BulkApproveOut(BaseModel):
    results: dict[uuid.UUID, str] = Field(description="Each draft's new state, or why it was refused")


class CommentOut(BaseModel):
    model_config = ConfigDict(from_attributes=True)
    id: uuid.UUID
    author_id: uuid.UUID | None
    body: str
    created_at: datetime


class VersionOut(BaseModel):
    model_config = ConfigDict(from_attributes=True)
    version: int
    text: str
    first_comment: str
    edited_by: uuid.UUID | None
    created_at: datetime


class EventOut(BaseModel):
    model_config = ConfigDict(from_attributes=True)
    action: str
    actor_id: uuid.UUID | None = Field(description="Who did it; null when AutoPilot did (a hold at the slot)")
    from_state: str
    to_state: str
    version: int
    note: str
    created_at: datetime
