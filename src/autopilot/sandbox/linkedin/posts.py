"""The Posts API (contract §3): create, get, finder, batch get, partial update, delete."""

from __future__ import annotations

import json
import re
from typing import Any

from fastapi import APIRouter, Request
from fastapi.responses import JSONResponse, Response

from autopilot.sandbox.linkedin import little, schema
from autopilot.sandbox.linkedin.errors import LinkedInError, api_error, bad_request, not_found, validation_failed
from autopilot.sandbox.linkedin.gate import Caller, rest_caller
from autopilot.sandbox.linkedin.restli import as_int, query_params
from autopilot.sandbox.linkedin.state import Post, SandboxState
from autopilot.sandbox.linkedin.web import state_of

router = APIRouter()

MAX_COMMENTARY = 3000
AUTHOR = re.compile(r"^urn:li:(person|organization):[A-Za-z0-9_-]+$")
MEDIA = re.compile(r"^urn:li:(image|document|video):[A-Za-z0-9_-]+$")
POST_URN = re.compile(r"^urn:li:(share|ugcPost):\d+$")
WRITE = ("w_member_social",)


def read_scopes(state: SandboxState) -> tuple[str, ...]:
    return ("r_member_social",) if state.config.reads_require_r_member_social else ()


async def json_body(request: Request) -> Any:
    try:
        return json.loads(await request.body())
    except ValueError:
        raise api_error(400, "ILLEGAL_ARGUMENT", "Request body could not be converted to data map") from None


def path_key(request: Request) -> str:
    """The URN of the path's last segment; a raw colon means it was not Rest.li-encoded (§2.3)."""
    raw = bytes(request.scope.get("raw_path") or request.url.path.encode()).decode("latin-1")
    if ":" in raw.rstrip("/").rsplit("/", 1)[-1]:
        raise api_error(400, "ILLEGAL_ARGUMENT", "Syntax exception in path variables")
    return str(request.path_params["key"])


@router.post("/rest/posts")
async def create_post(request: Request) -> Response:
    """201 with the URN in x-restli-id; everything LinkedIn refuses is refused the way it refuses it."""
    caller = rest_caller(request, "posts.create", "partnerApiPostsExternal", "CREATE", WRITE)
    state = state_of(request)
    body = await json_body(request)
    if not isinstance(body, dict):
        raise api_error(400, "ILLEGAL_ARGUMENT", "Request body could not be converted to data map")
    problems = schema.errors(body, schema.POST)
    if problems:
        raise validation_failed(problems)
    _check_author(caller, body["author"])
    _check_lifecycle(state, body["lifecycleState"])
    _check_length(body["commentary"])
    content = body.get("content")
    if content is not None:
        _check_content(state, caller, content)
    key = _duplicate_key(body["commentary"], content)
    async with state.lock:  # the duplicate check and the insert must not interleave with another create
        now = state.clock.now()
        earlier = state.recent_content.get((body["author"], key))
        if earlier is not None and now - earlier[1] < state.config.duplicate_window_s:
            earlier_post = state.posts.get(earlier[0])
            if earlier_post is not None and (not earlier_post.deleted or state.config.duplicates_survive_delete):
                raise bad_request(
                    f"Content is a duplicate of {earlier[0]}", "DUPLICATE_POST", "Duplicate post is detected", {}, 422
                )
        post = _store(state, body, content)
        state.recent_content[(body["author"], key)] = (post.urn, now)
    return Response(status_code=201, headers={"x-restli-id": post.urn, "x-linkedin-id": post.urn})


def _check_author(caller: Caller, author: str) -> None:
    if not AUTHOR.match(author):
        raise bad_request(
            f"Invalid author URN {author}", "INVALID_URN_TYPE", "Invalid URN type",
            {"inputPath": {"fieldPath": "/author"}},
        )  # fmt: skip
    if author != caller.member.urn:
        # Assumed (§10.6: "not observed"). The body is how LinkedIn is said to answer this; it is not in
        # the contract we hold and was written from memory: uncertain in shape, certain only in the 403.
        raise LinkedInError(
            403,
            {
                "status": 403,
                "serviceErrorCode": 100,
                "message": "Unpermitted fields present in REQUEST_BODY: "
                "Data Processing Exception while processing fields [/author]",
            },
        )


def _check_lifecycle(state: SandboxState, lifecycle: str) -> None:
    # §11.4: "PUBLISHED is the only accepted field during creation"; DRAFT behind a switch.
    if lifecycle == "PUBLISHED" or (lifecycle == "DRAFT" and state.config.accept_draft):
        return
    raise bad_request(
        f"Invalid lifecycleState {lifecycle} for creation", "INVALID_VALUE_FOR_FIELD", "Invalid value for field",
        {"inputPath": {"fieldPath": "/lifecycleState"}},
    )  # fmt: skip


