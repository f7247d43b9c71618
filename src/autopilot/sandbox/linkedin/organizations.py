"""Company Pages through the Community Management API (research: linkedin-analytics-and-leads.md §2,
linkedin-api-contract.md §5.6, §6): the pages a member administers, a page's name, its post and
follower statistics and its follower total. The numbers are the ones the control API seeded.

    GET /rest/organizationAcls?q=roleAssignee[&role=ADMINISTRATOR][&state=APPROVED]
    GET /rest/organizations/{id}
    GET /rest/organizationalEntityShareStatistics?q=organizationalEntity&organizationalEntity={enc urn}
        [&timeIntervals=(timeRange:(start:ms,end:ms),timeGranularityType:DAY|MONTH)]
        [&shares=List({enc urn},…)] [&ugcPosts=List(…)]
    GET /rest/organizationalEntityFollowerStatistics?q=organizationalEntity&organizationalEntity={enc urn}
        [&timeIntervals=(…,timeGranularityType:DAY|WEEK|MONTH)]
    GET /rest/networkSizes/{enc urn}?edgeType=COMPANY_FOLLOWED_BY_MEMBER

Control API (JSON, no auth):
    POST /_sandbox/organizations {"id"?, "name", "vanity_name"?, "admins": [display name | {"member", "role"}],
         "followers": n, "days": [{"day": "YYYY-MM-DD", "impressions", "unique_impressions", "clicks",
         "likes", "comments", "shares", "organic_follower_gain", "paid_follower_gain"}],
         "posts": [{"urn"?, "impressions", "unique_impressions", "clicks", "likes", "comments", "shares"}]}
         → {"id", "urn", "posts": [urn, …]}; seeding an existing id adds to it (days replace days)
    GET  /_sandbox/organizations  → {"elements": [page as seeded]}

Reads need `rw_organization_admin` and the ADMINISTRATOR role on the page (403 ACCESS_DENIED
otherwise). The Development tier's quota (500 calls a day per app, 100 per member) is counted over
all of these endpoints together under the name `community_management` (override it with
`endpoint_quotas`). Whether LinkedIn counts it per endpoint or per product is not documented; the
stricter reading is played here."""

from __future__ import annotations

from dataclasses import dataclass, field
from datetime import UTC, date, datetime, timedelta
from typing import Any

from fastapi import APIRouter, Request
from fastapi.responses import JSONResponse

from autopilot.sandbox.linkedin.errors import access_denied, api_error, not_found
from autopilot.sandbox.linkedin.gate import Caller, rest_caller, throttled
from autopilot.sandbox.linkedin.restli import RestliValue, as_int, query_params
from autopilot.sandbox.linkedin.state import Member, SandboxState
from autopilot.sandbox.linkedin.web import state_of

router = APIRouter()
ADMIN_SCOPE = ("rw_organization_admin",)
# organizationAcls also answers the posting and reading scopes of the product (§2.1 table).
ACL_SCOPES = ("rw_organization_admin", "r_organization_social", "w_organization_social")
ROLES = ("ADMINISTRATOR", "DIRECT_SPONSORED_CONTENT_POSTER", "RECRUITING_POSTER", "ANALYST", "CONTENT_ADMIN")
PRODUCT_QUOTA = "community_management"
DEVELOPMENT_TIER = (100, 500)  # per member, per app, a UTC day (§2.1: 3P figures)
WINDOW = timedelta(days=365)  # "a rolling 12-month window"
SHARE_FIELDS = ("impressions", "unique_impressions", "clicks", "likes", "comments", "shares")
DAY_FIELDS = (*SHARE_FIELDS, "organic_follower_gain", "paid_follower_gain")


@dataclass
class Figures:
    """Organic counts of one day of a page, or the lifetime counts of one of its posts. Net
    figures (likes, follower gains) may be negative, as LinkedIn reports them."""

    impressions: int = 0
    unique_impressions: int = 0
    clicks: int = 0
    likes: int = 0
    comments: int = 0
    shares: int = 0
    organic_follower_gain: int = 0
    paid_follower_gain: int = 0

    @property
    def active(self) -> bool:
        return any(getattr(self, name) for name in SHARE_FIELDS)


