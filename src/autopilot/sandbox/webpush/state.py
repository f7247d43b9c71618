"""The emulator's memory: subscriptions (with the browser's private keys), the messages each one
received, and the faults a test asked for. One lock guards it: uvicorn may serve requests on
several threads' worth of tasks, and a test reads while the app writes."""

from __future__ import annotations

import itertools
import secrets
import threading
from dataclasses import dataclass, field
from datetime import UTC, datetime
from typing import Any

from autopilot.sandbox.webpush.crypto import UserAgentKeys, b64url

FAULT_STATUSES = (404, 410, 413, 429, 500, 503)


@dataclass
class Fault:
    """Answer *status* to the next pushes (all of them while *times* is None)."""

    status: int
    retry_after: int | None = None
    times: int | None = None

    def as_json(self) -> dict[str, Any]:
        return {"status": self.status, "retry_after": self.retry_after, "times": self.times}


@dataclass
class Message:
    id: int
    payload: str
    ttl: int
    urgency: str
    topic: str | None
    claims: dict[str, Any]
    received_at: datetime
    delivered: bool = False

    def as_json(self) -> dict[str, Any]:
        return {
            "id": self.id,
            "payload": self.payload,
            "ttl": self.ttl,
            "urgency": self.urgency,
            "topic": self.topic,
            "claims": self.claims,
            "received_at": self.received_at.isoformat(),
            "delivered": self.delivered,
        }


@dataclass
class Subscription:
    id: str
    keys: UserAgentKeys
    application_server_key: str | None  # a restricted subscription (RFC 8292 §4) accepts only this k
    messages: list[Message] = field(default_factory=list)
    fault: Fault | None = None
    pushes_received: int = 0  # every POST to the endpoint, answered 201 or not

    def as_json(self, origin: str) -> dict[str, Any]:
        """What `PushSubscription.toJSON()` gives a page, plus the emulator's own id."""
        return {
            "id": self.id,
            "endpoint": f"{origin}/push/{self.id}",
            "expirationTime": None,
            "keys": {"p256dh": b64url(self.keys.p256dh), "auth": b64url(self.keys.auth)},
            "application_server_key": self.application_server_key,
            "pushes_received": self.pushes_received,
            "fault": self.fault.as_json() if self.fault else None,
        }


class EmulatorState:
    def __init__(self) -> None:
        self.lock = threading.Lock()
        self.subscriptions: dict[str, Subscription] = {}
        self._ids = itertools.count(1)

    def subscribe(self, application_server_key: str | None) -> Subscription:
        subscription = Subscription(secrets.token_urlsafe(16), UserAgentKeys.generate(), application_server_key)
        with self.lock:
            self.subscriptions[subscription.id] = subscription
        return subscription

    def find(self, subscription_id: str) -> Subscription | None:
        with self.lock:
            return self.subscriptions.get(subscription_id)

    def take_fault(self, subscription: Subscription) -> Fault | None:
        """Count the push; the fault that answers it, if any (spending one of its times)."""
        with self.lock:
            subscription.pushes_received += 1
            fault = subscription.fault
            if fault is not None and fault.times is not None:
                fault.times -= 1
                if fault.times <= 0:
                    subscription.fault = None
            return fault

    def record(
        self,
        subscription: Subscription,
        payload: str,
        ttl: int,
        urgency: str,
        topic: str | None,
        claims: dict[str, Any],
    ) -> Message:
        """Keep an accepted message. RFC 8030 §5.4: a message with the Topic of one still waiting
        for delivery replaces it."""
        with self.lock:
            message = Message(next(self._ids), payload, ttl, urgency, topic, claims, datetime.now(UTC))
            if topic is not None:
                subscription.messages = [m for m in subscription.messages if m.delivered or m.topic != topic]
            subscription.messages.append(message)
            return message

    def deliver(self, subscription: Subscription) -> list[Message]:
        """The device comes online: every waiting message is handed over (and can no longer be replaced)."""
        with self.lock:
            waiting = [m for m in subscription.messages if not m.delivered]
            for message in waiting:
                message.delivered = True
            return waiting

    def reset(self) -> None:
        with self.lock:
            self.subscriptions.clear()
