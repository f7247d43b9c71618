"""The checks every /rest/* call passes, in LinkedIn's order (contract §2, §6, §7):
token (401) → LinkedIn-Version present (400) → version active (426) → Rest.li protocol →
scope (403) → daily quota (429)."""

from __future__ import annotations

import re
from dataclasses import dataclass

from fastapi import Request

from autopilot.sandbox.linkedin.errors import LinkedInError, access_denied, api_error
from autopilot.sandbox.linkedin.state import AccessToken, Member, SandboxState
from autopilot.sandbox.linkedin.web import state_of

_VERSION = re.compile(r"^(\d{6})(?:\.(\d{2}))?$")
THROTTLED = "Resource level throttle limit for calls to this resource is reached."


@dataclass(frozen=True)
class Caller:
    """Who is calling a /rest/* resource, and with which API version (YYYYMM)."""

    token: AccessToken
    version: str
    protocol: str

    @property
    def member(self) -> Member:
        return self.token.member

    @property
    def version_day(self) -> str:
        """The version as LinkedIn prints it in messages: YYYYMMDD with day 01."""
        return f"{self.version}01"


def bearer_token(request: Request, state: SandboxState) -> AccessToken:
    """The access token of the Authorization header, or the 401 LinkedIn sends for it (§7)."""
    header = request.headers.get("authorization", "").strip()
    if not header:
        raise api_error(401, "EMPTY_ACCESS_TOKEN", "Empty oauth2_access_token", 65604)
    scheme, _, value = header.partition(" ")
    if scheme.lower() != "bearer":
        raise api_error(401, None, "Unknown authentication schema", 401)
    value = value.strip()
    if not value:
        raise api_error(401, "EMPTY_ACCESS_TOKEN", "Empty oauth2_access_token", 65604)
    token = state.access_tokens.get(value)
    if token is None:
        raise api_error(401, "INVALID_ACCESS_TOKEN", "Invalid access token", 65600)
    if token.revoked:
        raise api_error(
            401, "REVOKED_ACCESS_TOKEN", "The token used in the request has been revoked by the user", 65601
        )
    if token.expires_at <= state.clock.now():
        raise api_error(401, "EXPIRED_ACCESS_TOKEN", "The token used in the request has expired", 65602)
    return token


def rest_caller(request: Request, endpoint: str, resource: str, method: str, scopes: tuple[str, ...] = ()) -> Caller:
    """Run the gate for one call; *scopes*: any one of them is enough (empty: no scope needed)."""
    state = state_of(request)
    token = bearer_token(request, state)
    raw_version = request.headers.get("linkedin-version", "").strip()
    if not raw_version:
        raise api_error(
            400,
            "VERSION_MISSING",
            "A version must be present. Please specify a version by adding the LinkedIn-Version header.",
            X_Restli_Gateway_Error="true",
        )
    match = _VERSION.match(raw_version)
    first, last = state.config.active_versions
    if match is None or not first <= match.group(1) <= last:
        printed = f"{match.group(1)}01" if match else raw_version
        raise api_error(426, "NONEXISTENT_VERSION", f"Requested version {printed} is not active")
    # §2.1: without X-Restli-Protocol-Version LinkedIn defaults to protocol 1.0 and still serves the
    # call; we do the same (our parsers accept both encodings) unless require_restli_2 is set.
    protocol = request.headers.get("x-restli-protocol-version", "").strip() or "1.0.0"
    if protocol not in ("1.0.0", "2.0.0") or (state.config.require_restli_2 and protocol != "2.0.0"):
        raise api_error(400, "ILLEGAL_ARGUMENT", f"Unsupported Rest.li protocol version {protocol}")
    caller = Caller(token, match.group(1), protocol)
    if scopes and not set(scopes) & set(token.scopes):
        raise access_denied(resource, method, caller.version_day)
    _count_quota(state, endpoint, token)
    return caller


def _count_quota(state: SandboxState, endpoint: str, token: AccessToken) -> None:
    """Daily counters per member and per app for this endpoint, reset at 00:00 UTC of the sandbox clock (§6)."""
    config = state.config
    limits = config.endpoint_quotas.get(endpoint)
    if limits is None and endpoint == "posts.create":
        limits = (config.member_daily_quota, config.app_daily_quota)
    if limits is None:
        return
    day = state.clock.utc_day()
    member_key = (day, f"member:{token.member.sub}", endpoint)
    app_key = (day, f"app:{token.client_id}", endpoint)
    if state.quota_used[member_key] >= limits[0] or state.quota_used[app_key] >= limits[1]:
        raise throttled(state)
    state.quota_used[member_key] += 1
    state.quota_used[app_key] += 1


def throttled(state: SandboxState) -> LinkedInError:
    """429 as §6 expects it; Retry-After only when the app is set to send one (LinkedIn documents none)."""
    error = api_error(429, "TOO_MANY_REQUESTS", THROTTLED)
    if state.config.send_retry_after:
        error.headers["Retry-After"] = str(state.config.retry_after_s)
    return error
