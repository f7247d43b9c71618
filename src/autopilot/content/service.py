"""Content: write, approve, publish — and the publication itself, effectively once.

Publishing follows the contract's §8 (LinkedIn has no idempotency key):
1. the call is recorded before it is made (`attempts + 1`, state `publishing`, committed);
2. on 201 the post's URN is stored with the job's success, in one transaction;
3. an attempt whose answer was lost (timeout, reset, 5xx) is ambiguous: before the identical body
   is sent again, the member's recent posts are searched for it when the token may read them;
4. LinkedIn refusing the identical body as a duplicate proves our earlier call created the post:
   its URN is adopted — but only when an earlier call of ours exists (otherwise the duplicate is
   someone else's and the content fails with the reason); the text is never altered to dodge it.
A job that ends badly (held: reconnect or a retired API version; failed; out of attempts) sets the
content's state and reason through the engine's outcome hook."""

from __future__ import annotations

import re
import uuid
from collections.abc import Awaitable, Callable, Collection
from dataclasses import dataclass
from datetime import datetime
from typing import Any, TypeVar

from sqlalchemy import case, func, select, tuple_, update
from sqlalchemy.ext.asyncio import AsyncSession, async_sessionmaker

from autopilot.accounts.models import Role
from autopilot.accounts.service import Caller
from autopilot.analytics import service as analytics
from autopilot.config import Settings
from autopilot.content import media as media_checks
from autopilot.content.models import (
    PUBLISHABLE,
    REVISABLE,
    Content,
    ContentComment,
    ContentDecision,
    ContentEvent,
    ContentState,
    ContentVersion,
    Media,
)
from autopilot.content.schemas import ContentEdit, ContentIn
from autopilot.kit.crypto import KeyRing
from autopilot.kit.db import upsert_insert
from autopilot.kit.errors import Conflict, Forbidden, NotFound, PreconditionFailed, Unprocessable
from autopilot.kit.repository import TenantRepository
from autopilot.kit.time import utcnow
from autopilot.linkedin import service as linkedin
from autopilot.linkedin import text as little
from autopilot.linkedin.client import Duplicate, LinkedInClient, TokenRejected
from autopilot.linkedin.models import Integration, IntegrationStatus
from autopilot.notifications import service as notifications
from autopilot.worker import ledger
from autopilot.worker.outcomes import JobEndedBadly, Listener, Outcome
from autopilot.worker.policy import PermanentError
from autopilot.worker.registry import JobServices

PUBLISH_KIND = "content.publish"
COMMENT_KIND = "content.comment"
PUBLISH_ATTEMPTS = 8  # uncharged waits (429, holds) excluded; ambiguity resolves well before this
APPROVERS = {Role.OWNER, Role.ADMIN, Role.APPROVER}
T = TypeVar("T")
WriteTogether = Callable[[Callable[[AsyncSession, list[Any]], Awaitable[list[Any]]], Any], Awaitable[Any]]


class Contents(TenantRepository[Content]):
    model = Content
    noun = "content"


class Medias(TenantRepository[Media]):
    model = Media
    noun = "media"


contents, medias = Contents(), Medias()


def post_url(urn: str | None) -> str | None:
    return f"https://www.linkedin.com/feed/update/{urn}/" if urn else None


def validate_text(text: str) -> None:
    """Refuse what LinkedIn would refuse or silently cut, before any call."""
    if not text.strip():
        raise Unprocessable("the post has no text: write something before publishing")
    length = little.commentary_length(text)
    if length > little.COMMENTARY_LIMIT:
        raise Unprocessable(
            f"the post is {length:,} characters as LinkedIn counts them (reserved characters are sent escaped); "
            f"LinkedIn takes at most {little.COMMENTARY_LIMIT:,}: shorten it by {length - little.COMMENTARY_LIMIT:,}"
        )


# -- writing and approving --------------------------------------------------------------------


async def upload_media(session: AsyncSession, caller: Caller, filename: str, data: bytes) -> Media:
    filename = "".join(c for c in filename if c.isprintable())[:255] or "upload"  # no NUL or controls
    checked = media_checks.check(filename, data)
    item = Media(
        org_id=caller.org_id,
        kind=checked.kind,
        filename=filename[:255] or "upload",
        content_type=checked.content_type,
        size=len(data),
        width=checked.width,
        height=checked.height,
        data=data,
    )
    session.add(item)
    await session.flush()
    return item


async def create(session: AsyncSession, caller: Caller, data: ContentIn) -> Content:
    validate_text(data.text)
    if data.media_id is not None:
        await medias.get(session, caller.org_id, data.media_id)
    if data.integration_id is not None:
        await linkedin.integrations.get(session, caller.org_id, data.integration_id)
    item = Content(
        org_id=caller.org_id,
        author_id=caller.user.id,
        integration_id=data.integration_id,
        text=data.text,
        first_comment=data.first_comment,
        media_id=data.media_id,
        state=ContentState.DRAFT.value,
    )
    session.add(item)
    await session.flush()
    await _keep_version(session, item, caller.user.id)
    await record(session, item, caller.user.id, "created", "")
    return item