@dataclass
class Organization:
    id: int
    name: str
    vanity_name: str
    followers: int = 0
    admins: dict[str, str] = field(default_factory=dict)  # member sub -> role
    days: dict[date, Figures] = field(default_factory=dict)
    shares: dict[str, Figures] = field(default_factory=dict)  # post URN -> lifetime figures

    @property
    def urn(self) -> str:
        return f"urn:li:organization:{self.id}"


def _organizations(state: SandboxState) -> dict[int, Organization]:
    found: dict[int, Organization] = state.organizations
    return found


def _count_product_quota(state: SandboxState, caller: Caller) -> None:
    """The Development tier's daily budget, shared by every Community Management endpoint."""
    per_member, per_app = state.config.endpoint_quotas.get(PRODUCT_QUOTA, DEVELOPMENT_TIER)
    day = state.clock.utc_day()
    member_key = (day, f"member:{caller.member.sub}", PRODUCT_QUOTA)
    app_key = (day, f"app:{caller.token.client_id}", PRODUCT_QUOTA)
    if state.quota_used[member_key] >= per_member or state.quota_used[app_key] >= per_app:
        raise throttled(state)
    state.quota_used[member_key] += 1
    state.quota_used[app_key] += 1


def _caller(request: Request, endpoint: str, resource: str, scopes: tuple[str, ...] = ADMIN_SCOPE) -> Caller:
    caller = rest_caller(request, endpoint, resource, "FINDER" if "Statistics" in resource else "GET", scopes)
    _count_product_quota(state_of(request), caller)
    return caller


def _administered(state: SandboxState, caller: Caller, resource: str, urn: RestliValue | None) -> Organization:
    """The page named by *urn*, when the caller administers it; 403 as LinkedIn answers otherwise."""
    if not isinstance(urn, str) or not urn.startswith("urn:li:organization:"):
        raise api_error(400, "ILLEGAL_ARGUMENT", "organizationalEntity must be an organization URN")
    org = _organizations(state).get(as_int(urn.rsplit(":", 1)[-1], -1))
    if org is None or org.admins.get(caller.member.sub) != "ADMINISTRATOR":
        raise access_denied(resource, "FINDER", caller.version_day)
    return org


def _raw_key(request: Request) -> str:
    raw = bytes(request.scope.get("raw_path") or request.url.path.encode()).decode("latin-1")
    segment = raw.rstrip("/").rsplit("/", 1)[-1]
    if ":" in segment:  # §2.3: a URN in a path must be percent-encoded
        raise api_error(400, "ILLEGAL_ARGUMENT", "Syntax exception in path variables")
    return str(request.path_params["key"])


@router.get("/rest/organizationAcls")
async def organization_acls(request: Request) -> JSONResponse:
    """Finder q=roleAssignee: the caller's roles on pages, optionally one role and state."""
    caller = _caller(request, "organizations.acls", "organizationAcls", ACL_SCOPES)
    params = query_params(request.scope.get("query_string", b""))
    if params.get("q") != "roleAssignee":
        raise api_error(400, "ILLEGAL_ARGUMENT", "q must be roleAssignee")
    role = params.get("role")
    if role is not None and role not in ROLES:
        raise api_error(400, "ILLEGAL_ARGUMENT", f"Invalid value {role} for role")
    if params.get("state") not in (None, "APPROVED"):
        return JSONResponse({"paging": {"start": 0, "count": 10, "links": [], "total": 0}, "elements": []})
    elements = [
        {
            "roleAssignee": caller.member.urn,
            "state": "APPROVED",
            "role": held,
            "organization": org.urn,
        }
        for org in sorted(_organizations(state_of(request)).values(), key=lambda o: o.id)
        if (held := org.admins.get(caller.member.sub)) is not None and (role is None or held == role)
    ]
    start = max(as_int(params.get("start"), 0), 0)
    count = min(max(as_int(params.get("count"), 10), 0), 100)
    paging = {"start": start, "count": count, "links": [], "total": len(elements)}
    return JSONResponse({"paging": paging, "elements": elements[start : start + count]})


