"""The control API under /_sandbox/ (JSON, no auth): what tests and demos use to look inside the
sandbox and to steer it. Documented in the package docstring."""

from __future__ import annotations

import html
from datetime import UTC, datetime
from typing import Any

from fastapi import APIRouter, Request
from fastapi.responses import HTMLResponse, JSONResponse, Response

from autopilot.sandbox.linkedin.faults import rule_from_json
from autopilot.sandbox.linkedin.oauth import grant_tokens
from autopilot.sandbox.linkedin.state import Comment, Member, Post, Reaction, SandboxState
from autopilot.sandbox.linkedin.web import state_of, styled_page

router = APIRouter(prefix="/_sandbox")
REACTION_TYPES = ("LIKE", "PRAISE", "EMPATHY", "INTEREST", "APPRECIATION", "ENTERTAINMENT")


def _refuse(message: str, status: int = 400) -> JSONResponse:
    return JSONResponse({"error": message}, status_code=status)


async def _json(request: Request) -> dict[str, Any]:
    try:
        data = await request.json()
    except ValueError:
        return {}
    return data if isinstance(data, dict) else {}


def post_view(post: Post) -> dict[str, Any]:
    """A post as members see it, plus what LinkedIn stored."""
    return {
        "urn": post.urn,
        "activity": post.activity,
        "author": post.author,
        "commentary": post.parsed.stored,
        "displayed_text": post.parsed.displayed,
        "truncated": post.parsed.truncated,
        "hashtags": post.parsed.hashtags,
        "mentions": [{"name": m.name, "urn": m.urn} for m in post.parsed.mentions],
        "created_at": post.created_ms,
        "content": post.body.get("content"),
        "lifecycle_state": post.lifecycle_state,
        "deleted": post.deleted,
        "reactions": len(post.reactions),
        "comments": len(post.comments),
        "comment_list": [{"author": c.actor, "author_name": c.author_name, "text": c.text} for c in post.comments],
    }


@router.get("/posts")
async def list_posts(request: Request) -> JSONResponse:
    state = state_of(request)
    author = request.query_params.get("author")
    include_deleted = request.query_params.get("include_deleted", "false").lower() == "true"
    posts = [
        p
        for p in sorted(state.posts.values(), key=lambda p: p.created_ms)
        if (author is None or p.author == author) and (include_deleted or not p.deleted)
    ]
    return JSONResponse({"elements": [post_view(p) for p in posts]})


@router.get("/app")
async def get_app(request: Request) -> JSONResponse:
    return JSONResponse(state_of(request).config.as_json())


@router.put("/app")
async def put_app(request: Request) -> JSONResponse:
    state = state_of(request)
    try:
        state.config = state.config.updated(await _json(request))
    except (ValueError, TypeError, IndexError) as error:
        return _refuse(str(error))
    return JSONResponse(state.config.as_json())


@router.post("/faults")
async def set_faults(request: Request) -> JSONResponse:
    data = await _json(request)
    try:
        rules = [rule_from_json(r) for r in data.get("rules", [])]
    except (ValueError, TypeError) as error:
        return _refuse(str(error))
    seed = data.get("seed")
    state_of(request).set_faults(None if seed is None else int(seed), rules)
    return JSONResponse({"rules": len(rules)})


@router.delete("/faults")
async def clear_faults(request: Request) -> Response:
    state_of(request).set_faults(None, [])
    return Response(status_code=204)


@router.post("/tokens/revoke")
async def revoke_tokens(request: Request) -> JSONResponse:
    """`{"member": sub}` revokes every token and grant of a member (as if revoked on linkedin.com);
    `{"access_token": …}` one token."""
    state = state_of(request)
    data = await _json(request)
    revoked = 0
    for token in state.access_tokens.values():
        if token.token == data.get("access_token") or token.member.sub == data.get("member"):
            token.revoked = True
            revoked += 1
    if "member" in data:
        for grant in state.refresh_grants.values():
            if grant.member.sub == data["member"]:
                grant.revoked = True
        state.grants.pop(str(data["member"]), None)
    return JSONResponse({"revoked": revoked})


@router.post("/tokens/mint")
async def mint_tokens(request: Request) -> JSONResponse:
    """`{"members": [display name, …], "scopes": [...]}`: tokens as if each member had consented
    (for load set-ups that connect thousands of members); scopes default to the app's."""
    state = state_of(request)
    data = await _json(request)
    names = data.get("members")
    if not isinstance(names, list) or not all(isinstance(n, str) and n for n in names):
        return _refuse("members must be a list of display names")
    scopes = tuple(str(s) for s in data.get("scopes") or state.config.app_scopes)
    elements = []
    for name in names:
        member = Member.named(name)
        state.grants[member.sub] = scopes
        state.stats["token_grants"]["mint"] += 1
        tokens = grant_tokens(state, state.config.client_id, member, scopes)
        elements.append({"member": name, "sub": member.sub, "email": member.email, **tokens})
    return JSONResponse({"elements": elements})


@router.post("/tokens/expire")
async def expire_tokens(request: Request) -> JSONResponse:
    """Access tokens of the member expire now; refresh tokens stay valid."""
    state = state_of(request)
    data = await _json(request)
    now = state.clock.now()
    expired = 0
    for token in state.access_tokens.values():
        if token.member.sub == data.get("member") or token.token == data.get("access_token"):
            token.expires_at = min(token.expires_at, now)
            expired += 1
    return JSONResponse({"expired": expired})