async def list_recent(session: AsyncSession, caller: Caller, limit: int = 50) -> list[Content]:
    query = contents.scoped(caller.org_id).order_by(Content.created_at.desc()).limit(limit)
    return list(await session.scalars(query))


async def _move(
    session: AsyncSession, item: Content, allowed: set[ContentState], refusal: str, **values: Any
) -> Content:
    """A guarded state change: exactly one of concurrent callers wins, the others get 409."""
    result = await session.execute(
        update(Content)
        .where(Content.id == item.id, Content.state.in_([s.value for s in allowed]))
        .values(updated_at=utcnow(), **values)
        .execution_options(synchronize_session=False)
    )
    if result.rowcount != 1:  # type: ignore[attr-defined]
        await session.refresh(item)
        raise Conflict(f"this content is {item.state}: {refusal}")
    await session.refresh(item)
    return item


async def approve(session: AsyncSession, caller: Caller, content_id: uuid.UUID, comment: str = "") -> Content:
    """Approve content (see `decide`), without an Idempotency-Key or If-Match."""
    return (await decide(session, caller, content_id, "approve", comment=comment)).content


async def revise(
    session: AsyncSession, caller: Caller, content_id: uuid.UUID, data: ContentEdit, *, if_match: int | None = None
) -> Content:
    """Change the text of content not yet on its way to LinkedIn. An approval does not survive an
    edit: approved or waiting content goes back to draft; scheduled content keeps its slot but must
    be approved again before it (otherwise it is held at the slot, never published unapproved)."""
    item = await contents.get(session, caller.org_id, content_id)
    _check_version(item, if_match)
    if item.state not in REVISABLE:
        raise Conflict(f"this content is {item.state}: it can no longer be changed")
    text = data.text if data.text is not None else item.text
    validate_text(text)
    was, approved = item.state, item.approved_at is not None
    state = ContentState.DRAFT.value if item.state == ContentState.APPROVED else item.state
    item = await _guarded(
        session, item, "it changed meanwhile; reload it", if_match=if_match, state=state, text=text,
        version=item.version + 1,
        first_comment=data.first_comment if data.first_comment is not None else item.first_comment,
        approved_by=None, approved_at=None,
    )  # fmt: skip
    await _keep_version(session, item, caller.user.id)
    await record(session, item, caller.user.id, "edited_after_approval" if approved else "edited", was)
    return item


# -- the review: request approval, approve, reject, comments, history, audit --------------------


@dataclass(frozen=True)
class Decided:
    content: Content
    replayed: bool  # the Idempotency-Key was seen before: this is the first decision's answer


DECISIONS = ("approve", "reject")


async def request_approval(session: AsyncSession, caller: Caller, content_id: uuid.UUID, comment: str = "") -> Content:
    """Ask the approvers to review a draft; it waits in their queue (and their phones are told)."""
    item = await contents.get(session, caller.org_id, content_id)
    validate_text(item.text)
    was = item.state
    item = await _move(
        session, item, {ContentState.DRAFT}, "only a draft can be sent for approval",
        state=ContentState.PENDING_APPROVAL.value,
    )  # fmt: skip
    await record(session, item, caller.user.id, "approval_requested", was, comment)
    if comment.strip():
        await add_comment(session, caller, item.id, comment)
    await notifications.approvals_waiting(session, item.org_id)  # one collapsing push per approver's device
    return item


async def decide(
    session: AsyncSession,
    caller: Caller,
    content_id: uuid.UUID,
    decision: str,
    *,
    comment: str = "",
    if_match: int | None = None,
    idempotency_key: str | None = None,
) -> Decided:
    """Approve or reject, at most once per (reviewer, Idempotency-Key): the key is claimed first, so
    a concurrent replay waits for the first and answers its outcome. With If-Match, a draft that
    changed since the reviewer read it answers 412 with the current text, and nothing is decided."""
    if decision not in DECISIONS:
        raise Unprocessable(f"decision must be one of {', '.join(DECISIONS)}")
    item = await contents.get(session, caller.org_id, content_id)
    if caller.role not in APPROVERS:
        raise Forbidden("only an owner, an admin or an approver can approve content or send it back")
    if decision == "reject" and not comment.strip():
        raise Unprocessable("say why in a comment: the author reads it to fix the draft")
    if idempotency_key is not None:
        replay = await _claim_key(session, caller, item, decision, idempotency_key)
        if replay is not None:
            return replay
    _check_version(item, if_match)
    was = item.state
    item = await (
        _approve(session, caller, item, if_match) if decision == "approve" else _reject(session, item, if_match)
    )
    await record(session, item, caller.user.id, "approved" if decision == "approve" else "rejected", was, comment)
    if comment.strip():
        await add_comment(session, caller, item.id, comment)
    if idempotency_key is not None:
        await session.execute(
            update(ContentDecision)
            .where(ContentDecision.user_id == caller.user.id, ContentDecision.idempotency_key == idempotency_key)
            .values(state=item.state, version=item.version)
        )
    return Decided(item, replayed=False)


