"""An async client for the parts of LinkedIn we use, over httpx (research/linkedin-api-contract.md).

Every answer is classified into the job engine's error classes, so a handler only has to let the
error rise: 401 → AuthFailed (hold until a person reconnects), 426 → VersionRetired (hold; the
owners are told which setting to change), 429 → RateLimited (Retry-After when sent, else backoff),
5xx and lost answers → TransientError for reads and AmbiguousOutcome for a create (the post may
exist), other 4xx → PermanentError. The official `linkedin-api-client` is not used here: it is
blocking, beta and swallows errors (contract §9); the sandbox is tested against it instead."""

from __future__ import annotations

import contextlib
import re
from collections.abc import Mapping
from dataclasses import dataclass
from datetime import datetime, timedelta
from typing import Any

import httpx
import jwt

from autopilot.kit.time import utcnow
from autopilot.linkedin import restli
from autopilot.worker.policy import (
    AmbiguousOutcome,
    AuthFailed,
    PermanentError,
    RateLimited,
    TransientError,
    retry_after_seconds,
)

DUPLICATE_URN = re.compile(r"urn:li:(?:share|ugcPost|activity):\d+")
VERSION_SETTING = "AUTOPILOT_LINKEDIN_VERSION"


# Clock difference tolerated between LinkedIn and us on the id_token's iat/exp: a clock a second
# ahead of ours would otherwise refuse a real sign-in as "not yet valid" (ImmatureSignatureError).
ID_TOKEN_LEEWAY_S = 60


class VersionRetired(AuthFailed):
    """LinkedIn answered 426: the API version we send is no longer active. Held, never failed:
    nothing is wrong with the post, the installation must send a newer version."""


class TokenRejected(AuthFailed):
    """LinkedIn refused the access token (invalid, expired or revoked): the member must reconnect
    (or, for an expired one, we refresh when we can)."""

    def __init__(self, message: str, *, code: str = "") -> None:
        super().__init__(message)
        self.code = code


class OAuthError(Exception):
    """The token endpoint said no (`error`, `error_description` as LinkedIn sends them)."""

    def __init__(self, error: str, description: str, status: int) -> None:
        super().__init__(f"{error}: {description}")
        self.error, self.description, self.status = error, description, status

    @property
    def must_reauthorize(self) -> bool:
        # LinkedIn documents invalid_request for a dead refresh token; many expect invalid_grant (§1.5).
        return self.error in {"invalid_request", "invalid_grant"} and self.status < 500


@dataclass(frozen=True)
class Tokens:
    access_token: str
    access_expires_at: datetime
    scopes: frozenset[str]
    refresh_token: str | None
    refresh_expires_at: datetime | None
    id_token: str | None


@dataclass(frozen=True)
class Duplicate:
    """LinkedIn refused a post as a duplicate of an earlier one (§8): the URN it named."""

    urn: str


def parse_scopes(raw: str) -> frozenset[str]:
    """LinkedIn documents space-separated scopes and sends comma-separated ones: accept both."""
    return frozenset(s for s in re.split(r"[,\s]+", raw or "") if s)


def _error_text(response: httpx.Response) -> str:
    try:
        body = response.json()
    except ValueError:
        return response.text[:300] or response.reason_phrase
    if isinstance(body, dict):
        return str(body.get("message") or body.get("error_description") or body)[:500]
    return str(body)[:500]


