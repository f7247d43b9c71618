"""The Posts page: write a post, approve it, publish it now, and watch it arrive on LinkedIn."""

from __future__ import annotations

import uuid
from dataclasses import dataclass
from typing import Annotated, Any

from fastapi import APIRouter, Form, Request
from fastapi.responses import HTMLResponse, RedirectResponse, Response
from pydantic import ValidationError

from autopilot.accounts.deps import PageCaller
from autopilot.accounts.service import Caller
from autopilot.config import Settings
from autopilot.content import service
from autopilot.content.models import Content, ContentState
from autopilot.content.schemas import ContentIn
from autopilot.kit.deps import SessionDep, SettingsDep
from autopilot.kit.errors import AppError
from autopilot.linkedin import service as linkedin
from autopilot.linkedin.text import COMMENTARY_LIMIT, commentary_length
from autopilot.web.session import CsrfChecked
from autopilot.web.templating import Nav, readable, refuse, render

router = APIRouter(include_in_schema=False)
NAV = [Nav("posts", "Posts", "/posts")]
Field = Annotated[str, Form()]
PAGE = "/posts"
LABELS = {
    ContentState.DRAFT: "Draft",
    ContentState.PENDING_APPROVAL: "Waiting for approval",
    ContentState.APPROVED: "Approved",
    ContentState.SCHEDULED: "Queued to publish",
    ContentState.PUBLISHING: "Publishing…",
    ContentState.PUBLISHED: "Published",
    ContentState.HELD: "On hold",
    ContentState.FAILED: "Failed",
    ContentState.MISSED: "Missed its slot",
}
TONES = {  # the badge's colour: green done, amber in progress, red needs a person, grey not yet
    ContentState.PUBLISHED: "good",
    ContentState.SCHEDULED: "busy",
    ContentState.PUBLISHING: "busy",
    ContentState.HELD: "bad",
    ContentState.FAILED: "bad",
    ContentState.MISSED: "bad",
}
IN_FLIGHT = {ContentState.SCHEDULED, ContentState.PUBLISHING}  # the list refreshes itself meanwhile
RETRYABLE = {ContentState.APPROVED, ContentState.FAILED, ContentState.HELD, ContentState.MISSED}
DONE = {
    "created": "Draft saved. Approve it, then publish.",
    "approved": "Approved: it can be published now.",
    "requested": "Sent for approval: it waits in the approvers' queue (Approvals).",
    "publishing": "Publishing: the post's link appears here once LinkedIn has it.",
}


@dataclass(frozen=True)
class Post:
    """One piece of content as the page shows it."""

    item: Content
    state: ContentState
    label: str
    tone: str
    characters: int
    link: str | None
    link_label: str

    @property
    def too_long(self) -> bool:
        return self.characters > COMMENTARY_LIMIT


def _post(item: Content, settings: Settings) -> Post:
    state = ContentState(item.state)
    feed = linkedin.sandbox_feed_url(settings)
    link = (feed or service.post_url(item.post_urn)) if item.post_urn else None
    return Post(
        item=item,
        state=state,
        label=LABELS[state],
        tone=TONES.get(state, "neutral"),
        characters=commentary_length(item.text),
        link=link,
        link_label="View on LinkedIn (Sandbox)" if feed else "View on LinkedIn",
    )


async def _context(session: SessionDep, settings: Settings, caller: Caller) -> dict[str, Any]:
    items = await service.list_recent(session, caller)
    posts = [_post(item, settings) for item in items]
    remarks = await service.latest_comments(session, caller.org_id, [item.id for item in items])
    connected = any(i.status == "connected" for i in await linkedin.list_integrations(session, caller))
    return {
        "caller": caller,
        "active": "posts",
        "posts": posts,
        "remarks": remarks,
        "polling": any(p.state in IN_FLIGHT for p in posts),
        "can_approve": caller.role in service.APPROVERS,
        "retryable": RETRYABLE,
        "connected": connected,
        "sandbox": settings.linkedin_sandbox,
        "limit": COMMENTARY_LIMIT,
    }


@router.get("/posts", response_class=HTMLResponse)
async def posts_page(request: Request, session: SessionDep, settings: SettingsDep, caller: PageCaller) -> Response:
    notice = DONE.get(request.query_params.get("done", ""))
    return render(request, "posts.html", **await _context(session, settings, caller), form={}, notice=notice)


@router.get("/posts/list", response_class=HTMLResponse)
async def posts_list(request: Request, session: SessionDep, settings: SettingsDep, caller: PageCaller) -> Response:
    """The list alone: what the page polls while something is being published."""
    return render(request, "_posts_list.html", **await _context(session, settings, caller))


async def _refusal(
    request: Request, session: SessionDep, settings: Settings, caller: Caller, status: int, error: str, **form: str
) -> AppError:
    context = await _context(session, settings, caller)
    return refuse(request, "posts.html", status, **context, form=form, error=error)


@router.post("/posts", response_class=HTMLResponse)
async def write(
    request: Request,
    session: SessionDep,
    settings: SettingsDep,
    caller: PageCaller,
    _csrf: CsrfChecked,
    text: Field = "",
    first_comment: Field = "",
) -> Response:
    form = {"text": text, "first_comment": first_comment}
    try:
        await service.create(session, caller, ContentIn(text=text, first_comment=first_comment))
    except ValidationError as exc:
        raise await _refusal(request, session, settings, caller, 422, readable(exc), **form) from exc
    except AppError as exc:
        raise await _refusal(request, session, settings, caller, exc.status, _sentence_of(exc), **form) from exc
    return RedirectResponse(f"{PAGE}?done=created", status_code=303)


def _sentence_of(exc: AppError) -> str:
    return exc.detail[:1].upper() + exc.detail[1:] + ("" if exc.detail.endswith(".") else ".")


async def _act(
    request: Request, session: SessionDep, settings: Settings, caller: Caller, content_id: uuid.UUID, action: str
) -> Response:
    try:
        if action == "approved":
            await service.approve(session, caller, content_id)
        elif action == "requested":
            await service.request_approval(session, caller, content_id)
        else:
            await service.publish(session, caller, content_id)
    except AppError as exc:  # 404 for another organization's content, 409 for a state that does not allow it
        raise await _refusal(request, session, settings, caller, exc.status, _sentence_of(exc)) from exc
    return RedirectResponse(f"{PAGE}?done={action}", status_code=303)


@router.post("/posts/{content_id}/approve")
async def approve(
    content_id: uuid.UUID,
    request: Request,
    session: SessionDep,
    settings: SettingsDep,
    caller: PageCaller,
    _csrf: CsrfChecked,
) -> Response:
    return await _act(request, session, settings, caller, content_id, "approved")


@router.post("/posts/{content_id}/request-approval")
async def request_approval(
    content_id: uuid.UUID,
    request: Request,
    session: SessionDep,
    settings: SettingsDep,
    caller: PageCaller,
    _csrf: CsrfChecked,
) -> Response:
    return await _act(request, session, settings, caller, content_id, "requested")


@router.post("/posts/{content_id}/publish")
async def publish(
    content_id: uuid.UUID,
    request: Request,
    session: SessionDep,
    settings: SettingsDep,
    caller: PageCaller,
    _csrf: CsrfChecked,
) -> Response:
    return await _act(request, session, settings, caller, content_id, "publishing")