async def _claim_key(session: AsyncSession, caller: Caller, item: Content, decision: str, key: str) -> Decided | None:
    """Claim the key in this transaction; None when it is ours, the first decision when it was taken."""
    if not 1 <= len(key) <= 100 or not key.isprintable():
        raise Unprocessable("Idempotency-Key must be 1 to 100 printable characters")
    values = dict(
        id=uuid.uuid4(), org_id=caller.org_id, user_id=caller.user.id, idempotency_key=key, content_id=item.id,
        decision=decision, state=item.state, version=item.version, created_at=utcnow(),
    )  # fmt: skip
    claimed = await session.scalar(
        upsert_insert(session, ContentDecision.__table__)
        .values(**values)
        .on_conflict_do_nothing()
        .returning(ContentDecision.id)
    )
    if claimed is not None:
        return None
    first = await session.scalar(
        select(ContentDecision).where(ContentDecision.user_id == caller.user.id, ContentDecision.idempotency_key == key)
    )
    assert first is not None  # the conflicting row is committed (its writer held the key until then)
    if first.content_id != item.id or first.decision != decision:
        raise Unprocessable("this Idempotency-Key was already used for another decision: send a new key")
    await session.refresh(item)
    return Decided(item, replayed=True)


async def _approve(session: AsyncSession, caller: Caller, item: Content, if_match: int | None) -> Content:
    validate_text(item.text)
    approval = {"approved_by": caller.user.id, "approved_at": utcnow()}
    if item.state in (ContentState.DRAFT, ContentState.PENDING_APPROVAL):
        return await _guarded(
            session, item, "it changed meanwhile; reload it", if_match=if_match,
            state=ContentState.APPROVED.value, **approval,
        )  # fmt: skip
    if item.state not in REVISABLE or item.approved_at is not None:
        raise Conflict(f"this content is {item.state}: it is already approved or on its way to LinkedIn")
    # Edited after its approval while scheduled (or held, failed, missed): approved again where it stands.
    return await _guarded(session, item, "it changed meanwhile; reload it", if_match=if_match, **approval)


async def _reject(session: AsyncSession, item: Content, if_match: int | None) -> Content:
    if item.state not in (ContentState.PENDING_APPROVAL, ContentState.APPROVED):
        refusal = (
            "take it off the queue first" if item.state == ContentState.SCHEDULED else "nothing waits for a decision"
        )
        raise Conflict(
            f"this content is {item.state}: only content waiting for approval (or approved) can be rejected; {refusal}"
        )
    return await _guarded(
        session, item, "it changed meanwhile; reload it", if_match=if_match,
        state=ContentState.DRAFT.value, approved_by=None, approved_at=None,
    )  # fmt: skip


async def bulk_approve(session: AsyncSession, caller: Caller, content_ids: list[uuid.UUID]) -> dict[uuid.UUID, str]:
    """Approve several drafts at once; each stands alone (one refused does not undo the others).
    Answers each id's new state, or the reason it was refused."""
    results: dict[uuid.UUID, str] = {}
    for content_id in dict.fromkeys(content_ids):
        try:
            async with session.begin_nested():
                results[content_id] = (await decide(session, caller, content_id, "approve")).content.state
        except (Conflict, NotFound, Unprocessable, PreconditionFailed) as exc:
            results[content_id] = f"refused: {exc.detail}"  # a caller who may not approve gets 403 whole
    return results


async def review_queue(session: AsyncSession, caller: Caller) -> list[Content]:
    """Drafts waiting for a decision, oldest first (empty for a caller who cannot approve)."""
    if caller.role not in APPROVERS:
        return []
    query = contents.scoped(caller.org_id).where(Content.state == ContentState.PENDING_APPROVAL.value)
    return list(await session.scalars(query.order_by(Content.updated_at, Content.id).limit(200)))


async def approvals_waiting_count(session: AsyncSession, caller: Caller) -> int:
    """How many drafts wait for this caller's decision (the badge on the phone)."""
    if caller.role not in APPROVERS:
        return 0
    query = (
        select(func.count())
        .select_from(Content)
        .where(Content.org_id == caller.org_id, Content.state == ContentState.PENDING_APPROVAL.value)
    )
    return int(await session.scalar(query) or 0)


async def add_comment(session: AsyncSession, caller: Caller, content_id: uuid.UUID, body: str) -> ContentComment:
    """Leave a remark on a draft."""
    item = await contents.get(session, caller.org_id, content_id)
    if not body.strip():
        raise Unprocessable("the comment is empty")
    comment = ContentComment(
        org_id=caller.org_id, content_id=item.id, author_id=caller.user.id, body=body.strip(), created_at=utcnow()
    )
    session.add(comment)
    await session.flush()
    return comment


