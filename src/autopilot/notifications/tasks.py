"""Job handlers for notifications: e-mail through the configured SMTP server, Web Push with pywebpush."""

from __future__ import annotations

import asyncio
import smtplib
from datetime import datetime
from email.message import EmailMessage
from urllib.parse import urlsplit

import httpx
import requests
import structlog
from pydantic import BaseModel, EmailStr
from pywebpush import WebPushException, webpush

from autopilot.config import Settings
from autopilot.kit.time import utcnow
from autopilot.notifications import push, service, vapid
from autopilot.notifications.email import EMAIL_KIND
from autopilot.notifications.models import PushSubscription
from autopilot.notifications.push import PUSH_ATTEMPTS, PUSH_KIND, PushJob, PushMessage
from autopilot.notifications.vapid import ServerKey
from autopilot.worker.policy import JobError, PermanentError, RateLimited, TransientError, retry_after_seconds
from autopilot.worker.registry import JobContext, job

log = structlog.get_logger("autopilot.notifications")
VAPID_TOKEN_S = 12 * 3600  # RFC 8292 allows up to 24 h; half leaves room for clock skew


class EmailPayload(BaseModel):
    to: EmailStr
    subject: str
    body: str


def _send(settings: Settings, message: EmailMessage) -> None:
    with smtplib.SMTP(settings.smtp_host, settings.smtp_port, timeout=30) as smtp:
        if settings.smtp_username:
            smtp.starttls()
            smtp.login(settings.smtp_username, settings.smtp_password)
        smtp.send_message(message)


@job(EMAIL_KIND, payload=EmailPayload, max_attempts=5)
async def send_email(ctx: JobContext, payload: EmailPayload) -> None:
    """Send one e-mail; the Message-ID carries the idempotency key so a retry is recognisable."""
    settings = ctx.services.settings
    if not settings.smtp_host:
        raise PermanentError("no SMTP server is configured (AUTOPILOT_SMTP_HOST)")
    message = EmailMessage()
    message["From"] = settings.smtp_from
    message["To"] = payload.to
    message["Subject"] = payload.subject
    message["Message-ID"] = f"<{ctx.idempotency_key}@autopilot>"
    message.set_content(payload.body)
    try:
        await asyncio.to_thread(_send, settings, message)
    except smtplib.SMTPRecipientsRefused as exc:
        raise PermanentError(f"the SMTP server refused the recipient: {exc}") from exc
    except (OSError, smtplib.SMTPException) as exc:
        raise TransientError(f"SMTP failed: {type(exc).__name__}") from exc


def _post(job: PushJob, target: PushSubscription, message: PushMessage, key: ServerKey, settings: Settings) -> None:
    """Blocking (requests, through pywebpush): run off the event loop. The claims are a fresh dict
    per call: pywebpush writes `aud` into the dict it is given."""
    parts = urlsplit(target.endpoint)
    claims: dict[str, str | int] = {
        "sub": settings.push_contact,
        "aud": f"{parts.scheme}://{parts.netloc}",
        "exp": int(utcnow().timestamp()) + VAPID_TOKEN_S,
    }
    headers: dict[str, str | int | float] = {"Urgency": job.urgency}
    if job.topic:
        headers["Topic"] = job.topic
    webpush(
        subscription_info={"endpoint": target.endpoint, "keys": {"p256dh": target.p256dh, "auth": target.auth}},
        data=message.model_dump_json(exclude_none=True),
        vapid_private_key=key.signer,
        vapid_claims=claims,
        ttl=job.ttl,
        headers=headers,
        timeout=settings.push_timeout_s,
    )


def _refusal(exc: WebPushException, now: datetime) -> JobError:
    """What the push service's answer means for the job (RFC 8030 §5, §7.2, §8.4; RFC 8292 §4.2)."""
    status = exc.status_code
    if status == 429:
        retry_after = exc.retry_after
        wait = retry_after_seconds(httpx.Response(429, headers={"retry-after": retry_after or ""}), now)
        return RateLimited("the push service asks us to slow down (429)", retry_after_s=wait)
    if status is None or status >= 500:
        # A push sent twice shows one notification (same tag), so retrying is safe.
        return TransientError(f"the push service answered {status or 'nothing'}")
    reason = {
        400: "the push service refused the message as malformed (400)",
        401: "the push service wants a VAPID signature (401)",
        403: "the push service refused our VAPID signature (403): was the device subscribed with another "
        "application server key (AUTOPILOT_VAPID_PRIVATE_KEY changed)? It must subscribe again",
        413: "the message is larger than the push service accepts (413)",
    }.get(status, f"the push service refused the message ({status})")
    return PermanentError(reason)


@job(PUSH_KIND, payload=PushJob, max_attempts=PUSH_ATTEMPTS)
async def send_push(ctx: JobContext, payload: PushJob) -> None:
    """Encrypt and send one notification to one device with pywebpush. A device the push service
    no longer knows (404/410) is forgotten; 429 waits for Retry-After; 5xx and network trouble retry."""
    assert ctx.org_id is not None, "pushes belong to an organization"
    services = ctx.services
    # Before the job's own transaction opens: a first use stores the key pair in its own (SQLite has one writer).
    key = await vapid.server_key(ctx.sessions, services.settings, services.keyring)
    message = payload.message
    async with ctx.readers() as reading:
        target = await push.target(reading, ctx.org_id, payload.subscription_id)
        if target is not None and message.kind == service.APPROVALS.name:
            count = await service.pending_approvals(reading, ctx.org_id)  # the latest count, not the queued one
            if count == 0:
                return
            message = service.approvals_message(count)
    if target is None:
        return  # the device was removed meanwhile
    try:
        await asyncio.to_thread(_post, payload, target, message, key, services.settings)
    except WebPushException as exc:
        if exc.status_code in (404, 410):
            await push.gone(ctx.session, target.id)
            log.info("push subscription gone", subscription_id=str(target.id), status=exc.status_code)
            return
        await push.count_failure(ctx.sessions, target.id)
        raise _refusal(exc, services.clock()) from exc
    except requests.RequestException as exc:
        await push.count_failure(ctx.sessions, target.id)
        raise TransientError(f"the push service could not be reached: {type(exc).__name__}") from exc
    await push.delivered(ctx.session, target.id)
