"""Job handlers for notifications: e-mail through the configured SMTP server."""

from __future__ import annotations

import asyncio
import smtplib
from email.message import EmailMessage

from pydantic import BaseModel, EmailStr

from autopilot.config import Settings
from autopilot.notifications.email import EMAIL_KIND
from autopilot.worker.policy import PermanentError, TransientError
from autopilot.worker.registry import JobContext, job


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