async def comments_on(session: AsyncSession, caller: Caller, content_id: uuid.UUID) -> list[ContentComment]:
    """The remarks on a draft, oldest first."""
    item = await contents.get(session, caller.org_id, content_id)
    query = select(ContentComment).where(ContentComment.org_id == caller.org_id, ContentComment.content_id == item.id)
    return list(await session.scalars(query.order_by(ContentComment.created_at, ContentComment.id)))


async def latest_comments(
    session: AsyncSession, org_id: uuid.UUID, content_ids: list[uuid.UUID], per_post: int = 2
) -> dict[uuid.UUID, list[ContentComment]]:
    """The newest remarks on each of several posts (a list page shows why a draft came back)."""
    if not content_ids:
        return {}
    query = select(ContentComment).where(ContentComment.org_id == org_id, ContentComment.content_id.in_(content_ids))
    found: dict[uuid.UUID, list[ContentComment]] = {}
    for comment in await session.scalars(query.order_by(ContentComment.created_at.desc(), ContentComment.id)):
        kept = found.setdefault(comment.content_id, [])
        if len(kept) < per_post:
            kept.append(comment)
    return {content_id: kept[::-1] for content_id, kept in found.items()}


async def versions_of(session: AsyncSession, caller: Caller, content_id: uuid.UUID) -> list[ContentVersion]:
    """The edit history, newest first."""
    item = await contents.get(session, caller.org_id, content_id)
    query = select(ContentVersion).where(ContentVersion.org_id == caller.org_id, ContentVersion.content_id == item.id)
    return list(await session.scalars(query.order_by(ContentVersion.version.desc())))


async def events_of(session: AsyncSession, caller: Caller, content_id: uuid.UUID) -> list[ContentEvent]:
    """The audit log of one post, oldest first."""
    item = await contents.get(session, caller.org_id, content_id)
    query = select(ContentEvent).where(ContentEvent.org_id == caller.org_id, ContentEvent.content_id == item.id)
    return list(await session.scalars(query.order_by(ContentEvent.created_at, ContentEvent.id)))


async def record(
    session: AsyncSession, item: Content, actor_id: uuid.UUID | None, action: str, was: str, note: str = ""
) -> None:
    """Write who did what to *item* into its audit log (in the caller's transaction)."""
    session.add(
        ContentEvent(
            org_id=item.org_id, content_id=item.id, actor_id=actor_id, action=action, from_state=was,
            to_state=item.state, version=item.version, note=note[:2000], created_at=utcnow(),
        )
    )  # fmt: skip
    await session.flush()


async def _keep_version(session: AsyncSession, item: Content, editor_id: uuid.UUID) -> None:
    session.add(
        ContentVersion(
            org_id=item.org_id, content_id=item.id, version=item.version, text=item.text,
            first_comment=item.first_comment, edited_by=editor_id, created_at=utcnow(),
        )
    )  # fmt: skip
    await session.flush()


def _check_version(item: Content, if_match: int | None) -> None:
    if if_match is not None and item.version != if_match:
        raise PreconditionFailed(
            f"this draft changed since you read it (you had version {if_match}, it is now version "
            f"{item.version}): read the new text and decide again",
            current={"id": str(item.id), "version": item.version, "text": item.text, "state": item.state},
        )


async def _guarded(
    session: AsyncSession, item: Content, refusal: str, *, if_match: int | None = None, **values: Any
) -> Content:
    """Change *item* only if nobody changed it since it was read (same state, same version); one
    that changed meanwhile answers 412 to a caller who named the version it read (If-Match)."""
    result = await session.execute(
        update(Content)
        .where(Content.id == item.id, Content.state == item.state, Content.version == item.version)
        .values(updated_at=utcnow(), **values)
        .execution_options(synchronize_session=False)
    )
    if result.rowcount != 1:  # type: ignore[attr-defined]
        await session.refresh(item)
        _check_version(item, if_match)
        raise Conflict(f"this content is {item.state}: {refusal}")
    await session.refresh(item)
    return item


async def publishing_integration(session: AsyncSession, caller: Caller, item: Content) -> Integration:
    if item.integration_id is not None:
        integration = await linkedin.integrations.get(session, caller.org_id, item.integration_id)
    else:
        connected = [i for i in await linkedin.list_integrations(session, caller) if i.status != "disconnected"]
        if not connected:
            raise Conflict("no LinkedIn account is connected: connect one on the Integrations page first")
        integration = connected[0]
    if integration.status == IntegrationStatus.DISCONNECTED.value:
        raise Conflict("that LinkedIn account was disconnected: connect it again first")
    if not linkedin.capabilities(integration.scope_set).can_post:
        raise Conflict("that LinkedIn connection may not post (w_member_social was not granted): reconnect it")
    return integration


