"""Everything the sandbox remembers, in memory, for one app instance (held in app.state.sandbox).

All handlers run on one event loop; a check-then-act that spans an await takes `lock`.
"""

from __future__ import annotations

import asyncio
import base64
import hashlib
import random
import re
import secrets
import time
from collections import Counter
from dataclasses import dataclass, field
from datetime import UTC, datetime
from typing import TYPE_CHECKING, Any

from cryptography.hazmat.primitives.asymmetric import rsa

from autopilot.sandbox.linkedin.config import SandboxConfig
from autopilot.sandbox.linkedin.little import Parsed

if TYPE_CHECKING:
    from autopilot.sandbox.linkedin.organizations import Organization

FAULT_KINDS = ("error_500", "error_503", "rate_limit", "timeout", "reset", "commit_then_drop")


@dataclass(frozen=True)
class Member:
    """A LinkedIn member, known only by the display name typed on the consent page."""

    sub: str
    name: str

    @classmethod
    def named(cls, name: str) -> Member:
        digest = hashlib.sha256(name.encode()).digest()
        return cls(base64.urlsafe_b64encode(digest).decode()[:10], name)

    @property
    def urn(self) -> str:
        return f"urn:li:person:{self.sub}"

    @property
    def given_name(self) -> str:
        return self.name.split(" ", 1)[0]

    @property
    def family_name(self) -> str:
        parts = self.name.split(" ", 1)
        return parts[1] if len(parts) > 1 else ""

    @property
    def email(self) -> str:
        slug = re.sub(r"[^a-z0-9]+", ".", self.name.lower()).strip(".") or "member"
        return f"{slug}@example.com"


@dataclass
class Consent:
    """An authorization request waiting for the member's Allow or Cancel."""

    client_id: str
    redirect_uri: str
    state: str | None
    scopes: tuple[str, ...]


@dataclass
class AuthCode:
    client_id: str
    redirect_uri: str
    scopes: tuple[str, ...]
    member: Member
    expires_at: float
    used: bool = False


@dataclass
class AccessToken:
    token: str
    client_id: str
    member: Member
    scopes: tuple[str, ...]
    created_at: float
    expires_at: float
    revoked: bool = False


@dataclass
class RefreshGrant:
    token: str
    client_id: str
    member: Member
    scopes: tuple[str, ...]
    created_at: float
    expires_at: float  # absolute, kept through every refresh (§1.5)
    revoked: bool = False


@dataclass
class Reaction:
    actor: str
    reaction_type: str
    time_ms: int


@dataclass
class Comment:
    comment_id: str
    actor: str
    author_name: str
    text: str
    time_ms: int


@dataclass
class Post:
    urn: str
    activity: str
    author: str
    parsed: Parsed
    body: dict[str, Any]
    created_ms: int
    modified_ms: int
    lifecycle_state: str
    deleted: bool = False
    reactions: list[Reaction] = field(default_factory=list)
    comments: list[Comment] = field(default_factory=list)
    # (time_ms, queryType, count): impressions, reach and reshares injected by the control API.
    metric_events: list[tuple[int, str, int]] = field(default_factory=list)


@dataclass
class MediaAsset:
    urn: str
    kind: str  # "image" | "document"
    owner: str
    upload_id: str
    upload_expires_ms: int
    uploaded_at: float | None = None
    data: bytes = b""
    reads_after_upload: int = 0


@dataclass
class FaultRule:
    endpoint: str
    fault: str
    probability: float = 1.0
    times: int | None = None
    timeout_s: float = 30.0
    hang_s: float = 0.0
    fired: int = 0


class SandboxClock:
    """Real time shifted by an offset the control API sets; quotas and expiries follow it."""

    def __init__(self) -> None:
        self.offset = 0.0

    def now(self) -> float:
        return time.time() + self.offset

    def now_ms(self) -> int:
        return int(self.now() * 1000)

    def utc_day(self) -> str:
        return datetime.fromtimestamp(self.now(), UTC).date().isoformat()

    def advance(self, seconds: float) -> None:
        self.offset += seconds

    def set(self, moment: datetime) -> None:
        self.offset = moment.timestamp() - time.time()


class SandboxState:
    """The sandbox's memory: tokens, posts, media, quotas, faults and counters."""

    def __init__(self, config: SandboxConfig) -> None:
        self.config = config
        self.clock = SandboxClock()
        self.lock = asyncio.Lock()
        self.signing_key = rsa.generate_private_key(public_exponent=65537, key_size=2048)
        self.key_id = secrets.token_urlsafe(12)
        self.fault_rules: list[FaultRule] = []
        self.fault_random = random.Random(0)
        self.reset()

    def reset(self) -> None:
        """Forget every member, token, post, asset, quota count, fault and counter, and put the
        clock back to real time (keeps config and key)."""
        if hasattr(self, "clock"):
            self.clock.offset = 0.0
        self.consents: dict[str, Consent] = {}
        self.grants: dict[str, tuple[str, ...]] = {}  # member sub -> scopes granted (consent skipped)
        self.codes: dict[str, AuthCode] = {}
        self.access_tokens: dict[str, AccessToken] = {}
        self.refresh_grants: dict[str, RefreshGrant] = {}
        self.posts: dict[str, Post] = {}
        self.activities: dict[str, str] = {}  # activity urn -> post urn
        self.recent_content: dict[tuple[str, str], tuple[str, float]] = {}  # (author, key) -> (urn, at)
        self.media: dict[str, MediaAsset] = {}
        self.uploads: dict[str, str] = {}  # upload id -> asset urn
        self.quota_used: Counter[tuple[str, str, str]] = Counter()  # (utc day, who, endpoint)
        self.used_ids: set[int] = set()
        self.organizations: dict[int, Organization] = {}  # Company Pages (organizations.py), by id
        self.fault_rules = []
        self.stats: dict[str, Counter[str]] = {
            "token_grants": Counter(),
            "posts_created": Counter(),
            "requests": Counter(),
            "served": Counter(),
            "faults_fired": Counter(),
        }

    def new_numeric_id(self) -> int:
        """A fresh 19-digit id, like LinkedIn's share, activity and comment ids."""
        while True:
            candidate = secrets.randbelow(10**18) + 7 * 10**18
            if candidate not in self.used_ids:
                self.used_ids.add(candidate)
                return candidate

    def post_for(self, urn: str) -> Post | None:
        """The post named by its share/ugcPost URN or by its activity URN."""
        return self.posts.get(self.activities.get(urn, urn))

    def set_faults(self, seed: int | None, rules: list[FaultRule]) -> None:
        self.fault_random = random.Random(seed)
        self.fault_rules = rules

    def pick_fault(self, endpoint: str) -> FaultRule | None:
        """The first rule for this endpoint (or "any") that fires now; deterministic for a seed."""
        for rule in self.fault_rules:
            if rule.endpoint not in (endpoint, "any"):
                continue
            if rule.times is not None and rule.fired >= rule.times:
                continue
            if rule.probability < 1.0 and self.fault_random.random() >= rule.probability:
                continue
            rule.fired += 1
            self.stats["faults_fired"][f"{endpoint}:{rule.fault}"] += 1
            return rule
        return None