def _check_length(commentary: str) -> None:
    # Counted in code points on the text as sent (escaped), §3.2 / §11.2.
    length = len(commentary)
    if length > MAX_COMMENTARY:
        raise bad_request(
            f"ShareCommentary text length ({length} characters) exceeded "
            f"the maximum allowed ({MAX_COMMENTARY} characters)",
            "FIELD_ARRAY_SIZE_TOO_HIGH",
            "Size of array cannot be higher than the maxLength",
            {"value": {"stringValue": commentary}},
        )


def _check_content(state: SandboxState, caller: Caller, content: dict[str, Any]) -> None:
    kinds = [k for k in content if k in schema.CONTENT]
    if len(kinds) != 1:
        raise validation_failed(["/content :: exactly one content type is allowed"])
    ids: list[str] = []
    if "media" in content:
        ids = [content["media"]["id"]]
        if ids[0].startswith("urn:li:document:") and not content["media"].get("title"):
            raise validation_failed(["/content/media/title :: a document post needs a title"])
    elif "multiImage" in content:
        images = content["multiImage"]["images"]
        if not 2 <= len(images) <= 20:
            raise bad_request(
                "A multi-image post needs 2 to 20 images", "INVALID_VALUE_FOR_FIELD", "Invalid value for field",
                {"inputPath": {"fieldPath": "/content/multiImage/images"}},
            )  # fmt: skip
        ids = [str(image.get("id", "")) if isinstance(image, dict) else "" for image in images]
    for urn in ids:
        asset = state.media.get(urn)
        if asset is None and urn.startswith("urn:li:video:") and MEDIA.match(urn):
            continue  # videos are out of scope (§4.3): accepted unchecked
        if asset is None:
            raise bad_request(
                f"Invalid media URN {urn}", "INVALID_URN_ID", "Invalid URN id",
                {"inputPath": {"fieldPath": "/content/media/id"}},
            )  # fmt: skip
        if asset.owner != caller.member.urn:
            raise LinkedInError(
                403,
                {
                    "message": f"Accessing this {asset.kind} resource is forbidden. "
                    "Please check your permissions for this resource",
                    "status": 403,
                },
            )


def _duplicate_key(commentary: str, content: Any) -> str:
    """§8/§11.3: whitespace-normalized commentary plus the content, compared per author."""
    return " ".join(commentary.split()) + "\x00" + json.dumps(content, sort_keys=True)


def _urn_kind(state: SandboxState, content: dict[str, Any] | None) -> str:
    if state.config.post_urn_kind != "auto":
        return state.config.post_urn_kind
    # §2.5/§10.6: text, article and image posts come back as share; document, multi-image and video as ugcPost.
    media_id = str(((content or {}).get("media") or {}).get("id", ""))
    if (content and "multiImage" in content) or media_id.startswith(("urn:li:document:", "urn:li:video:")):
        return "ugcPost"
    return "share"


def _store(state: SandboxState, body: dict[str, Any], content: dict[str, Any] | None) -> Post:
    now = state.clock.now_ms()
    post = Post(
        urn=f"urn:li:{_urn_kind(state, content)}:{state.new_numeric_id()}",
        activity=f"urn:li:activity:{state.new_numeric_id()}",
        author=body["author"],
        parsed=little.parse(body["commentary"]),
        body=body,
        created_ms=now,
        modified_ms=now,
        lifecycle_state=body["lifecycleState"],
    )
    state.posts[post.urn] = post
    state.activities[post.activity] = post.urn
    state.stats["posts_created"][post.author] += 1
    return post


def entity(post: Post) -> dict[str, Any]:
    """A post as GET /rest/posts returns it (§3.4): ms timestamps, hashtags in template form."""
    body = post.body
    out: dict[str, Any] = {
        "isReshareDisabledByAuthor": bool(body.get("isReshareDisabledByAuthor", False)),
        "createdAt": post.created_ms,
        "lifecycleState": post.lifecycle_state,
        "lastModifiedAt": post.modified_ms,
        "visibility": body["visibility"],
        "publishedAt": post.created_ms,
        "author": post.author,
        "id": post.urn,
        "distribution": body["distribution"],
        "commentary": post.parsed.template,
        "lifecycleStateInfo": {"isEditedByAuthor": post.modified_ms != post.created_ms},
    }
    for name in ("content", "reshareContext", "contentLandingPage", "contentCallToActionLabel"):
        if name in body:
            out[name] = body[name]
    return out