async def publish(session: AsyncSession, caller: Caller, content_id: uuid.UUID) -> Content:
    """Publish approved content now, through the job engine (one job per request that wins)."""
    return await start_publication(session, caller, content_id, kind=PUBLISH_KIND)


async def start_publication(
    session: AsyncSession,
    caller: Caller,
    content_id: uuid.UUID,
    *,
    kind: str,
    run_at: datetime | None = None,
    payload: dict[str, Any] | None = None,
) -> Content:
    """Put approved content on its way: state `scheduled` and a job of *kind* at *run_at* (now by
    default) in the same transaction. Exactly one of concurrent callers wins; the others get 409."""
    item = await contents.get(session, caller.org_id, content_id)
    if item.state not in PUBLISHABLE or item.approved_at is None:
        raise Conflict(f"this content is {item.state}: only approved content can be published or scheduled")
    validate_text(item.text)
    integration = await publishing_integration(session, caller, item)
    was = item.state
    item = await _move(
        session, item, PUBLISHABLE, "it is already scheduled, being published or was published",
        state=ContentState.SCHEDULED.value, integration_id=integration.id, last_error="",
    )  # fmt: skip
    if item.publish_job_id is not None:  # a held job of an earlier try must not run beside the new one
        await ledger.cancel_waiting(session, item.publish_job_id)
    await record(session, item, caller.user.id, "scheduled", was, _when(run_at))
    return await _enqueue(session, item, kind, run_at, payload)


def _when(run_at: datetime | None) -> str:
    return f"for {run_at:%Y-%m-%d %H:%M} UTC" if run_at is not None else "to publish now"


async def _enqueue(
    session: AsyncSession, item: Content, kind: str, run_at: datetime | None, payload: dict[str, Any] | None
) -> Content:
    job_id = await ledger.enqueue(
        session, kind=kind, payload={"content_id": str(item.id), **(payload or {})}, org_id=item.org_id,
        run_at=run_at, max_attempts=PUBLISH_ATTEMPTS,
    )  # fmt: skip
    item.publish_job_id = job_id
    await session.flush()
    return item


async def move_publication(
    session: AsyncSession, org_id: uuid.UUID, content_id: uuid.UUID, *, kind: str, run_at: datetime,
    payload: dict[str, Any] | None = None, actor_id: uuid.UUID | None = None,
) -> Content:  # fmt: skip
    """Give scheduled content a new time: its waiting job is cancelled (guarded: a job already
    claimed cannot be) and a new one planned, in one transaction."""
    item = await contents.get(session, org_id, content_id)
    if item.state != ContentState.SCHEDULED or item.publish_job_id is None:
        raise Conflict(f"this content is {item.state}: only scheduled content can be moved")
    if not await ledger.cancel_waiting(session, item.publish_job_id):
        raise Conflict("this content is being published right now: it can no longer be moved")
    await record(session, item, actor_id, "moved", item.state, _when(run_at))
    return await _enqueue(session, item, kind, run_at, payload)


async def withdraw(
    session: AsyncSession, org_id: uuid.UUID, content_id: uuid.UUID, actor_id: uuid.UUID | None = None
) -> Content:
    """Take scheduled content off its way: back to approved (or draft, if its approval was lost)."""
    item = await contents.get(session, org_id, content_id)
    if item.state != ContentState.SCHEDULED:
        raise Conflict(f"this content is {item.state}: only scheduled content can be taken off the queue")
    if item.publish_job_id is not None and not await ledger.cancel_waiting(session, item.publish_job_id):
        raise Conflict("this content is being published right now: it can no longer be cancelled")
    back = ContentState.APPROVED if item.approved_at is not None else ContentState.DRAFT
    item = await _guarded(session, item, "it changed meanwhile; reload it", state=back.value, publish_job_id=None)
    await record(session, item, actor_id, "unscheduled", ContentState.SCHEDULED.value)
    return item


async def say(session: AsyncSession, org_id: uuid.UUID, content_id: uuid.UUID, status: str) -> None:
    """Put a word in the content's status (why it waits) without changing its state."""
    await session.execute(
        update(Content)
        .where(Content.org_id == org_id, Content.id == content_id, Content.post_urn.is_(None))
        .values(last_error=status[:2000], updated_at=utcnow())
        .execution_options(synchronize_session=False)
    )


async def set_aside(
    session: AsyncSession, org_id: uuid.UUID, content_id: uuid.UUID, job_id: int, state: ContentState, reason: str
) -> bool:
    """Hold or mark missed the content a job was to publish, with the reason; a no-op (False) when
    another job owns it by now or it was published."""
    assert state in (ContentState.HELD, ContentState.MISSED)
    before = await contents.find(session, org_id, content_id)
    result = await session.execute(
        update(Content)
        .where(
            Content.org_id == org_id, Content.id == content_id, Content.publish_job_id == job_id,
            Content.post_urn.is_(None), Content.state.in_([ContentState.SCHEDULED.value, ContentState.HELD.value]),
        )
        .values(state=state.value, last_error=reason[:2000], updated_at=utcnow())
        .execution_options(synchronize_session=False)
    )  # fmt: skip
    if result.rowcount != 1 or before is None:  # type: ignore[attr-defined]
        return False
    was = before.state
    await session.refresh(before)
    await record(session, before, None, state.value, was, reason)
    return True