class LinkedInClient:
    """One call per method; *http* is a pooled httpx client lent for the call."""

    def __init__(
        self,
        http: httpx.AsyncClient,
        *,
        auth_url: str,
        api_url: str,
        version: str,
        client_id: str,
        client_secret: str,
        timeout: float = 20.0,
    ) -> None:
        self.http = http
        self.auth_url, self.api_url = auth_url.rstrip("/"), api_url.rstrip("/")
        self.version, self.client_id, self.client_secret = version, client_id, client_secret
        self.timeout = timeout

    # -- OAuth -------------------------------------------------------------------------------

    def authorization_url(self, *, redirect_uri: str, state: str, scopes: str) -> str:
        params = httpx.QueryParams(
            response_type="code", client_id=self.client_id, redirect_uri=redirect_uri, state=state, scope=scopes
        )
        return f"{self.auth_url}/oauth/v2/authorization?{params}"

    async def _token_call(self, form: Mapping[str, str]) -> Tokens:
        try:
            response = await self.http.post(
                f"{self.auth_url}/oauth/v2/accessToken",
                data={**form, "client_id": self.client_id, "client_secret": self.client_secret},
                timeout=self.timeout,
            )
        except httpx.HTTPError as exc:
            raise TransientError(f"LinkedIn's token endpoint did not answer ({type(exc).__name__})") from exc
        if response.status_code >= 500:
            raise TransientError(f"LinkedIn's token endpoint answered {response.status_code}")
        try:
            body = response.json()
        except ValueError:
            raise TransientError(f"LinkedIn's token endpoint answered {response.status_code} without JSON") from None
        if response.status_code != 200 or "access_token" not in body:
            raise OAuthError(
                str(body.get("error", "error")), str(body.get("error_description", "")), response.status_code
            )
        now = utcnow()
        refresh_in = body.get("refresh_token_expires_in")
        return Tokens(
            access_token=body["access_token"],
            access_expires_at=now + timedelta(seconds=int(body.get("expires_in", 0))),
            scopes=parse_scopes(str(body.get("scope", ""))),
            refresh_token=body.get("refresh_token") or None,
            refresh_expires_at=now + timedelta(seconds=int(refresh_in)) if refresh_in else None,
            id_token=body.get("id_token"),
        )

    async def exchange_code(self, code: str, redirect_uri: str) -> Tokens:
        return await self._token_call({"grant_type": "authorization_code", "code": code, "redirect_uri": redirect_uri})

    async def refresh(self, refresh_token: str) -> Tokens:
        return await self._token_call({"grant_type": "refresh_token", "refresh_token": refresh_token})

    async def verify_id_token(self, id_token: str) -> dict[str, Any]:
        """Check the id_token's RS256 signature against LinkedIn's JWKS (found through discovery),
        its audience (our client id) and its issuer (the one discovery names)."""
        discovery = await self._get_json(f"{self.auth_url}/oauth/.well-known/openid-configuration")
        jwks = await self._get_json(str(discovery["jwks_uri"]))
        header = jwt.get_unverified_header(id_token)
        keys = [k for k in jwks.get("keys", []) if k.get("kid") == header.get("kid")] or jwks.get("keys", [])
        if not keys:
            raise PermanentError("LinkedIn's JWKS holds no key")
        key = jwt.PyJWK(keys[0]).key
        claims: dict[str, Any] = jwt.decode(
            id_token, key=key, algorithms=["RS256"], audience=self.client_id, issuer=str(discovery["issuer"]),
            leeway=ID_TOKEN_LEEWAY_S,
        )  # fmt: skip
        return claims

    async def _get_json(self, url: str) -> dict[str, Any]:
        try:
            response = await self.http.get(url, timeout=self.timeout)
        except httpx.HTTPError as exc:
            raise TransientError(f"LinkedIn did not answer {url} ({type(exc).__name__})") from exc
        if response.status_code != 200:
            raise TransientError(f"LinkedIn answered {response.status_code} for {url}")
        body: dict[str, Any] = response.json()
        return body

    # -- API ---------------------------------------------------------------------------------

    def _headers(self, token: str, method: str | None = None) -> dict[str, str]:
        headers = {
            "Authorization": f"Bearer {token}",
            "LinkedIn-Version": self.version,
            "X-Restli-Protocol-Version": "2.0.0",
        }
        if method:
            headers["X-RestLi-Method"] = method
        return headers

    def _raise_for(self, response: httpx.Response, *, creating: bool) -> None:
        status = response.status_code
        if status < 400:
            return
        detail = _error_text(response)
        if status == 401:
            code = ""
            with contextlib.suppress(ValueError):
                code = str(response.json().get("code", ""))
            raise TokenRejected(f"LinkedIn refused the access token: {detail}", code=code)
        if status == 426:
            raise VersionRetired(
                f"LinkedIn no longer serves API version {self.version} ({detail}). Set {VERSION_SETTING} "
                "to an active version (YYYYMM, e.g. the current month) and restart; held posts then resume."
            )
        if status == 429:
            # LinkedIn documents no Retry-After (contract §6); honour one if sent, else the policy's wait.
            raise RateLimited(
                f"LinkedIn is throttling: {detail}", retry_after_s=retry_after_seconds(response, utcnow())
            )
        if status >= 500:
            cls = AmbiguousOutcome if creating else TransientError
            raise cls(f"LinkedIn answered {status}: {detail}")
        if status == 403:
            raise PermanentError(f"LinkedIn refused the call (403, missing permission): {detail}")
        raise PermanentError(f"LinkedIn answered {status}: {detail}")

    async def _call(
        self, method: str, url: str, token: str, *, creating: bool = False, restli_method: str | None = None, **kw: Any
    ) -> httpx.Response:
        try:
            response = await self.http.request(
                method, url, headers=self._headers(token, restli_method), timeout=self.timeout, **kw
            )
        except (httpx.ConnectError, httpx.ConnectTimeout) as exc:  # the request never left
            raise TransientError(f"could not reach LinkedIn ({type(exc).__name__})") from exc
        except httpx.HTTPError as exc:  # sent, then lost: for a create, the post may exist
            cls = AmbiguousOutcome if creating else TransientError
            raise cls(f"LinkedIn's answer was lost ({type(exc).__name__})") from exc
        return response

    async def userinfo(self, token: str) -> dict[str, Any]:
        try:
            response = await self.http.get(
                f"{self.api_url}/v2/userinfo", headers={"Authorization": f"Bearer {token}"}, timeout=self.timeout
            )
        except httpx.HTTPError as exc:
            raise TransientError(f"LinkedIn did not answer userinfo ({type(exc).__name__})") from exc
        self._raise_for(response, creating=False)
        body: dict[str, Any] = response.json()
        return body

    async def create_post(self, token: str, body: dict[str, Any]) -> str | Duplicate:
        """POST /rest/posts → the new post's URN (x-restli-id), or Duplicate when LinkedIn says an
        identical post exists (the caller decides whether that one is ours)."""
        response = await self._call("POST", f"{self.api_url}/rest/posts", token, creating=True, json=body)
        if response.status_code in (400, 409, 422) and "duplicate" in response.text.lower():
            found = DUPLICATE_URN.search(response.text)
            if found:
                return Duplicate(found.group(0))
        self._raise_for(response, creating=True)
        urn = str(response.headers.get("x-restli-id") or response.headers.get("x-linkedin-id") or "")
        if not urn:
            raise AmbiguousOutcome("LinkedIn answered 201 without the post's id (x-restli-id)")
        return urn

    async def recent_posts(self, token: str, author: str, count: int = 20) -> list[dict[str, Any]]:
        """The author's newest posts (finder q=author; needs r_member_social)."""
        query = restli.query({"q": "author", "author": author, "count": count, "sortBy": "LAST_MODIFIED"})
        response = await self._call("GET", f"{self.api_url}/rest/posts?{query}", token, restli_method="FINDER")
        self._raise_for(response, creating=False)
        elements: list[dict[str, Any]] = response.json().get("elements", [])
        return elements

    async def delete_post(self, token: str, urn: str) -> None:
        url = f"{self.api_url}/rest/posts/{restli.path_key(urn)}"
        response = await self._call("DELETE", url, token, restli_method="DELETE")
        if response.status_code != 404:
            self._raise_for(response, creating=False)

    async def initialize_upload(self, token: str, kind: str, owner: str) -> tuple[str, str]:
        """(upload URL, asset URN) for an image or a document."""
        url = f"{self.api_url}/rest/{kind}s?action=initializeUpload"
        payload = {"initializeUploadRequest": {"owner": owner}}
        response = await self._call("POST", url, token, restli_method="ACTION", json=payload)
        self._raise_for(response, creating=False)
        value = response.json()["value"]
        return str(value["uploadUrl"]), str(value[kind])

    async def upload(self, token: str, upload_url: str, data: bytes, content_type: str) -> None:
        try:
            response = await self.http.put(
                upload_url,
                content=data,
                headers={"Authorization": f"Bearer {token}", "Content-Type": content_type},
                timeout=self.timeout,
            )
        except httpx.HTTPError as exc:  # an upload is safe to repeat
            raise TransientError(f"the upload to LinkedIn was interrupted ({type(exc).__name__})") from exc
        self._raise_for(response, creating=False)

    async def comment(self, token: str, post_urn: str, actor: str, text: str) -> str:
        """Comment on a post as its author (the optional first comment)."""
        url = f"{self.api_url}/rest/socialActions/{restli.path_key(post_urn)}/comments"
        body = {"actor": actor, "object": post_urn, "message": {"text": text}}
        response = await self._call("POST", url, token, creating=True, json=body)
        self._raise_for(response, creating=True)
        return str(response.headers.get("x-restli-id", ""))

    # -- engagement reads (contract §5; added for analytics sync) -------------------------------

    def _raise_for_read(self, response: httpx.Response) -> None:
        """A 403 on an engagement read means a scope of a reviewed product is missing (§5.0, §7)."""
        if response.status_code == 403:
            raise ScopeMissing(f"LinkedIn refused the read (403, missing permission): {_error_text(response)}")
        self._raise_for(response, creating=False)

    async def post_metric(self, token: str, post_urn: str, metric: str) -> int:
        """One lifetime figure (`queryType`: IMPRESSION, MEMBERS_REACHED, REACTION, COMMENT, RESHARE)
        of one post, from memberCreatorPostAnalytics (§5.1; needs r_member_postAnalytics). An empty
        `elements` is LinkedIn's "no activity yet" (0); several elements (a DAILY answer) are summed."""
        kind = "ugc" if post_urn.startswith("urn:li:ugcPost:") else "share"
        query = restli.query({"q": "entity", "entity": {kind: post_urn}, "queryType": metric, "aggregation": "TOTAL"})
        url = f"{self.api_url}/rest/memberCreatorPostAnalytics?{query}"
        response = await self._call("GET", url, token, restli_method="FINDER")
        self._raise_for_read(response)
        total = 0
        for element in response.json().get("elements", []):
            # §5.1/§11.5: before 202605 metricType is a one-key union, from 202605 a plain string.
            named = element.get("metricType")
            if isinstance(named, dict):
                named = next(iter(named.values()), None)
            if named not in (None, metric):
                continue  # a figure of another metric is never counted as this one
            total += int(element.get("count") or 0)
        return total

    async def social_metadata(self, token: str, post_urn: str) -> SocialCounts:
        """Reaction and comment counts of one post (§5.2; needs r_member_social_feed or r_member_social).
        A reaction type missing from the summaries counts 0 (LinkedIn may leave zero types out)."""
        url = f"{self.api_url}/rest/socialMetadata/{restli.path_key(post_urn)}"
        response = await self._call("GET", url, token)
        self._raise_for_read(response)
        body = response.json()
        summaries = body.get("reactionSummaries") or {}
        reactions = sum(int((s or {}).get("count") or 0) for s in summaries.values())
        comments = (body.get("commentSummary") or {}).get("count")
        return SocialCounts(reactions=reactions, comments=None if comments is None else int(comments))

    # -- Company Pages (Community Management API, research G §2) ---------------------------------

    async def _finder(self, path: str, token: str) -> list[dict[str, Any]]:
        response = await self._call("GET", f"{self.api_url}{path}", token)
        self._raise_for_read(response)
        elements: list[dict[str, Any]] = response.json().get("elements", [])
        return elements

    async def administered_pages(self, token: str) -> list[str]:
        """The URNs of the pages the member administers (organizationAcls, role ADMINISTRATOR)."""
        query = restli.query({"q": "roleAssignee", "role": "ADMINISTRATOR", "state": "APPROVED", "count": 100})
        acls = await self._finder(f"/rest/organizationAcls?{query}", token)
        return [str(acl["organization"]) for acl in acls if acl.get("organization")]

    async def organization(self, token: str, organization_urn: str) -> dict[str, Any]:
        """A page's record (localizedName, vanityName); the numeric id goes in the path."""
        org_id = organization_urn.rsplit(":", 1)[-1]
        response = await self._call("GET", f"{self.api_url}/rest/organizations/{restli.path_key(org_id)}", token)
        self._raise_for_read(response)
        body: dict[str, Any] = response.json()
        return body

    async def page_share_statistics(
        self, token: str, organization_urn: str, start_ms: int, end_ms: int
    ) -> list[dict[str, Any]]:
        """Organic post statistics of a page per UTC day in [start, end) (time-bound, DAY); LinkedIn
        wants timeIntervals' parentheses, colons and commas literal (§2.1), which restli.query keeps."""
        query = restli.query(
            {
                "q": "organizationalEntity",
                "organizationalEntity": organization_urn,
                "timeIntervals": {
                    "timeRange": {"start": start_ms, "end": end_ms},
                    "timeGranularityType": "DAY",
                },
            }
        )
        return await self._finder(f"/rest/organizationalEntityShareStatistics?{query}", token)

    async def page_follower_gains(
        self, token: str, organization_urn: str, start_ms: int, end_ms: int
    ) -> list[dict[str, Any]]:
        """Net follower gains (organic, paid) of a page per UTC day in [start, end); may be negative."""
        query = restli.query(
            {
                "q": "organizationalEntity",
                "organizationalEntity": organization_urn,
                "timeIntervals": {
                    "timeRange": {"start": start_ms, "end": end_ms},
                    "timeGranularityType": "DAY",
                },
            }
        )
        return await self._finder(f"/rest/organizationalEntityFollowerStatistics?{query}", token)

    async def page_followers(self, token: str, organization_urn: str) -> int:
        """A page's follower total (networkSizes; follower statistics no longer carry it)."""
        key = restli.path_key(organization_urn)
        url = f"{self.api_url}/rest/networkSizes/{key}?edgeType=COMPANY_FOLLOWED_BY_MEMBER"
        response = await self._call("GET", url, token)
        self._raise_for_read(response)
        return int(response.json().get("firstDegreeSize", 0))


class ScopeMissing(PermanentError):
    """LinkedIn answered 403 to a read: the token lacks the scope of a product LinkedIn reviews
    (r_member_postAnalytics, r_member_social_feed). Retrying cannot help; reconnecting with the
    scope granted can."""


@dataclass(frozen=True)
class SocialCounts:
    """What socialMetadata tells about a post; None: LinkedIn did not say."""

    reactions: int
    comments: int | None
