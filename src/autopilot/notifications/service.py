"""Telling people, each by the channels they chose: in-app alerts, e-mail and Web Push.

- `notify` is what other domains call for an event of a known kind (kinds.py): it fans out per
  person by preference, in the caller's transaction (e-mails and pushes are ledger jobs, sent after
  it commits); a push due during the person's quiet hours waits for their end (the job's run_at).
- `alert_owners` records an organization's alert (shown in-app and on the Jobs page) and tells the
  owners by e-mail and push, per preference; `engine_alerts` does it for the job engine's outcomes.
- `approvals_waiting` queues the approvers' one collapsing "N drafts wait for your approval" push."""

from __future__ import annotations

import uuid
from collections.abc import Collection
from dataclasses import dataclass
from datetime import datetime, timedelta

from sqlalchemy import String, Uuid, column, func, select, table
from sqlalchemy.ext.asyncio import AsyncSession

from autopilot.accounts.service import APPROVER_ROLES, OWNER_ROLES, Caller, Contact, member_contacts
from autopilot.config import Settings
from autopilot.kit.time import utcnow
from autopilot.notifications import push
from autopilot.notifications.email import EMAIL_KIND, queue_email
from autopilot.notifications.kinds import EMAIL, IN_APP, KINDS, PUBLISHING_JOBS, PUSH, EventKind, event_of_alert
from autopilot.notifications.models import Alert
from autopilot.notifications.preferences import channels_of, quiet_hours_of
from autopilot.notifications.push import BODY_MAX, PUSH_KIND, PushMessage
from autopilot.worker.outcomes import JobEndedBadly, Listener, Outcome, WorkRunningLate

LATE_ALERT_QUIET = timedelta(hours=1)
_VERBS = {"held": "is on hold", "failed": "failed", "dead": "died"}
APPROVALS = KINDS["approvals_waiting"]
# Content's table, read as two plain columns: notifications may not import content (content calls
# notifications: the import back would be a cycle), and a count is all it needs.
_content = table("content_items", column("org_id", Uuid), column("state", String))
_APPROVALS_QUEUED = "notifications.approvals_queued"


def _short(text: str) -> str:
    return text if len(text) <= BODY_MAX else text[: BODY_MAX - 1] + "…"


@dataclass(frozen=True)
class Fanout:
    """One event on its way to people: the push as the device shows it, the e-mail's text, and a
    reference that names this fan-out (so each job is queued once)."""

    event: EventKind
    message: PushMessage
    subject: str
    text: str
    ref: str


async def _deliver(
    session: AsyncSession,
    org_id: uuid.UUID,
    fanout: Fanout,
    recipients: list[Contact],
    wanted: dict[uuid.UUID, set[str]],
    *,
    email: bool,
    push_too: bool,
) -> None:
    """E-mail and push to the recipients who want them."""
    event = fanout.event
    if email:
        for person in recipients:
            if EMAIL in wanted[person.user_id]:
                await queue_email(
                    session,
                    org_id=org_id,
                    to=person.email,
                    subject=fanout.subject,
                    body=fanout.text,
                    dedupe_key=f"{fanout.ref}:{person.user_id}",
                )
    if not push_too:
        return
    pushed = [p for p in recipients if PUSH in wanted[p.user_id]]
    devices = await push.devices_of(session, org_id, [p.user_id for p in pushed])
    quiet = await quiet_hours_of(session, org_id, list(devices))
    now = utcnow()
    for person in pushed:
        window = quiet.get(person.user_id)
        run_at = None if event.urgent or window is None else window.until(now, person.timezone)
        for device in devices.get(person.user_id, []):
            # A collapsing kind deferred to the same instant is queued once per device: its handler
            # reads the latest count when it sends.
            if event.topic and run_at is not None:
                key = f"{event.topic}:{device}:{run_at:%Y%m%dT%H%M}"
            else:
                key = f"{fanout.ref}:{device}"
            await push.queue(session, org_id, device, event, fanout.message, run_at=run_at, dedupe_key=key)


