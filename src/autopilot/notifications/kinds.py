"""The kinds of event a person can be told about, and how each travels: which channels it offers
and uses by default, and, for Web Push, its TTL, Urgency (RFC 8030 §5.2-5.3) and Topic (§5.4)."""

from __future__ import annotations

from dataclasses import dataclass

PUSH, EMAIL, IN_APP = "push", "email", "in_app"
CHANNELS = (PUSH, EMAIL, IN_APP)
HOUR = 3600


@dataclass(frozen=True)
class EventKind:
    name: str
    label: str  # what the preferences page calls it
    title: str  # the notification's title
    url: str  # the page a tap on the notification opens
    ttl_s: int  # how long a push service keeps the message for a phone that is offline
    urgency: str  # very-low | low | normal | high
    defaults: frozenset[str]  # the channels used until the person chooses
    offered: frozenset[str] = frozenset(CHANNELS)
    # A message with the Topic of one still waiting replaces it: for a counter, only the latest matters.
    topic: str | None = None
    # Urgent kinds are pushed during quiet hours too: a post that did not go out at its slot may
    # still be published by hand while its moment lasts (06:30 posts fall in most people's quiet
    # hours). Everything else waits for the end of the quiet period.
    urgent: bool = False


# E-mail too for everything but the approvals counter: failures, and what will fail if nobody acts.
_ALL = frozenset(CHANNELS)

KINDS: dict[str, EventKind] = {
    kind.name: kind
    for kind in (
        # One collapsing notification with the count; short-lived, since the next change replaces it.
        # In-app, the Approvals page is where drafts wait: no alert for it.
        EventKind(
            "approvals_waiting", "Drafts waiting for your approval", "Approvals", "/approvals",
            ttl_s=HOUR, urgency="normal", defaults=frozenset({PUSH}), offered=frozenset({PUSH, EMAIL}),
            topic="approvals",
        ),
        EventKind(
            "token_expiring", "LinkedIn connection expiring or lost", "LinkedIn needs you", "/integrations",
            ttl_s=24 * HOUR, urgency="normal", defaults=_ALL,
        ),
        EventKind(
            "post_failed", "A post failed", "A post failed", "/posts",
            ttl_s=12 * HOUR, urgency="high", defaults=_ALL, urgent=True,
        ),
        EventKind(
            "post_held", "A post was held", "A post was held", "/posts",
            ttl_s=12 * HOUR, urgency="high", defaults=_ALL, urgent=True,
        ),
        EventKind(
            "post_missed", "A post missed its slot", "A post missed its slot", "/posts",
            ttl_s=12 * HOUR, urgency="high", defaults=_ALL, urgent=True,
        ),
        EventKind(
            "post_at_risk", "A scheduled post will not go out as things stand", "A post needs you", "/calendar",
            ttl_s=6 * HOUR, urgency="normal", defaults=_ALL,
        ),
        EventKind(
            "jobs", "Background work failed or is late", "Background work", "/jobs",
            ttl_s=24 * HOUR, urgency="low", defaults=_ALL,
        ),
    )
}  # fmt: skip

# Alerts raised through `alert_owners` (by their alert kind) and the event kind they are.
EVENT_OF_ALERT = {
    "post_held": "post_held",
    "post_missed": "post_missed",
    "post_failed": "post_failed",
    "linkedin_expiring": "token_expiring",
    "linkedin_reconnect": "token_expiring",
    "preflight": "post_at_risk",
}
DEFAULT_EVENT = "jobs"  # dead and failed jobs, late work, pacing: the operational alerts
# The job kinds that publish a post (content's "publish now" and scheduling's "at the slot"): one
# of them ending badly is a post that failed or was held, not just a job. Named here as strings,
# since notifications may not import the domains that call it.
PUBLISHING_JOBS = frozenset({"content.publish", "schedule.publish"})


def event_of_alert(alert_kind: str) -> EventKind:
    """The event kind an alert is: its own kind when it is one (`notify`), else by the table."""
    return KINDS.get(alert_kind) or KINDS[EVENT_OF_ALERT.get(alert_kind, DEFAULT_EVENT)]