@router.get("/rest/organizations/{key}")
async def organization(key: str, request: Request) -> JSONResponse:
    """A page's name and vanity name (administrators see the page as it is)."""
    caller = _caller(request, "organizations.get", "organizations", ACL_SCOPES)
    org = _organizations(state_of(request)).get(as_int(key, -1))
    if org is None:
        raise not_found()
    if caller.member.sub not in org.admins:
        raise access_denied("organizations", "GET", caller.version_day)
    return JSONResponse(
        {
            "id": org.id,
            "$URN": org.urn,
            "localizedName": org.name,
            "vanityName": org.vanity_name,
            "name": {"localized": {"en_US": org.name}, "preferredLocale": {"country": "US", "language": "en"}},
        }
    )


@dataclass(frozen=True)
class Bucket:
    start: datetime
    end: datetime  # exclusive


def _buckets(state: SandboxState, value: RestliValue | None, granularities: tuple[str, ...]) -> list[Bucket]:
    """The buckets a `timeIntervals=(timeRange:(start,end),timeGranularityType)` asks for, within the
    12-month window and not in the future. Older buckets are not an error: they are left out."""
    if not isinstance(value, dict) or not isinstance(value.get("timeRange"), dict):
        # Percent-encoded parentheses arrive as a plain string: LinkedIn wants them literal (§2.1).
        raise api_error(400, "ILLEGAL_ARGUMENT", "Invalid value for param timeIntervals")
    time_range = value["timeRange"]
    assert isinstance(time_range, dict)
    granularity = value.get("timeGranularityType", "DAY")
    if granularity not in granularities:
        raise api_error(400, "ILLEGAL_ARGUMENT", f"Invalid timeGranularityType {granularity}")
    start_ms, end_ms = as_int(time_range.get("start"), -1), as_int(time_range.get("end"), -1)
    if start_ms < 0 or end_ms <= start_ms:
        raise api_error(400, "ILLEGAL_ARGUMENT", "timeRange must have start < end (epoch milliseconds)")
    now = datetime.fromtimestamp(state.clock.now(), UTC)
    oldest = datetime.combine(now.date() - WINDOW, datetime.min.time(), UTC)
    start = datetime.fromtimestamp(start_ms / 1000, UTC).replace(hour=0, minute=0, second=0, microsecond=0)
    end = min(datetime.fromtimestamp(end_ms / 1000, UTC), datetime.combine(now.date(), datetime.min.time(), UTC))
    buckets = []
    while start < end:
        if granularity == "MONTH":
            following = (start.replace(day=1) + timedelta(days=32)).replace(day=1)
        else:
            following = start + timedelta(days=7 if granularity == "WEEK" else 1)
        if start >= oldest:
            buckets.append(Bucket(start, following))
        start = following
    return buckets


def _sum(org: Organization, first: date, end: date) -> Figures:
    total = Figures()
    for day, figures in org.days.items():
        if first <= day < end:
            for name in DAY_FIELDS:
                setattr(total, name, getattr(total, name) + getattr(figures, name))
    return total


def _ms(moment: datetime) -> int:
    return int(moment.timestamp() * 1000)


def _share_statistics(figures: Figures, *, unique: bool) -> dict[str, Any]:
    engaged = figures.clicks + figures.likes + figures.comments + figures.shares
    body: dict[str, Any] = {
        "impressionCount": figures.impressions,
        "clickCount": figures.clicks,
        "likeCount": figures.likes,
        "commentCount": figures.comments,
        "shareCount": figures.shares,
        "engagement": engaged / figures.impressions if figures.impressions else 0.0,
    }
    if unique:  # "Present on lifetime aggregates; OMITTED from time buckets" (§2.2)
        body["uniqueImpressionsCount"] = figures.unique_impressions
    return body


