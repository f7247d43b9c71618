"""Content API: write, approve and publish posts; upload images and PDF documents."""

from __future__ import annotations

import uuid
from typing import Annotated

from fastapi import APIRouter, Form, Header, Response

from autopilot.accounts.deps import CurrentCaller
from autopilot.content import schemas, service
from autopilot.content.models import Content
from autopilot.kit.deps import SessionDep
from autopilot.kit.inputs import Limit, version_from
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


NO_REVIEW, NO_REQUEST = schemas.ReviewIn(), schemas.ApprovalRequestIn()  # the body may be left out
IfMatch = Annotated[str | None, Header(description='The version you read, as its ETag (`"3"`): 412 if it changed')]
IdempotencyKey = Annotated[
    str | None, Header(description="Any unique string: a repeat with the same key answers the first outcome")
]


@router.get("/content/{content_id}")
async def get_content(
    content_id: uuid.UUID, response: Response, session: SessionDep, caller: CurrentCaller
) -> schemas.ContentOut:
    """State, LinkedIn URN and link, attempts and the last error. The ETag is the version."""
    item = await service.get(session, caller, content_id)
    response.headers["ETag"] = f'"{item.version}"'
    return _out(item)


@router.patch("/content/{content_id}", responses=problems(404, 409, 412, 422))
async def revise_content(
    content_id: uuid.UUID,
    data: schemas.ContentEdit,
    session: SessionDep,
    caller: CurrentCaller,
    if_match: IfMatch = None,
) -> schemas.ContentOut:
    """Change the text or first comment. The approval is withdrawn: approved content goes back to
    draft; scheduled content keeps its slot and is held there unless approved again before it."""
    return _out(await service.revise(session, caller, content_id, data, if_match=version_from(if_match)))


@router.post("/content/{content_id}/request-approval", responses=problems(404, 409, 422))
async def request_approval(
    content_id: uuid.UUID, session: SessionDep, caller: CurrentCaller, data: schemas.ApprovalRequestIn = NO_REQUEST
) -> schemas.ContentOut:
    """Send a draft to the approvers' queue (state `pending_approval`)."""
    return _out(await service.request_approval(session, caller, content_id, data.comment))


async def _decide(
    decision: str, content_id: uuid.UUID, data: schemas.ReviewIn, session: SessionDep, caller: CurrentCaller,
    if_match: str | None, key: str | None, response: Response,
) -> schemas.ContentOut:  # fmt: skip
    decided = await service.decide(
        session, caller, content_id, decision, comment=data.comment,
        if_match=version_from(if_match), idempotency_key=key,
    )  # fmt: skip
    if decided.replayed:
        response.headers["Idempotent-Replayed"] = "true"
    response.headers["ETag"] = f'"{decided.content.version}"'
    return _out(decided.content)


@router.post("/content/{content_id}/approve", responses=problems(403, 404, 409, 412, 422))
async def approve_content(
    content_id: uuid.UUID, session: SessionDep, caller: CurrentCaller, response: Response,
    data: schemas.ReviewIn = NO_REVIEW, if_match: IfMatch = None, idempotency_key: IdempotencyKey = None,
) -> schemas.ContentOut:  # fmt: skip
    """Approve a draft (approvers, admins, owners). With If-Match, a draft edited since you read it
    answers 412 with the current text; with an Idempotency-Key, a repeat answers the first outcome."""
    return await _decide("approve", content_id, data, session, caller, if_match, idempotency_key, response)


@router.post("/content/{content_id}/reject", responses=problems(403, 404, 409, 412, 422))
async def reject_content(
    content_id: uuid.UUID, session: SessionDep, caller: CurrentCaller, response: Response,
    data: schemas.ReviewIn = NO_REVIEW, if_match: IfMatch = None, idempotency_key: IdempotencyKey = None,
) -> schemas.ContentOut:  # fmt: skip
    """Send a draft back to its author with a comment saying why (state `draft`)."""
    return await _decide("reject", content_id, data, session, caller, if_match, idempotency_key, response)


@router.post("/content/approve", responses=problems(403, 422))
async def bulk_approve(
    data: schemas.BulkApproveIn, session: SessionDep, caller: CurrentCaller
) -> schemas.BulkApproveOut:
    """Approve several drafts; each stands alone, and the answer says which were refused and why."""
    return schemas.BulkApproveOut(results=await service.bulk_approve(session, caller, data.ids))


@router.get("/content/{content_id}/comments")
async def list_comments(content_id: uuid.UUID, session: SessionDep, caller: CurrentCaller) -> list[schemas.CommentOut]:
    return [schemas.CommentOut.model_validate(c) for c in await service.comments_on(session, caller, content_id)]


@router.post("/content/{content_id}/comments", status_code=201, responses=problems(404, 422))
async def add_comment(
    content_id: uuid.UUID, data: schemas.CommentIn, session: SessionDep, caller: CurrentCaller
) -> schemas.CommentOut:
    return schemas.CommentOut.model_validate(await service.add_comment(session, caller, content_id, data.body))


@router.get("/content/{content_id}/versions")
async def list_versions(content_id: uuid.UUID, session: SessionDep, caller: CurrentCaller) -> list[schemas.VersionOut]:
    """The edit history, newest first."""
    return [schemas.VersionOut.model_validate(v) for v in await service.versions_of(session, caller, content_id)]


@router.get("/content/{content_id}/events")
async def list_events(content_id: uuid.UUID, session: SessionDep, caller: CurrentCaller) -> list[schemas.EventOut]:
    """The audit log: who requested approval, approved, rejected, edited, scheduled — and when."""
    return [schemas.EventOut.model_validate(e) for e in await service.events_of(session, caller, content_id)]


@router.post("/content/{content_id}/publish", status_code=202, responses=problems(409))
async def publish_content(content_id: uuid.UUID, session: SessionDep, caller: CurrentCaller) -> schemas.ContentOut:
    """Publish approved content now (through the job engine); follow it with GET /content/{id}."""
    return _out(await service.publish(session, caller, content_id))