def live_post(state: SandboxState, urn: str) -> Post:
    post = state.posts.get(urn)
    if post is None or post.deleted:
        raise not_found()
    return post


@router.get("/rest/posts/{key}")
async def get_post(request: Request) -> JSONResponse:
    state = state_of(request)
    rest_caller(request, "posts.get", "partnerApiPostsExternal", "GET", read_scopes(state))
    return JSONResponse(entity(live_post(state, path_key(request))))


@router.get("/rest/posts")
async def find_posts(request: Request) -> JSONResponse:
    """FINDER q=author (newest first, Rest.li paging) and BATCH_GET ids=List(...)."""
    state = state_of(request)
    params = query_params(request.scope.get("query_string", b""))
    if "ids" in params:
        rest_caller(request, "posts.batch_get", "partnerApiPostsExternal", "BATCH_GET", read_scopes(state))
        ids = params["ids"] if isinstance(params["ids"], list) else [params["ids"]]
        results: dict[str, Any] = {}
        errors: dict[str, Any] = {}
        for urn in (str(i) for i in ids):
            post = state.posts.get(urn)
            if post is None or post.deleted:
                errors[urn] = {"status": 404, "code": "NOT_FOUND", "message": "Not Found"}
            else:
                results[urn] = entity(post)
        return JSONResponse({"results": results, "statuses": {u: 200 for u in results}, "errors": errors})
    rest_caller(request, "posts.finder", "partnerApiPosts", "FINDER", read_scopes(state))
    if params.get("q") != "author":
        raise api_error(400, "ILLEGAL_ARGUMENT", "Unsupported finder or missing q parameter")
    author = str(params.get("author", ""))
    start = max(as_int(params.get("start"), 0), 0)
    count = min(max(as_int(params.get("count"), 10), 0), 100)
    by_created = params.get("sortBy") == "CREATED"
    mine = [p for p in state.posts.values() if p.author == author and not p.deleted]
    mine.sort(key=lambda p: (p.created_ms if by_created else p.modified_ms, p.urn), reverse=True)
    page = mine[start : start + count]
    return JSONResponse(
        {
            "elements": [entity(p) for p in page],
            "paging": {"start": start, "count": count, "links": [], "total": len(mine)},
        }
    )


@router.delete("/rest/posts/{key}")
async def delete_post(request: Request) -> Response:
    """204, then 404 for the same URN (§3.6); a delete needs only w_member_social."""
    caller = rest_caller(request, "posts.delete", "partnerApiPostsExternal", "DELETE", WRITE)
    state = state_of(request)
    post = live_post(state, path_key(request))
    if post.author != caller.member.urn:
        raise api_error(403, "ACCESS_DENIED", f"Not enough permissions to delete {post.urn}", 100)
    post.deleted = True
    post.modified_ms = state.clock.now_ms()
    return Response(status_code=204)


@router.post("/rest/posts/{key}")
async def update_post(request: Request) -> Response:
    """PARTIAL_UPDATE `{"patch":{"$set":{...}}}` → 204 (§3.5); Rest.li takes a POST on a key as one."""
    caller = rest_caller(request, "posts.update", "partnerApiPostsExternal", "PARTIAL_UPDATE", WRITE)
    state = state_of(request)
    method = request.headers.get("x-restli-method", "PARTIAL_UPDATE").upper()
    if method != "PARTIAL_UPDATE":
        raise api_error(400, "ILLEGAL_ARGUMENT", f"Unsupported method {method} on an entity")
    post = live_post(state, path_key(request))
    if post.author != caller.member.urn:
        raise api_error(403, "ACCESS_DENIED", f"Not enough permissions to update {post.urn}", 100)
    body = await json_body(request)
    patch = body.get("patch") if isinstance(body, dict) else None
    changes = patch.get("$set", {}) if isinstance(patch, dict) else None
    if not isinstance(changes, dict):
        raise validation_failed(["/patch :: field is required but not found and has no default value"])
    problems = schema.errors(changes, schema.EDITABLE, "/patch/$set", partial=True)
    if problems:
        raise validation_failed(problems)
    if "commentary" in changes:
        _check_length(changes["commentary"])
        post.parsed = little.parse(changes["commentary"])
    if "lifecycleState" in changes:
        post.lifecycle_state = changes["lifecycleState"]
    post.body = {**post.body, **changes}
    post.modified_ms = state.clock.now_ms()
    return Response(status_code=204)
