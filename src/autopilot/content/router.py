"""Content API: write, approve and publish posts; upload images and PDF documents."""

from __future__ import annotations

import uuid
from typing import Annotated

from fastapi import APIRouter, Form

from autopilot.accounts.deps import CurrentCaller
from autopilot.content import schemas, service
from autopilot.content.models import Content
from autopilot.kit.deps import SessionDep
from autopilot.kit.inputs import Limit
from autopilot.kit.openapi import PROBLEMS, problems
from autopilot.linkedin.text import commentary_length

router = APIRouter(prefix="/api/v1", tags=["content"], responses=PROBLEMS)


def _out(item: Content) -> schemas.ContentOut:
    return schemas.ContentOut.model_validate(
        {
            **{c: getattr(item, c) for c in schemas.ContentOut.model_fields if hasattr(item, c)},
            "characters": commentary_length(item.text),
            "post_url": service.post_url(item.post_urn),
        }
    )


@router.post("/media", status_code=201, responses=problems(413, 422))
async def upload_media(
    session: SessionDep,
    caller: CurrentCaller,
    form: Annotated[schemas.MediaUpload, Form(media_type="multipart/form-data")],
) -> schemas.MediaOut:
    """Upload an image (JPEG, PNG, GIF; fewer than 36,152,320 pixels) or a PDF document (up to 100 MB)."""
    data = await form.file.read()
    item = await service.upload_media(session, caller, form.file.filename or "upload", data)
    return schemas.MediaOut.model_validate(item)


@router.post("/content", status_code=201, responses=problems(404, 422))
async def create_content(data: schemas.ContentIn, session: SessionDep, caller: CurrentCaller) -> schemas.ContentOut:
    """Write a draft. Text LinkedIn would refuse (empty, over 3,000 characters once escaped) is refused here."""
    return _out(await service.create(session, caller, data))


@router.get("/content")
async def list_content(session: SessionDep, caller: CurrentCaller, limit: Limit = 50) -> list[schemas.ContentOut]:
    return [_out(item) for item in await service.list_recent(session, caller, limit)]


@router.get("/content/{content_id}")
async def get_content(content_id: uuid.UUID, session: SessionDep, caller: CurrentCaller) -> schemas.ContentOut:
    """State, LinkedIn URN and link, attempts and the last error."""
    return _out(await service.get(session, caller, content_id))


@router.patch("/content/{content_id}", responses=problems(404, 409, 422))
async def revise_content(
    content_id: uuid.UUID, data: schemas.ContentEdit, session: SessionDep, caller: CurrentCaller
) -> schemas.ContentOut:
    """Change the text or first comment. The approval is withdrawn: approved content goes back to
    draft; scheduled content keeps its slot and is held there unless approved again before it."""
    return _out(await service.revise(session, caller, content_id, data))


@router.post("/content/{content_id}/approve", responses=problems(403, 409))
async def approve_content(content_id: uuid.UUID, session: SessionDep, caller: CurrentCaller) -> schemas.ContentOut:
    return _out(await service.approve(session, caller, content_id))


@router.post("/content/{content_id}/publish", status_code=202, responses=problems(409))
async def publish_content(content_id: uuid.UUID, session: SessionDep, caller: CurrentCaller) -> schemas.ContentOut:
    """Publish approved content now (through the job engine); follow it with GET /content/{id}."""
    return _out(await service.publish(session, caller, content_id))
