"""The Approvals page: the drafts waiting for the caller's decision, one tap each, on a phone.

Decisions go through `POST /approvals/{id}/decision` (JSON, sent by /static/outbox.js): every one
carries an Idempotency-Key made on the phone before its first attempt and the version of the
draft it was taken on (If-Match), because a phone that was offline sends it later, possibly twice
(the page's `online` replay and Background Sync), and possibly after the draft was edited. The
service applies each key once and answers a changed draft with 412 and its current text."""

from __future__ import annotations

import uuid
from dataclasses import dataclass
from datetime import datetime
from typing import Annotated, Literal

from fastapi import APIRouter, Header, Request
from fastapi.responses import HTMLResponse, Response
from pydantic import BaseModel, Field

from autopilot.accounts import service as accounts
from autopilot.accounts.deps import PageCaller
from autopilot.content import service
from autopilot.content.models import Content
from autopilot.kit.deps import SessionDep
from autopilot.kit.errors import BadRequest, PreconditionRequired
from autopilot.kit.inputs import Input, version_from
from autopilot.web.session import CsrfHeaderChecked
from autopilot.web.templating import Nav, render

router = APIRouter(include_in_schema=False)
NAV = [Nav("approvals", "Approvals", "/approvals", bar=2, badge="/approvals/badge")]
# Where LinkedIn's phone app folds a post behind "…see more": about 140 characters or 3 lines.
FOLD_CHARS, FOLD_LINES = 140, 3


@dataclass(frozen=True)
class Card:
    """A draft as the queue shows it: who wrote it, and its text cut where LinkedIn cuts it."""

    item: Content
    author: str
    hook: str
    more: str

    @property
    def waiting_since(self) -> datetime:
        return self.item.updated_at


def fold(text: str) -> tuple[str, str]:
    """(what a reader sees before "…see more", the rest): cut after 3 lines or ~140 characters,
    at a space so no word is split."""
    lines = text.split("\n")
    head = "\n".join(lines[:FOLD_LINES])
    if len(head) > FOLD_CHARS:
        space = head.rfind(" ", 0, FOLD_CHARS + 1)
        head = head[: space if space > FOLD_CHARS // 2 else FOLD_CHARS]
    return head, text[len(head) :]


def _card(item: Content, authors: dict[uuid.UUID, str]) -> Card:
    hook, more = fold(item.text)
    author = authors.get(item.author_id, "A former member") if item.author_id else "A former member"
    return Card(item, author, hook, more)


@router.get("/approvals", response_class=HTMLResponse)
async def approvals(request: Request, session: SessionDep, caller: PageCaller) -> Response:
    queue = await service.review_queue(session, caller)
    members = await accounts.list_members(session, caller)
    authors = {user.id: user.name or user.email for _membership, user in members}
    cards = [_card(item, authors) for item in queue]
    return render(request, "approvals.html", caller=caller, active="approvals", cards=cards)


@router.get("/approvals/badge")
async def badge(session: SessionDep, caller: PageCaller) -> dict[str, int]:
    """How many drafts wait for the caller's decision (the navigation's badge)."""
    return {"count": await service.approvals_waiting_count(session, caller)}


class DecisionIn(Input):
    decision: Literal["approve", "reject"]
    comment: str = Field(default="", max_length=2000, description="Why, for the author (a rejection needs one)")


class DecisionOut(BaseModel):
    state: str
    version: int
    replayed: bool = Field(description="True when this Idempotency-Key was decided before: nothing was applied again")


def _version(if_match: str | None) -> int:
    # A decision taken offline must say which text it was about: the draft may have changed since.
    version = version_from(if_match)
    if version is None:
        raise PreconditionRequired('send If-Match: "<version>" with the version of the draft you decided on')
    return version


def _key(idempotency_key: str | None) -> str:
    # Without a key a phone's second replay would decide twice; its form is the service's to check.
    if idempotency_key is None:
        raise BadRequest("send an Idempotency-Key (e.g. a UUID made when the decision was taken) with each decision")
    return idempotency_key


@router.post("/approvals/{content_id}/decision")
async def decide(
    content_id: uuid.UUID,
    body: DecisionIn,
    session: SessionDep,
    caller: PageCaller,
    _csrf: CsrfHeaderChecked,
    response: Response,
    if_match: Annotated[str | None, Header()] = None,
    idempotency_key: Annotated[str | None, Header()] = None,
) -> DecisionOut:
    """Approve or reject a waiting draft: 200 {state, version, replayed}; 412 with the draft's
    current text and version when it changed since; 409 when its state forbids it; 403 when the
    caller may not decide. Errors are problem+json."""
    decided = await service.decide(
        session,
        caller,
        content_id,
        body.decision,
        comment=body.comment,
        if_match=_version(if_match),
        idempotency_key=_key(idempotency_key),
    )
    if decided.replayed:
        response.headers["Idempotent-Replayed"] = "true"
    return DecisionOut(state=decided.content.state, version=decided.content.version, replayed=decided.replayed)