async def notify(
    session: AsyncSession,
    org_id: uuid.UUID,
    kind: str,
    title: str,
    body: str,
    url: str | None = None,
    user_ids: Collection[uuid.UUID] | None = None,
    *,
    email: bool = False,
    count: int | None = None,
) -> None:
    """Tell these members (default: the owners) of an event of *kind* (a key of kinds.KINDS), each
    by the channels they chose: an in-app alert, an e-mail (when *email*: SMTP is configured), and
    a push to each of their devices."""
    event = KINDS[kind]
    if user_ids is None:
        recipients = await member_contacts(session, org_id, roles=OWNER_ROLES)
    else:
        recipients = await member_contacts(session, org_id, user_ids=user_ids)
    wanted = await channels_of(session, org_id, [p.user_id for p in recipients], event)
    ref = f"notify-{uuid.uuid4().hex}"
    if any(IN_APP in channels for channels in wanted.values()):
        alert = Alert(org_id=org_id, kind=kind, message=body, job_id=None, created_at=utcnow())
        session.add(alert)
        await session.flush()
        ref = f"alert-{alert.id.hex}"
    message = PushMessage(
        kind=kind,
        title=title[:120],
        body=_short(body),
        url=url or event.url,
        tag=event.topic or f"{kind}-{ref[-12:]}",
        count=count,
    )
    fanout = Fanout(event, message, subject=title, text=body, ref=ref)
    await _deliver(session, org_id, fanout, recipients, wanted, email=email, push_too=True)


async def alert_owners(
    session: AsyncSession,
    org_id: uuid.UUID,
    *,
    kind: str,
    message: str,
    job_id: int | None = None,
    email: bool = False,
    quiet_for: timedelta | None = None,
    event: str | None = None,
    push_too: bool = True,
) -> Alert | None:
    """Record an alert and tell the owners by e-mail (when *email*) and push, per their preferences;
    *event* names its kind where the alert's own kind does not (kinds.EVENT_OF_ALERT). With
    *quiet_for*, skip it if one of the same kind was raised that recently."""
    now = utcnow()
    if quiet_for is not None and await _recent(session, org_id, kind, now - quiet_for):
        return None
    alert = Alert(org_id=org_id, kind=kind, message=message, job_id=job_id, created_at=now)
    session.add(alert)
    await session.flush()
    what = KINDS[event] if event else event_of_alert(kind)
    owners = await member_contacts(session, org_id, roles=OWNER_ROLES)
    wanted = await channels_of(session, org_id, [p.user_id for p in owners], what)
    ref = f"alert-{alert.id.hex}"
    note = PushMessage(
        kind=what.name, title=what.title, body=_short(message), url=what.url, tag=f"{what.name}-{ref[-12:]}"
    )
    subject = f"AutoPilot alert: {kind.replace('_', ' ')}"
    fanout = Fanout(what, note, subject=subject, text=message, ref=f"alert:{alert.id}")
    await _deliver(session, org_id, fanout, owners, wanted, email=email, push_too=push_too)
    return alert


def approvals_text(count: int) -> str:
    return "1 draft waits for your approval" if count == 1 else f"{count} drafts wait for your approval"


def approvals_message(count: int) -> PushMessage:
    """The approvers' collapsing notification: one per device, replaced by the next count."""
    topic = APPROVALS.topic or APPROVALS.name
    return PushMessage(
        kind=APPROVALS.name,
        title=APPROVALS.title,
        body=approvals_text(count),
        url=APPROVALS.url,
        tag=topic,
        count=count,
    )


async def pending_approvals(session: AsyncSession, org_id: uuid.UUID) -> int:
    """How many of the organization's drafts wait for approval."""
    query = (
        select(func.count())
        .select_from(_content)
        .where(_content.c.org_id == org_id, _content.c.state == "pending_approval")
    )
    return int(await session.scalar(query) or 0)