async def get(session: AsyncSession, caller: Caller, content_id: uuid.UUID) -> Content:
    return await contents.get(session, caller.org_id, content_id)


# -- the publication (a job) ------------------------------------------------------------------


_TEMPLATE_TAG = re.compile(r"\{hashtag\|\\#\|([^}]*)\}")


def _same_commentary(ours: str, theirs: str) -> bool:
    """LinkedIn gives hashtags back as `{hashtag|\\#|word}`; compare in our form."""
    return _TEMPLATE_TAG.sub(lambda m: "#" + m.group(1), theirs) == ours


@dataclass(frozen=True)
class Prepared:
    """What a publish attempt reads before its call (Publication.prepare)."""

    item: Content | None
    integration: Integration | None  # None: the content is gone or has no account chosen
    attached: Media | None
    token: str | None  # usable as read, or None: access_token refreshes it (or says why it cannot)


async def prepare_many(
    session: AsyncSession, ring: KeyRing, keys: Collection[tuple[uuid.UUID, uuid.UUID]]
) -> dict[tuple[uuid.UUID, uuid.UUID], Prepared]:
    """What publish attempts need, for many (organization, content) pairs, read in the caller's
    read transaction with one query per table (slot jobs of a rush read together, each with its
    queue entry): the content, the token, the integration and the media. The tokens are read
    before the integrations, as `linkedin.access_token` explains."""
    items = await contents.find_many(session, keys)
    accounts = {(org, item.integration_id) for (org, _id), item in items.items() if item.integration_id}
    tokens = await linkedin.stored_access_tokens(session, ring, accounts)
    integrations = await linkedin.integrations.find_many(session, accounts)
    attachments = {(org, item.media_id) for (org, _id), item in items.items() if item.media_id}
    media = await medias.find_many(session, attachments)
    prepared: dict[tuple[uuid.UUID, uuid.UUID], Prepared] = {}
    for key in keys:
        item = items.get(key)
        integration = integrations.get((key[0], item.integration_id)) if item and item.integration_id else None
        if item is None or integration is None:
            prepared[key] = Prepared(item, None, None, None)
            continue
        token = tokens.get((key[0], integration.id)) if linkedin.usable_now(integration) else None
        attached = media.get((key[0], item.media_id)) if item.media_id else None
        prepared[key] = Prepared(item, integration, attached, token)
    return prepared


@dataclass(frozen=True)
class Published:
    """A post LinkedIn created for a content item: what its publish job's success records."""

    org_id: uuid.UUID
    content_id: uuid.UUID
    urn: str
    integration_id: uuid.UUID | None
    text: str
    media_kind: str


async def record_published(session: AsyncSession, items: list[Published]) -> list[Published]:
    """Store the URNs of posts LinkedIn created, many at once (the publish jobs' successes, batched
    by the engine: one UPDATE for all, instead of a transaction each): the content is published,
    its first comment planned, analytics keeps the post. Returns the items whose content still
    exists (one deleted meanwhile has nothing left to record)."""
    now = utcnow()
    urns = {p.content_id: p.urn for p in items}
    rows = await session.execute(
        update(Content)
        .where(
            Content.id.in_([p.content_id for p in items]),  # the key's index: SQLite scans for a row-value IN
            tuple_(Content.org_id, Content.id).in_([(p.org_id, p.content_id) for p in items]),
        )
        .values(
            state=ContentState.PUBLISHED.value, post_urn=case(urns, value=Content.id), published_at=now,
            last_error="", updated_at=now,
        )
        .returning(Content.id, Content.first_comment)
        .execution_options(synchronize_session=False)
    )  # fmt: skip
    found: dict[uuid.UUID, str] = {content_id: first_comment for content_id, first_comment in rows}
    kept = [p for p in items if p.content_id in found]
    for p in kept:
        if found[p.content_id].strip():
            await ledger.enqueue(
                session,
                kind=COMMENT_KIND,
                payload={"content_id": str(p.content_id)},
                org_id=p.org_id,
                dedupe_key=f"comment:{p.content_id}",
            )
    # Analytics keeps the posts and plans their first metrics reads (issue 11).
    await analytics.track_published_many(
        session,
        [
            analytics.PublishedPost(p.org_id, p.content_id, p.integration_id, p.urn, now, p.text, p.media_kind)
            for p in kept
        ],
    )
    return kept


@dataclass(frozen=True)
class AttemptCall:
    """A publish attempt about to call LinkedIn (see `record_attempts`)."""

    settings: Settings
    org_id: uuid.UUID
    content_id: uuid.UUID
    version: int  # the version read and approved
    integration: Integration