@router.get("/rest/organizationalEntityShareStatistics")
async def share_statistics(request: Request) -> JSONResponse:
    """Organic post statistics of a page: lifetime, per day/month, or lifetime per post (§2.2)."""
    caller = _caller(request, "organizations.share_statistics", "organizationalEntityShareStatistics")
    state = state_of(request)
    params = query_params(request.scope.get("query_string", b""))
    if params.get("q") != "organizationalEntity":
        raise api_error(400, "ILLEGAL_ARGUMENT", "q must be organizationalEntity")
    org = _administered(state, caller, "organizationalEntityShareStatistics", params.get("organizationalEntity"))
    wanted = [*_urns(params.get("shares")), *_urns(params.get("ugcPosts"))]
    elements: list[dict[str, Any]] = []
    if wanted:
        if "timeIntervals" in params:
            raise api_error(400, "ILLEGAL_ARGUMENT", "timeIntervals is not supported with shares or ugcPosts")
        for urn in wanted:
            figures = org.shares.get(urn)
            if figures is None or not figures.active:  # posts with zero activity are omitted
                continue
            kind = "ugcPost" if ":ugcPost:" in urn else "share"
            elements.append(
                {
                    "organizationalEntity": org.urn,
                    kind: urn,
                    "totalShareStatistics": _share_statistics(figures, unique=True),
                }
            )
    elif "timeIntervals" in params:
        for bucket in _buckets(state, params["timeIntervals"], ("DAY", "MONTH")):
            figures = _sum(org, bucket.start.date(), bucket.end.date())
            elements.append(
                {
                    "organizationalEntity": org.urn,
                    "timeRange": {"start": _ms(bucket.start), "end": _ms(bucket.end)},
                    "totalShareStatistics": _share_statistics(figures, unique=False),
                }
            )
    else:
        today = datetime.fromtimestamp(state.clock.now(), UTC).date()
        figures = _sum(org, today - WINDOW, today + timedelta(days=1))
        elements.append(
            {"organizationalEntity": org.urn, "totalShareStatistics": _share_statistics(figures, unique=True)}
        )
    return JSONResponse({"paging": {"start": 0, "count": len(elements), "links": []}, "elements": elements})


def _urns(value: RestliValue | None) -> list[str]:
    if value is None:
        return []
    if not isinstance(value, list) or not all(isinstance(v, str) for v in value):
        raise api_error(400, "ILLEGAL_ARGUMENT", "shares and ugcPosts must be List(urn,…)")
    return [str(v) for v in value]


@router.get("/rest/organizationalEntityFollowerStatistics")
async def follower_statistics(request: Request) -> JSONResponse:
    """Lifetime: follower counts by facet (here only by association type); time-bound: net gains (§2.3)."""
    caller = _caller(request, "organizations.follower_statistics", "organizationalEntityFollowerStatistics")
    state = state_of(request)
    params = query_params(request.scope.get("query_string", b""))
    if params.get("q") != "organizationalEntity":
        raise api_error(400, "ILLEGAL_ARGUMENT", "q must be organizationalEntity")
    org = _administered(state, caller, "organizationalEntityFollowerStatistics", params.get("organizationalEntity"))
    elements: list[dict[str, Any]] = []
    if "timeIntervals" in params:
        for bucket in _buckets(state, params["timeIntervals"], ("DAY", "WEEK", "MONTH")):
            figures = _sum(org, bucket.start.date(), bucket.end.date())
            elements.append(
                {
                    "organizationalEntity": org.urn,
                    "timeRange": {"start": _ms(bucket.start), "end": _ms(bucket.end)},
                    "followerGains": {
                        "organicFollowerGain": figures.organic_follower_gain,
                        "paidFollowerGain": figures.paid_follower_gain,
                    },
                }
            )
    else:
        # "This endpoint no longer returns totalFollowerCounts. Use the networkSizes API" (§2.3).
        counts = {"organicFollowerCount": org.followers, "paidFollowerCount": 0}
        elements.append(
            {
                "organizationalEntity": org.urn,
                "followerCountsByAssociationType": [],
                "followerCountsBySeniority": [{"followerCounts": counts, "seniority": "urn:li:seniority:3"}],
                "followerCountsByIndustry": [],
                "followerCountsByFunction": [],
                "followerCountsByStaffCountRange": [],
                "followerCountsByGeoCountry": [],
                "followerCountsByGeo": [],
            }
        )
    return JSONResponse({"paging": {"start": 0, "count": len(elements), "links": []}, "elements": elements})


