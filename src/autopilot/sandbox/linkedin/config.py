"""The sandbox app's settings: what LinkedIn's developer portal and infrastructure decide for an app."""

from __future__ import annotations

import dataclasses
from collections.abc import Mapping
from dataclasses import dataclass, field
from typing import Any, Literal

DEFAULT_SCOPES = (
    "openid",
    "profile",
    "email",
    "w_member_social",
    "r_member_social",
    "r_member_postAnalytics",
    "r_member_social_feed",
)


@dataclass(frozen=True)
class SandboxConfig:
    """One LinkedIn developer app as the sandbox plays it; every field can be changed live (PUT /_sandbox/app)."""

    client_id: str = "sandbox-client-id"
    client_secret: str = "sandbox-client-secret"  # noqa: S105 - the sandbox's public test secret
    # Empty: any absolute http(s) redirect URI is accepted (a sandbox convenience); otherwise an exact
    # match with the query string ignored, as LinkedIn matches registered redirect URLs (§1.2).
    redirect_uris: tuple[str, ...] = ()
    refresh_enabled: bool = True  # an MDP app gets programmatic refresh tokens (§1.5)
    auto_approve: bool = False
    app_scopes: tuple[str, ...] = DEFAULT_SCOPES
    active_versions: tuple[str, str] = ("202510", "202611")  # inclusive YYYYMM window (§2.2)
    duplicate_window_s: int = 600  # 10 minutes per the legacy docs; 24-48 h are reported (§11.3)
    # §8 "ghost duplicate": a deleted post still blocks its identical retry within the window.
    duplicates_survive_delete: bool = True
    member_daily_quota: int = 150  # posts.create per member per day (§6, Share on LinkedIn)
    app_daily_quota: int = 100_000  # posts.create per app per day
    # Other endpoints: name -> (per member, per app) a day; an endpoint not named here is unlimited.
    endpoint_quotas: Mapping[str, tuple[int, int]] = field(default_factory=dict)
    send_retry_after: bool = False  # LinkedIn documents no Retry-After (§6, §11.8)
    retry_after_s: int = 60  # the value sent when send_retry_after is on
    access_ttl_s: int = 5_183_999
    refresh_ttl_s: int = 31_535_999  # absolute: refreshing never extends it (§1.5)
    post_urn_kind: Literal["auto", "share", "ugcPost"] = "auto"
    latency_ms: int = 0
    # §3.4: with only w_member_social a read of one's own post is 403; False lets any token read.
    reads_require_r_member_social: bool = True
    # §11.4: the docs say only PUBLISHED is accepted at creation; some clients send DRAFT.
    accept_draft: bool = False
    # §11.5: metricType is a plain string from this version on, a one-key union before it.
    string_metric_type_from: str = "202605"
    # 0: the first status read after an upload says PROCESSING, the next AVAILABLE; otherwise the
    # asset becomes AVAILABLE this many seconds (sandbox clock) after its upload.
    media_processing_s: float = 0.0
    # §2.1: without X-Restli-Protocol-Version a call defaults to protocol 1.0 and is served; True
    # answers 400 instead, for clients that must prove they send 2.0.0.
    require_restli_2: bool = False

    def updated(self, changes: Mapping[str, Any]) -> SandboxConfig:
        """A copy with *changes* (JSON values) applied; ValueError names an unknown or ill-typed field."""
        names = {f.name: f for f in dataclasses.fields(self)}
        unknown = sorted(set(changes) - set(names))
        if unknown:
            raise ValueError(f"unknown fields: {', '.join(unknown)}")
        values: dict[str, Any] = {}
        for name, value in changes.items():
            current = getattr(self, name)
            if isinstance(current, tuple):
                if not isinstance(value, list | tuple) or not all(isinstance(v, str) for v in value):
                    raise ValueError(f"{name} must be a list of strings")
                value = tuple(value)
                if name == "active_versions" and len(value) != 2:
                    raise ValueError("active_versions must be [first, last]")
            elif name == "endpoint_quotas":
                if not isinstance(value, dict):
                    raise ValueError("endpoint_quotas must map endpoint -> [per_member, per_app]")
                value = {str(k): (int(v[0]), int(v[1])) for k, v in value.items()}
            elif isinstance(current, bool):
                if not isinstance(value, bool):
                    raise ValueError(f"{name} must be a boolean")
            elif isinstance(current, int | float):
                if isinstance(value, bool) or not isinstance(value, int | float):
                    raise ValueError(f"{name} must be a number")
                value = type(current)(value)
            elif not isinstance(value, str):
                raise ValueError(f"{name} must be a string")
            values[name] = value
        if values.get("post_urn_kind", self.post_urn_kind) not in ("auto", "share", "ugcPost"):
            raise ValueError("post_urn_kind must be auto, share or ugcPost")
        return dataclasses.replace(self, **values)

    def as_json(self) -> dict[str, Any]:
        """The settings as JSON (tuples become lists)."""
        out = dataclasses.asdict(self)
        out["endpoint_quotas"] = {k: list(v) for k, v in self.endpoint_quotas.items()}
        return {k: list(v) if isinstance(v, tuple) else v for k, v in out.items()}