async def record_attempts(session: AsyncSession, calls: list[AttemptCall]) -> list[int | BaseException]:
    """Record publish attempts before their calls, many at once: each content's attempts + 1 and
    state `publishing`, guarded on the version that was read and on the approval (an edit that
    landed since the read stops that attempt: PermanentError), then the day's LinkedIn budgets
    counted for the calls that go ahead (one statement; on PostgreSQL the app's hot budget row is
    locked last, for the least time). A spent budget raises RateLimited and the transaction counts
    nothing (the engine then records the attempts one by one). Per call: the calls made before it."""
    if len({c.content_id for c in calls}) < len(calls):
        raise ValueError("the same content twice in one batch of attempts")  # recorded one by one instead
    read = [(c.org_id, c.content_id, c.version) for c in calls]
    earlier = {
        content_id: int(before)
        for content_id, before in await session.execute(
            update(Content)
            .where(
                Content.id.in_([c.content_id for c in calls]),  # the key's index (see record_published)
                tuple_(Content.org_id, Content.id, Content.version).in_(read),
                Content.approved_at.is_not(None), Content.post_urn.is_(None),
            )
            .values(attempts=Content.attempts + 1, state=ContentState.PUBLISHING.value, updated_at=utcnow())
            .returning(Content.id, Content.attempts - 1)
            .execution_options(synchronize_session=False)
        )
    }  # fmt: skip
    going = [c for c in calls if c.content_id in earlier]
    if going:
        await linkedin.spend_many(session, going[0].settings, [c.integration for c in going], "posts.create")
    edited = "the content was edited after it was approved: approve it again, then publish it"
    return [earlier[c.content_id] if c.content_id in earlier else PermanentError(edited) for c in calls]