@router.get("/rest/networkSizes/{key}")
async def network_size(key: str, request: Request) -> JSONResponse:
    """`{"firstDegreeSize": n}`: the page's follower total (edgeType COMPANY_FOLLOWED_BY_MEMBER;
    the old v2 spelling CompanyFollowedByMember is accepted too)."""
    caller = _caller(request, "organizations.network_size", "networkSizes")
    state = state_of(request)
    urn = _raw_key(request)
    edge = request.query_params.get("edgeType")
    if edge not in ("COMPANY_FOLLOWED_BY_MEMBER", "CompanyFollowedByMember"):
        raise api_error(400, "ILLEGAL_ARGUMENT", f"Invalid value {edge} for edgeType")
    org = _administered(state, caller, "networkSizes", urn)
    return JSONResponse({"firstDegreeSize": org.followers})


# -- control ----------------------------------------------------------------------------------

control = APIRouter(prefix="/_sandbox")


def _refuse(message: str) -> JSONResponse:
    return JSONResponse({"error": message}, status_code=400)


def _figures(data: Any) -> Figures:
    if not isinstance(data, dict):
        raise ValueError("figures must be objects")
    return Figures(**{name: int(data.get(name, 0)) for name in DAY_FIELDS})


def _seed(state: SandboxState, data: dict[str, Any]) -> Organization:
    organizations = _organizations(state)
    org_id = int(data["id"]) if data.get("id") is not None else state.new_numeric_id() % 100_000_000
    name = str(data.get("name") or "Sandbox Company")
    org = organizations.get(org_id) or Organization(org_id, name, str(data.get("vanity_name") or name.lower()))
    org.name = name
    org.vanity_name = str(data.get("vanity_name") or org.vanity_name)
    if "followers" in data:
        org.followers = int(data["followers"])
    for admin in data.get("admins", []):
        member, role = (admin, "ADMINISTRATOR") if isinstance(admin, str) else (admin["member"], admin["role"])
        if role not in ROLES:
            raise ValueError(f"role must be one of {', '.join(ROLES)}")
        org.admins[Member.named(str(member)).sub] = str(role)
    days = {date.fromisoformat(str(d["day"])): _figures(d) for d in data.get("days", [])}
    posts = []
    for post in data.get("posts", []):
        urn = str(post.get("urn") or f"urn:li:share:{state.new_numeric_id()}")
        posts.append((urn, _figures(post)))
    org.days.update(days)
    org.shares.update(posts)
    organizations[org.id] = org
    return org


@control.post("/organizations")
async def seed_organization(request: Request) -> JSONResponse:
    state = state_of(request)
    try:
        data = await request.json()
        if not isinstance(data, dict):
            raise ValueError("send a JSON object")
        org = _seed(state, data)
    except (ValueError, TypeError, KeyError) as error:
        return _refuse(str(error))
    return JSONResponse({"id": org.id, "urn": org.urn, "posts": list(org.shares)})


@control.get("/organizations")
async def list_organizations(request: Request) -> JSONResponse:
    elements = [
        {
            "id": org.id,
            "urn": org.urn,
            "name": org.name,
            "vanity_name": org.vanity_name,
            "followers": org.followers,
            "admins": org.admins,
            "days": {d.isoformat(): vars(f) for d, f in sorted(org.days.items())},
            "posts": {urn: vars(f) for urn, f in org.shares.items()},
        }
        for org in _organizations(state_of(request)).values()
    ]
    return JSONResponse({"elements": elements})
