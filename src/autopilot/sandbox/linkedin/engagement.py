"""Engagement reads (contract §5): memberCreatorPostAnalytics, socialMetadata, the socialActions
summary, comments and reactions. The numbers are the ones the control API injected."""

from __future__ import annotations

from collections import Counter
from datetime import UTC, date, datetime, timedelta
from typing import Any

from fastapi import APIRouter, Request
from fastapi.responses import JSONResponse, Response

from autopilot.sandbox.linkedin import little
from autopilot.sandbox.linkedin.errors import api_error, not_found
from autopilot.sandbox.linkedin.gate import Caller, rest_caller
from autopilot.sandbox.linkedin.restli import RestliValue, as_int, decode, query_params
from autopilot.sandbox.linkedin.state import Comment, Post, SandboxState
from autopilot.sandbox.linkedin.web import state_of

router = APIRouter()

FEED = ("r_member_social_feed", "r_member_social")
ANALYTICS = ("r_member_postAnalytics",)
METRICS = ("IMPRESSION", "MEMBERS_REACHED", "RESHARE", "REACTION", "COMMENT")
METRIC_UNION = "com.linkedin.adsexternalapi.memberanalytics.v1.CreatorPostAnalyticsMetricTypeV1"


def _post(state: SandboxState, urn: str) -> Post:
    post = state.post_for(urn)
    if post is None or post.deleted:
        raise not_found()
    return post


def _events(post: Post, metric: str) -> list[tuple[int, int]]:
    """(time ms, count) of one metric of one post."""
    if metric == "REACTION":
        return [(r.time_ms, 1) for r in post.reactions]
    if metric == "COMMENT":
        return [(c.time_ms, 1) for c in post.comments]
    return [(at, n) for at, kind, n in post.metric_events if kind == metric]


def _day(value: RestliValue | None) -> date | None:
    if not isinstance(value, dict):
        return None
    return date(as_int(value.get("year"), 1970), as_int(value.get("month"), 1), as_int(value.get("day"), 1))


def _day_json(day: date) -> dict[str, int]:
    return {"day": day.day, "month": day.month, "year": day.year}


@router.get("/rest/memberCreatorPostAnalytics")
async def member_post_analytics(request: Request) -> JSONResponse:
    """Finders q=entity (one post, `entity=(share:…)` or `(ugc:…)`) and q=me; TOTAL or DAILY (§5.1)."""
    caller = rest_caller(request, "analytics", "memberCreatorPostAnalytics", "FINDER", ANALYTICS)
    state = state_of(request)
    params = query_params(request.scope.get("query_string", b""))
    metric = str(params.get("queryType", ""))
    aggregation = str(params.get("aggregation", "TOTAL"))
    if metric not in METRICS or aggregation not in ("TOTAL", "DAILY"):
        raise api_error(400, "ILLEGAL_ARGUMENT", f"Invalid queryType {metric} or aggregation {aggregation}")
    if metric == "MEMBERS_REACHED" and aggregation == "DAILY":
        raise api_error(400, "ILLEGAL_ARGUMENT", "MEMBERS_REACHED does not support DAILY aggregation")
    target: dict[str, str] | None = None
    if params.get("q") == "entity":
        entity = params.get("entity")
        if not isinstance(entity, dict) or len(entity) != 1 or next(iter(entity)) not in ("share", "ugc"):
            raise api_error(400, "ILLEGAL_ARGUMENT", "entity must be (share:urn) or (ugc:urn)")
        target = {k: str(v) for k, v in entity.items()}
        post = state.post_for(next(iter(target.values())))
        # §11.6: whether other members' posts (or posts not made by this app) return data is unknown; empty here.
        posts = [post] if post is not None and not post.deleted and post.author == caller.member.urn else []
    elif params.get("q") == "me":
        posts = [p for p in state.posts.values() if p.author == caller.member.urn and not p.deleted]
    else:
        raise api_error(400, "ILLEGAL_ARGUMENT", "q must be entity or me")
    date_range = params.get("dateRange")
    first = _day(date_range.get("start")) if isinstance(date_range, dict) else None
    end = _day(date_range.get("end")) if isinstance(date_range, dict) else None  # exclusive
    per_day: Counter[date] = Counter()
    for post in posts:
        for at, n in _events(post, metric):
            day = datetime.fromtimestamp(at / 1000, UTC).date()
            if (first is None or day >= first) and (end is None or day < end):
                per_day[day] += n
    elements = (
        [_metric(caller, state, metric, sum(per_day.values()), target, first, end)]
        if aggregation == "TOTAL"
        else [_metric(caller, state, metric, n, target, d, d + timedelta(days=1)) for d, n in sorted(per_day.items())]
    )
    return JSONResponse(
        {"paging": {"start": 0, "count": 10, "links": [], "total": len(elements)}, "elements": elements}
    )


def _metric(
    caller: Caller, state: SandboxState, metric: str, count: int, target: dict[str, str] | None,
    start: date | None, end: date | None,
) -> dict[str, Any]:  # fmt: skip
    # §5.1/§11.5: from 202605 metricType is a plain string; before, a one-key union.
    plain = caller.version >= state.config.string_metric_type_from
    element: dict[str, Any] = {"count": count, "metricType": metric if plain else {METRIC_UNION: metric}}
    if target is not None:
        element["targetEntity"] = target
    if start is not None and end is not None:
        element["dateRange"] = {"start": _day_json(start), "end": _day_json(end)}
    return element