class Publication:
    """One attempt of the publish job for one piece of content."""

    def __init__(
        self,
        sessions: async_sessionmaker[AsyncSession],
        services: JobServices,
        org_id: uuid.UUID,
        content_id: uuid.UUID,
        together: WriteTogether | None = None,
    ) -> None:
        self.sessions, self.services, self.org_id, self.content_id = sessions, services, org_id, content_id
        self.together = together  # the engine's JobContext.write_together: attempts recorded in batches
        self.settings: Settings = services.settings
        self.readers = services.readers or sessions  # reads never queue for SQLite's write lock

    async def prepare(self, session: AsyncSession) -> Prepared:
        """What an attempt needs, read in the caller's read transaction: `prepare_many` for one."""
        key = (self.org_id, self.content_id)
        return (await prepare_many(session, self.services.keyring, [key]))[key]

    async def _read(self) -> tuple[Content, Integration, Media | None, str | None]:
        async with self.readers() as session:
            return self.checked(await self.prepare(session))

    def checked(self, read: Prepared) -> tuple[Content, Integration, Media | None, str | None]:
        if read.item is None:
            raise PermanentError(f"content {self.content_id} no longer exists")
        if read.integration is None:
            raise PermanentError("no LinkedIn account is chosen for this content")
        return read.item, read.integration, read.attached, read.token

    async def _with_token(
        self, integration: Integration, call: Callable[[str], Awaitable[T]], token: str | None = None
    ) -> T:
        """Run *call* with a valid token (*token*, read with the content, when it was usable);
        after a 401 for an expired token, refresh once and retry (a 401 means LinkedIn did
        nothing, so the retry is safe)."""
        args = (self.sessions, self.settings, self.services.http, self.services.keyring, self.org_id, integration.id)
        if token is None:
            token, _ = await linkedin.access_token(*args, readers=self.readers)
        try:
            return await call(token)
        except TokenRejected as rejected:
            token, _ = await linkedin.token_rejected(*args, rejected, token)
            return await call(token)

    async def run(self, prepared: Prepared | None = None) -> Published | None:
        """Publish unless an earlier attempt did; what the job's success must record (None:
        nothing, it was recorded before). The caller hands it to `record_published` with the
        job's success (JobContext.finish_with): the URN is stored exactly when the job succeeds.
        *prepared*: what `prepare` read in the caller's transaction (otherwise read here)."""
        item, integration, attached, token = self.checked(prepared) if prepared else await self._read()
        if item.post_urn:
            return None  # published by an earlier attempt
        if item.approved_at is None:
            raise PermanentError("the content is not approved")
        validate_text(item.text)
        commentary = little.escape(item.text)
        async with linkedin.client(self.settings, self.services.http) as api:
            if item.attempts > 0:
                found = await self._reconcile(api, integration, commentary)
                if found is not None:
                    return self._published(found, item, attached)
            body = await self._body(api, integration, commentary, attached)
            await linkedin.pace(self.sessions, self.settings, "posts.create")
            earlier_calls = await self._record_attempt(item, integration)
            outcome = await self._with_token(integration, lambda token: api.create_post(token, body), token)
        if isinstance(outcome, Duplicate):
            if earlier_calls == 0:
                raise PermanentError(
                    f"LinkedIn refused the text as a duplicate of {outcome.urn}, a post this app did not make; "
                    "it was not changed to get around that: edit the text or check the existing post"
                )
            outcome = outcome.urn  # our earlier, ambiguous call created it (contract §8)
        return self._published(outcome, item, attached)

    async def _reconcile(self, api: LinkedInClient, integration: Integration, commentary: str) -> str | None:
        """An earlier call may have created the post: look for it among the member's recent posts
        (when the token may read them; otherwise resending the identical body finds it as a duplicate).
        Its URN, or None."""
        if not linkedin.capabilities(integration.scope_set).can_read_posts:
            return None
        posts = await self._with_token(integration, lambda token: api.recent_posts(token, integration.author_urn))
        for post in posts:
            if _same_commentary(commentary, str(post.get("commentary", ""))) and post.get("id"):
                return str(post["id"])
        return None

    async def _body(
        self, api: LinkedInClient, integration: Integration, commentary: str, attached: Media | None
    ) -> dict[str, Any]:
        body: dict[str, Any] = {
            "author": integration.author_urn,
            "commentary": commentary,
            "visibility": "PUBLIC",
            "distribution": {
                "feedDistribution": "MAIN_FEED",
                "targetEntities": [],
                "thirdPartyDistributionChannels": [],
            },
            "lifecycleState": "PUBLISHED",
            "isReshareDisabledByAuthor": False,
        }
        if attached is not None:
            urn = attached.asset_urn if attached.asset_integration_id == integration.id else None
            if urn is None:
                urn = await self._upload(api, integration, attached)
            body["content"] = {
                "media": {"id": urn, **({"title": attached.filename} if attached.kind == "document" else {})}
            }
        return body

    async def _upload(self, api: LinkedInClient, integration: Integration, attached: Media) -> str:
        """Upload the file (safe to repeat: an unused asset is harmless) and remember its URN."""

        async def send(token: str) -> str:
            upload_url, urn = await api.initialize_upload(token, attached.kind, integration.author_urn)
            await api.upload(token, upload_url, attached.data, attached.content_type)
            return urn

        urn = await self._with_token(integration, send)
        async with self.sessions() as session, session.begin():
            await session.execute(
                update(Media).where(Media.id == attached.id).values(asset_urn=urn, asset_integration_id=integration.id)
            )
        return urn

    async def _record_attempt(self, read: Content, integration: Integration) -> int:
        """Count the call before making it, durably, with the day's LinkedIn budgets (one write
        transaction, shared with other publish jobs' when run by the engine): the next attempt then
        knows a post may exist. The calls made before this one."""
        call = AttemptCall(self.settings, self.org_id, self.content_id, read.version, integration)
        if self.together is not None:
            return int(await self.together(record_attempts, call))
        async with self.sessions() as session, session.begin():
            (earlier,) = await record_attempts(session, [call])
        if isinstance(earlier, BaseException):
            raise earlier
        return earlier

    def _published(self, urn: str, item: Content, attached: Media | None) -> Published:
        # The text is the one read and approved: `_record_attempt` refused the call after any edit.
        kind = attached.kind if attached is not None else "text"
        return Published(self.org_id, self.content_id, urn, item.integration_id, item.text, kind)

    async def comment(self, session: AsyncSession) -> None:
        """The optional first comment, as the author, once the post exists."""
        item, integration, _, token = await self._read()
        if not item.post_urn or item.comment_urn:
            return
        text = little.escape(item.first_comment)
        async with linkedin.client(self.settings, self.services.http) as api:
            urn = await self._with_token(
                integration, lambda token: api.comment(token, str(item.post_urn), integration.author_urn, text), token
            )
        found = await contents.get(session, self.org_id, self.content_id)
        found.comment_urn = urn or "created"
        await session.flush()


def publish_outcomes(settings: Settings) -> Listener:
    """The engine's outcome listener: a job that publishes content (publish now, or at a slot)
    held, failed or out of attempts puts its content in `held` or `failed`, with the reason, in
    the same transaction."""

    async def listen(session: AsyncSession, outcome: Outcome) -> None:
        if not isinstance(outcome, JobEndedBadly):
            return  # any job kind that publishes content is named by the content's publish_job_id
        state = ContentState.HELD if outcome.status == "held" else ContentState.FAILED
        await session.execute(
            update(Content)
            .where(
                Content.org_id == outcome.org_id,
                Content.publish_job_id == outcome.job_id,
                Content.post_urn.is_(None),
            )
            .values(state=state.value, last_error=outcome.reason[:2000], updated_at=utcnow())
            .execution_options(synchronize_session=False)
        )

    return listen


async def media_or_404(session: AsyncSession, caller: Caller, media_id: uuid.UUID) -> Media:
    found = await medias.find(session, caller.org_id, media_id)
    if found is None:
        raise NotFound(f"no media with id {media_id}")
    return found