async def approvals_waiting(session: AsyncSession, org_id: uuid.UUID, *, email: bool = False) -> int:
    """Tell the organization's approvers how many drafts wait for them: one collapsing push per
    device (Topic "approvals": an offline phone gets only the latest count), queued once per
    transaction however many drafts it changed. Returns the count (0: nothing is sent)."""
    count = await pending_approvals(session, org_id)
    transaction = session.sync_session.get_transaction()
    queued: tuple[object, set[uuid.UUID]] | None = session.info.get(_APPROVALS_QUEUED)
    if queued is None or queued[0] is not transaction:
        queued = (transaction, set())
        session.info[_APPROVALS_QUEUED] = queued
    if count == 0 or org_id in queued[1]:
        return count
    queued[1].add(org_id)
    approvers = await member_contacts(session, org_id, roles=APPROVER_ROLES)
    wanted = await channels_of(session, org_id, [p.user_id for p in approvers], APPROVALS)
    message = approvals_message(count)
    fanout = Fanout(APPROVALS, message, subject=message.body, text=message.body, ref=f"approvals-{uuid.uuid4().hex}")
    await _deliver(session, org_id, fanout, approvers, wanted, email=email, push_too=True)
    return count


def engine_alerts(settings: Settings) -> Listener:
    """The job engine's outcome listener: owners hear of dead, failed and held jobs and of late
    work, in-app, by e-mail (with SMTP configured) and push, per their preferences. A job that
    publishes a post and ends badly is a failed or held post. A failed alert e-mail is not
    e-mailed, and a failed push is not pushed: that would loop."""
    email = bool(settings.smtp_host)

    async def listen(session: AsyncSession, outcome: Outcome) -> None:
        if isinstance(outcome, JobEndedBadly):
            event = None
            if outcome.kind in PUBLISHING_JOBS:
                event = "post_held" if outcome.status == "held" else "post_failed"
            await alert_owners(
                session,
                outcome.org_id,
                kind=f"job_{outcome.status}",
                job_id=outcome.job_id,
                message=f"Job {outcome.job_id} ({outcome.kind}) {_VERBS[outcome.status]} after attempt "
                f"{outcome.attempt}: {outcome.reason}",
                email=email and outcome.kind != EMAIL_KIND,
                event=event,
                push_too=outcome.kind != PUSH_KIND,
            )
        elif isinstance(outcome, WorkRunningLate):
            await alert_owners(
                session,
                outcome.org_id,
                kind="jobs_late",
                quiet_for=LATE_ALERT_QUIET,
                message=f"Scheduled work is running late: p99 lateness {outcome.p99_lateness_s:.0f} s over the "
                "last hour (goal: under 60 s). Check the workers.",
                email=email,
            )

    return listen


async def _recent(session: AsyncSession, org_id: uuid.UUID, kind: str, since: datetime) -> bool:
    query = select(Alert.id).where(Alert.org_id == org_id, Alert.kind == kind, Alert.created_at >= since).limit(1)
    return await session.scalar(query) is not None


async def recent_alerts(session: AsyncSession, org_id: uuid.UUID, limit: int = 50) -> list[Alert]:
    """The organization's newest alerts first."""
    query = select(Alert).where(Alert.org_id == org_id).order_by(Alert.created_at.desc()).limit(limit)
    return list(await session.scalars(query))


async def alerts_for(session: AsyncSession, caller: Caller, limit: int = 50) -> list[Alert]:
    """The organization's newest alerts, less the kinds the caller turned off in-app."""
    hidden = set()
    for kind in KINDS.values():
        if IN_APP in kind.offered:
            wanted = await channels_of(session, caller.org_id, [caller.user.id], kind)
            if IN_APP not in wanted[caller.user.id]:
                hidden.add(kind.name)
    return [a for a in await recent_alerts(session, caller.org_id, limit) if event_of_alert(a.kind).name not in hidden]