@router.get("/rest/socialMetadata/{key}")
async def social_metadata(key: str, request: Request) -> JSONResponse:
    """§5.2: comment counts and reaction summaries of one post."""
    rest_caller(request, "social_metadata", "partnerApiSocialMetadata", "GET", FEED)
    post = _post(state_of(request), key)
    by_type = Counter(r.reaction_type for r in post.reactions)
    return JSONResponse(
        {
            "entity": post.urn,
            "commentsState": "OPEN",
            "commentSummary": {"count": len(post.comments), "topLevelCount": len(post.comments)},
            "reactionSummaries": {t: {"reactionType": t, "count": n} for t, n in sorted(by_type.items())},
        }
    )


@router.get("/rest/socialActions/{key}")
async def social_actions(key: str, request: Request) -> JSONResponse:
    """§5.3: the legacy likes/comments summary (no sharesSummary: real data has none)."""
    rest_caller(request, "social_actions", "partnerApiSocialActions", "GET", FEED)
    post = _post(state_of(request), key)
    likes = [f"urn:li:like:({r.actor},{post.urn})" for r in post.reactions[:3]]
    comments = [f"urn:li:comment:({post.activity},{c.comment_id})" for c in post.comments[:3]]
    return JSONResponse(
        {
            "likesSummary": {
                "selectedLikes": likes,
                "aggregatedTotalLikes": len(post.reactions),
                "likedByCurrentUser": False,
                "totalLikes": len(post.reactions),
            },
            "commentsSummary": {
                "selectedComments": comments,
                "totalFirstLevelComments": len(post.comments),
                "commentsState": "OPEN",
                "aggregatedTotalComments": len(post.comments),
            },
            "target": post.urn,
        }
    )


def _page(request: Request) -> tuple[int, int]:
    params = query_params(request.scope.get("query_string", b""))
    return max(as_int(params.get("start"), 0), 0), min(max(as_int(params.get("count"), 10), 0), 100)


@router.get("/rest/socialActions/{key}/comments")
async def comments(key: str, request: Request) -> JSONResponse:
    """§5.5: comments oldest first; `object` is the activity URN even when asked with a share URN."""
    rest_caller(request, "comments.list", "partnerApiSocialActions", "GET", FEED)
    post = _post(state_of(request), key)
    start, count = _page(request)
    elements = []
    for comment in post.comments[start : start + count]:
        urn = f"urn:li:comment:({post.activity},{comment.comment_id})"
        stamp = {"actor": comment.actor, "time": comment.time_ms}
        elements.append(
            {
                "actor": comment.actor,
                "created": stamp,
                "lastModified": stamp,
                "id": comment.comment_id,
                "$URN": urn,
                "commentUrn": urn,
                "message": {"attributes": [], "text": comment.text},
                "object": post.activity,
            }
        )
    paging = {"start": start, "count": count, "links": [], "total": len(post.comments)}
    return JSONResponse({"paging": paging, "elements": elements})


@router.post("/rest/socialActions/{key}/comments")
async def create_comment(key: str, request: Request) -> Response:
    """§5.5: a member comments (e.g. the author's first comment) with `w_member_social`; the text is
    little text like a commentary; 201 with the comment URN in `x-restli-id`."""
    caller = rest_caller(request, "comments.create", "partnerApiSocialActions", "CREATE", ("w_member_social",))
    state = state_of(request)
    post = _post(state, key)
    try:
        body = await request.json()
    except ValueError:
        raise api_error(400, "ILLEGAL_ARGUMENT", "Request body could not be converted to data map") from None
    text = body.get("message", {}).get("text") if isinstance(body, dict) else None
    if not isinstance(text, str) or body.get("actor") != caller.member.urn:
        raise api_error(422, None, "ERROR :: /message/text :: field is required but not found and has no default value")
    comment = Comment(
        str(state.new_numeric_id()), caller.member.urn, caller.member.name, little.parse(text).displayed,
        state.clock.now_ms(),
    )  # fmt: skip
    post.comments.append(comment)
    urn = f"urn:li:comment:({post.activity},{comment.comment_id})"
    return Response(status_code=201, headers={"x-restli-id": urn})


@router.get("/rest/reactions/{key}")
@router.get("/rest/reactions")
async def reactions(request: Request) -> JSONResponse:
    """§5.4/§11.10: both `/reactions/(entity:…)?q=entity` and `?q=entity&entity=…` are accepted."""
    rest_caller(request, "reactions.list", "partnerApiReactions", "FINDER", FEED)
    state = state_of(request)
    key = request.path_params.get("key")
    if key is not None:
        raw = bytes(request.scope.get("raw_path") or b"").decode("latin-1").rsplit("/", 1)[-1]
        compound = decode(raw)
        entity = compound.get("entity") if isinstance(compound, dict) else None
    else:
        entity = query_params(request.scope.get("query_string", b"")).get("entity")
    if not isinstance(entity, str):
        raise api_error(400, "ILLEGAL_ARGUMENT", "Syntax exception in path variables")
    post = _post(state, entity)
    newest = sorted(post.reactions, key=lambda r: r.time_ms, reverse=True)
    start, count = _page(request)
    elements = [
        {
            "id": f"urn:li:reaction:({r.actor},{post.activity})",
            "reactionType": r.reaction_type,
            "root": post.activity,
            "created": {"actor": r.actor, "time": r.time_ms},
            "lastModified": {"actor": r.actor, "time": r.time_ms},
        }
        for r in newest[start : start + count]
    ]
    return JSONResponse(
        {"paging": {"start": start, "count": count, "links": [], "total": len(newest)}, "elements": elements}
    )