def _clock_json(state: SandboxState) -> dict[str, Any]:
    now = state.clock.now()
    return {"now": datetime.fromtimestamp(now, UTC).isoformat(), "epoch_s": now, "offset_s": state.clock.offset}


@router.get("/clock")
async def get_clock(request: Request) -> JSONResponse:
    return JSONResponse(_clock_json(state_of(request)))


@router.post("/clock")
async def set_clock(request: Request) -> JSONResponse:
    state = state_of(request)
    data = await _json(request)
    try:
        if "advance_s" in data:
            state.clock.advance(float(data["advance_s"]))
        elif "now" in data:
            moment = datetime.fromisoformat(str(data["now"]))
            state.clock.set(moment if moment.tzinfo else moment.replace(tzinfo=UTC))
        else:
            return _refuse("give advance_s or now")
    except ValueError as error:
        return _refuse(str(error))
    return JSONResponse(_clock_json(state))


@router.get("/stats")
async def stats(request: Request) -> JSONResponse:
    return JSONResponse({name: dict(counter) for name, counter in state_of(request).stats.items()})


@router.post("/reset")
async def reset(request: Request) -> Response:
    state_of(request).reset()
    return Response(status_code=204)


def _target(state: SandboxState, urn: str) -> Post | None:
    post = state.post_for(urn)
    return None if post is None or post.deleted else post


@router.post("/posts/{urn}/reactions")
async def add_reactions(urn: str, request: Request) -> JSONResponse:
    """`{"count": n, "type": "LIKE"}`: n synthetic members react."""
    state = state_of(request)
    post = _target(state, urn)
    if post is None:
        return _refuse("no such post", 404)
    data = await _json(request)
    kind = str(data.get("type", "LIKE"))
    if kind not in REACTION_TYPES:
        return _refuse(f"type must be one of {', '.join(REACTION_TYPES)}")
    for _ in range(int(data.get("count", 1))):
        actor = f"urn:li:person:{Member.named(f'reactor-{state.new_numeric_id()}').sub}"
        post.reactions.append(Reaction(actor, kind, state.clock.now_ms()))
    return JSONResponse({"reactions": len(post.reactions)})


@router.post("/posts/{urn}/comments")
async def add_comment(urn: str, request: Request) -> JSONResponse:
    """`{"text": …, "author_name": …}`: a comment from a member of that name."""
    state = state_of(request)
    post = _target(state, urn)
    if post is None:
        return _refuse("no such post", 404)
    data = await _json(request)
    name = str(data.get("author_name", "Commenting Member"))
    comment = Comment(
        str(state.new_numeric_id()), Member.named(name).urn, name, str(data.get("text", "")), state.clock.now_ms()
    )
    post.comments.append(comment)
    return JSONResponse({"id": comment.comment_id, "urn": f"urn:li:comment:({post.activity},{comment.comment_id})"})


@router.post("/posts/{urn}/impressions")
async def add_impressions(urn: str, request: Request) -> JSONResponse:
    """`{"impressions": n, "members_reached": m, "reshares": r}` added to the post's analytics."""
    state = state_of(request)
    post = _target(state, urn)
    if post is None:
        return _refuse("no such post", 404)
    data = await _json(request)
    now = state.clock.now_ms()
    for field, metric in (
        ("impressions", "IMPRESSION"),
        ("members_reached", "MEMBERS_REACHED"),
        ("reshares", "RESHARE"),
    ):
        if data.get(field):
            post.metric_events.append((now, metric, int(data[field])))
    return JSONResponse({"ok": True})


FEED_STYLE = (
    "body{font-family:system-ui,sans-serif;max-width:36rem;margin:0 auto;padding:1rem;background:#f4f2ee}"
    "article{background:#fff;border-radius:8px;padding:1rem;margin:0 0 1rem}"
    ".text{white-space:pre-wrap;overflow-wrap:anywhere}footer{color:#666;font-size:.85rem}"
)


@router.get("/feed", response_class=HTMLResponse)
async def feed(request: Request) -> HTMLResponse:
    """Every member's live posts as a member would read them (escaped, newlines kept)."""
    state = state_of(request)
    posts = sorted((p for p in state.posts.values() if not p.deleted), key=lambda p: p.created_ms, reverse=True)
    names = {t.member.urn: t.member.name for t in state.access_tokens.values()}
    cards = []
    for post in posts:
        when = datetime.fromtimestamp(post.created_ms / 1000, UTC).strftime("%Y-%m-%d %H:%M UTC")
        cut = " <em>(truncated by LinkedIn)</em>" if post.parsed.truncated else ""
        cards.append(
            f'<article data-urn="{html.escape(post.urn)}">'
            f"<header><strong>{html.escape(names.get(post.author, post.author))}</strong>"
            f" · <time>{when}</time></header><p class=text>{html.escape(post.parsed.displayed)}</p>"
            f"<footer>{len(post.reactions)} reactions · {len(post.comments)} comments{cut}"
            f" · <code>{html.escape(post.urn)}</code></footer></article>"
        )
    body = "".join(cards) or "<p>No posts yet.</p>"
    return styled_page("LinkedIn (Sandbox) feed", FEED_STYLE, f"<h1>LinkedIn (Sandbox) feed</h1>{body}")
