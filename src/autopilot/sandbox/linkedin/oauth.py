"""OAuth 2.0 and OpenID Connect as www.linkedin.com serves them (contract §1): consent, codes,
tokens, refresh, introspection, revocation, discovery, JWKS and /v2/userinfo."""

from __future__ import annotations

import html
import json
import secrets
from typing import Any
from urllib.parse import urlencode, urlsplit, urlunsplit

import jwt
from fastapi import APIRouter, Request
from fastapi.responses import HTMLResponse, JSONResponse, RedirectResponse, Response
from jwt.algorithms import RSAAlgorithm

from autopilot.sandbox.linkedin.errors import LinkedInError, oauth_error
from autopilot.sandbox.linkedin.gate import bearer_token
from autopilot.sandbox.linkedin.state import AccessToken, AuthCode, Consent, Member, RefreshGrant, SandboxState
from autopilot.sandbox.linkedin.web import base_of, state_of, styled_page

router = APIRouter()

CODE_TTL_S = 30 * 60  # "a 30-minute lifespan" (§1.3)
ID_TOKEN_TTL_S = 3600
MEMBER_COOKIE = "li_sandbox_member"
DEFAULT_MEMBER = "Sandbox Member"
BAD_CODE = (
    "Unable to retrieve access token: appid/redirect uri/code verifier does not match authorization code. "
    "Or authorization code expired. Or external member binding exists"
)
BAD_REFRESH = "The provided authorization grant or refresh token is invalid, expired or revoked"


PAGE_STYLE = (
    "body{font-family:system-ui,sans-serif;max-width:28rem;margin:2rem auto;padding:0 1rem}"
    "button{padding:.5rem 1.2rem;margin-right:.5rem}input{padding:.4rem;width:100%}"
)


def _page(title: str, body: str, status: int = 200) -> HTMLResponse:
    return styled_page(f"{title} | LinkedIn (Sandbox)", PAGE_STYLE, body, status)


def _redirect_allowed(state: SandboxState, redirect_uri: str) -> bool:
    parts = urlsplit(redirect_uri)
    if parts.scheme not in ("http", "https") or not parts.netloc or "#" in redirect_uri:
        return False
    if not state.config.redirect_uris:
        return True  # sandbox convenience: any absolute http(s) URI

    def without_query(uri: str) -> str:
        p = urlsplit(uri)
        return urlunsplit((p.scheme, p.netloc, p.path, "", ""))

    return without_query(redirect_uri) in {without_query(u) for u in state.config.redirect_uris}


def _with_params(uri: str, params: dict[str, str | None]) -> str:
    parts = urlsplit(uri)
    extra = urlencode({k: v for k, v in params.items() if v is not None})
    query = f"{parts.query}&{extra}" if parts.query else extra
    return urlunsplit((parts.scheme, parts.netloc, parts.path, query, parts.fragment))


def _approve(state: SandboxState, consent: Consent, member: Member) -> RedirectResponse:
    previous = state.grants.get(member.sub)
    if previous is not None and set(previous) != set(consent.scopes):
        # "If you request a different scope than the previously granted scope, all the previous
        # access tokens are invalidated" (§1.1).
        for token in state.access_tokens.values():
            if token.member.sub == member.sub and token.client_id == consent.client_id:
                token.revoked = True
    state.grants[member.sub] = consent.scopes
    code = "AQ" + secrets.token_urlsafe(110)
    state.codes[code] = AuthCode(
        consent.client_id, consent.redirect_uri, consent.scopes, member, state.clock.now() + CODE_TTL_S
    )
    response = RedirectResponse(_with_params(consent.redirect_uri, {"code": code, "state": consent.state}), 302)
    response.set_cookie(MEMBER_COOKIE, member.name, httponly=True, samesite="lax")
    return response


@router.get("/oauth/v2/authorization", response_model=None)
async def authorization(request: Request) -> Response:
    """The member authorization page: validates the app's request, then consent (or skips it)."""
    state = state_of(request)
    query = request.query_params
    if query.get("response_type") != "code":
        return _page("Error", "<h1>Invalid request</h1><p>response_type must be code</p>", 400)
    if query.get("client_id") != state.config.client_id:
        return _page("Error", "<h1>Client_id doesn't match</h1>", 401)
    redirect_uri = query.get("redirect_uri", "")
    if not _redirect_allowed(state, redirect_uri):
        return _page("Error", "<h1>Redirect_uri doesn't match</h1>", 401)
    scopes = tuple(s for s in query.get("scope", "").replace(",", " ").split() if s)
    if not scopes or not set(scopes) <= set(state.config.app_scopes):
        return _page("Error", "<h1>Invalid scope</h1>", 401)
    consent = Consent(state.config.client_id, redirect_uri, query.get("state"), scopes)
    chosen = query.get("sandbox_member") or request.cookies.get(MEMBER_COOKIE)
    if state.config.auto_approve:
        return _approve(state, consent, Member.named(chosen or DEFAULT_MEMBER))
    returning = request.cookies.get(MEMBER_COOKIE)
    if returning:
        member = Member.named(returning)
        if set(scopes) <= set(state.grants.get(member.sub, ())):
            return _approve(state, consent, member)  # a returning grant skips the screen (§1.2)
    consent_id = secrets.token_urlsafe(16)
    state.consents[consent_id] = consent
    action = html.escape(str(request.url_for("consent")))
    listed = "".join(f"<li>{html.escape(s)}</li>" for s in scopes)
    return _page(
        "Authorize",
        f"<h1>LinkedIn (Sandbox)</h1><p>An app (client id <code>{html.escape(consent.client_id)}</code>) "
        f"asks for:</p><ul>{listed}</ul>"
        f'<form method=post action="{action}"><input type=hidden name=consent value="{consent_id}">'
        f'<label>Sign in as <input type=text name=member_name value="{html.escape(chosen or DEFAULT_MEMBER)}">'
        "</label><p><button type=submit name=decision value=allow>Allow</button>"
        "<button type=submit name=decision value=cancel>Cancel</button></p></form>",
    )


@router.post("/oauth/v2/authorization/consent", name="consent", response_model=None)
async def consent_decision(request: Request) -> Response:
    """The consent form's Allow or Cancel: back to the app with a code, or with user_cancelled_authorize."""
    state = state_of(request)
    form = await request.form()
    consent = state.consents.pop(str(form.get("consent", "")), None)
    if consent is None:
        return _page("Error", "<h1>This authorization request has expired</h1>", 400)
    if form.get("decision") != "allow":
        description = "The user cancelled the authorization"
        target = _with_params(
            consent.redirect_uri,
            {"error": "user_cancelled_authorize", "error_description": description, "state": consent.state or ""},
        )
        return RedirectResponse(target, 302)
    name = str(form.get("member_name", "")).strip() or DEFAULT_MEMBER
    return _approve(state, consent, Member.named(name))


def _id_token(request: Request, state: SandboxState, member: Member, scopes: tuple[str, ...]) -> str:
    now = int(state.clock.now())
    claims: dict[str, Any] = {
        "iss": base_of(request),
        "aud": state.config.client_id,
        "iat": now,
        "exp": now + ID_TOKEN_TTL_S,
        "sub": member.sub,
        "name": member.name,
        "given_name": member.given_name,
        "family_name": member.family_name,
        "locale": "en_US",
    }
    if "email" in scopes:
        claims.update(email=member.email, email_verified=True)
    return jwt.encode(claims, state.signing_key, algorithm="RS256", headers={"kid": state.key_id})


def _new_access_token(state: SandboxState, client_id: str, member: Member, scopes: tuple[str, ...]) -> AccessToken:
    now = state.clock.now()
    token = AccessToken(
        "AQV" + secrets.token_urlsafe(300), client_id, member, scopes, now, now + state.config.access_ttl_s
    )
    state.access_tokens[token.token] = token
    return token


@router.post("/oauth/v2/accessToken")
async def access_token(request: Request) -> JSONResponse:
    """Form-encoded only: a JSON body carries no parameters, so it fails as "grant_type is missing"."""
    state = state_of(request)
    form = {k: str(v) for k, v in (await request.form()).items()}
    grant_type = form.get("grant_type")
    if not grant_type:
        raise _missing("grant_type")
    if grant_type == "authorization_code":
        payload = _exchange_code(request, state, form)
    elif grant_type == "refresh_token":
        payload = _refresh(state, form)
    else:
        raise oauth_error(400, "unsupported_grant_type", f"The grant type {grant_type} is not supported")
    state.stats["token_grants"][grant_type] += 1
    return JSONResponse(payload, headers={"Cache-Control": "no-store"})


def _missing(name: str) -> LinkedInError:
    return oauth_error(400, "invalid_request", f'A required parameter "{name}" is missing')


def _client_ok(state: SandboxState, form: dict[str, str]) -> None:
    if form.get("client_id") != state.config.client_id or form.get("client_secret") != state.config.client_secret:
        raise oauth_error(401, "invalid_client", "Client authentication failed")


def _exchange_code(request: Request, state: SandboxState, form: dict[str, str]) -> dict[str, Any]:
    for name in ("code", "redirect_uri", "client_id", "client_secret"):
        if not form.get(name):
            raise _missing(name)
    _client_ok(state, form)
    code = state.codes.get(form["code"])
    if code is None:
        raise oauth_error(401, "invalid_request", "Unable to retrieve access token: authorization code not found")
    if code.used or code.expires_at < state.clock.now() or code.redirect_uri != form["redirect_uri"]:
        raise oauth_error(400, "invalid_request", BAD_CODE)
    code.used = True
    payload = grant_tokens(state, code.client_id, code.member, code.scopes)
    if "openid" in code.scopes:
        payload["id_token"] = _id_token(request, state, code.member, code.scopes)
    return payload


def grant_tokens(state: SandboxState, client_id: str, member: Member, scopes: tuple[str, ...]) -> dict[str, Any]:
    """A new access token (and refresh token when the app gets them) for the member: the token
    response without its id_token. Used by the code exchange and by the control API's mint."""
    token = _new_access_token(state, client_id, member, scopes)
    payload: dict[str, Any] = {
        "access_token": token.token,
        "expires_in": state.config.access_ttl_s,
        "scope": ",".join(sorted(scopes)),  # real responses are comma-separated (§1.4)
        "token_type": "Bearer",
    }
    if state.config.refresh_enabled:
        grant = RefreshGrant(
            "AQX" + secrets.token_urlsafe(300),
            client_id,
            member,
            scopes,
            token.created_at,
            token.created_at + state.config.refresh_ttl_s,
        )
        state.refresh_grants[grant.token] = grant
        payload.update(refresh_token=grant.token, refresh_token_expires_in=state.config.refresh_ttl_s)
    return payload


def _refresh(state: SandboxState, form: dict[str, str]) -> dict[str, Any]:
    for name in ("client_id", "refresh_token"):
        if not form.get(name):
            raise _missing(name)
    _client_ok(state, form)
    grant = state.refresh_grants.get(form["refresh_token"])
    now = state.clock.now()
    # §1.5/§11.7: the docs send invalid_request here; many mocks use invalid_grant. We follow the docs.
    if not state.config.refresh_enabled or grant is None or grant.revoked or grant.expires_at <= now:
        raise oauth_error(400, "invalid_request", BAD_REFRESH)
    token = _new_access_token(state, grant.client_id, grant.member, grant.scopes)
    token.expires_at = min(token.expires_at, grant.expires_at)
    return {
        "access_token": token.token,
        "expires_in": int(token.expires_at - now),
        "refresh_token": grant.token,  # no rotation (§1.5)
        "refresh_token_expires_in": int(grant.expires_at - now),
        "scope": ",".join(sorted(grant.scopes)),
    }


@router.post("/oauth/v2/introspectToken")
async def introspect(request: Request) -> JSONResponse:
    """§1.6: 400 for an unknown client id or token, 401 for a bad secret; epoch seconds."""
    state = state_of(request)
    form = {k: str(v) for k, v in (await request.form()).items()}
    if form.get("client_id") != state.config.client_id:
        raise oauth_error(400, "invalid_request", "Invalid client id")
    if form.get("client_secret") != state.config.client_secret:
        raise oauth_error(401, "invalid_client", "Client authentication failed")
    token = state.access_tokens.get(form.get("token", ""))
    if token is None:
        raise oauth_error(400, "invalid_request", "Invalid token")
    if token.client_id != state.config.client_id:
        return JSONResponse({"active": False})
    status = "revoked" if token.revoked else "expired" if token.expires_at <= state.clock.now() else "active"
    return JSONResponse(
        {
            "active": status == "active",
            "client_id": token.client_id,
            "authorized_at": int(token.created_at),
            "created_at": int(token.created_at),
            "status": status,
            "expires_at": int(token.expires_at),
            "scope": ",".join(sorted(token.scopes)),
            "auth_type": "3L",
        }
    )


@router.post("/oauth/v2/revoke")
async def revoke(request: Request) -> Response:
    """§11.9 (uncertain; LinkedCtl uses it): revokes an access token, or a refresh token and its member's tokens."""
    state = state_of(request)
    form = {k: str(v) for k, v in (await request.form()).items()}
    if not form.get("token"):
        raise _missing("token")
    _client_ok(state, form)
    token = form["token"]
    if token in state.access_tokens:
        state.access_tokens[token].revoked = True
    elif token in state.refresh_grants:
        grant = state.refresh_grants[token]
        grant.revoked = True
        for access in state.access_tokens.values():
            if access.member.sub == grant.member.sub:
                access.revoked = True
    return Response(status_code=200)


@router.get("/.well-known/openid-configuration")
@router.get("/oauth/.well-known/openid-configuration")
async def discovery(request: Request) -> JSONResponse:
    base = base_of(request)
    return JSONResponse(
        {
            "issuer": base,
            "authorization_endpoint": f"{base}/oauth/v2/authorization",
            "token_endpoint": f"{base}/oauth/v2/accessToken",
            "userinfo_endpoint": f"{base}/v2/userinfo",
            "jwks_uri": f"{base}/oauth/openid/jwks",
            "response_types_supported": ["code"],
            "subject_types_supported": ["pairwise"],
            "id_token_signing_alg_values_supported": ["RS256"],
            "scopes_supported": ["openid", "profile", "email"],
            "claims_supported": [
                "iss",
                "aud",
                "iat",
                "exp",
                "sub",
                "name",
                "given_name",
                "family_name",
                "picture",
                "email",
                "email_verified",
                "locale",
            ],
        }
    )


@router.get("/oauth/openid/jwks")
async def jwks(request: Request) -> JSONResponse:
    state = state_of(request)
    key = json.loads(RSAAlgorithm.to_jwk(state.signing_key.public_key()))
    key.update(kid=state.key_id, use="sig", alg="RS256")
    return JSONResponse({"keys": [key]})


@router.get("/v2/userinfo")
async def userinfo(request: Request) -> JSONResponse:
    """§1.7: no LinkedIn-Version; locale as an object; email only with the email scope."""
    state = state_of(request)
    token = bearer_token(request, state)
    if not {"openid", "profile"} & set(token.scopes):
        raise LinkedInError(
            403,
            {
                "status": 403,
                "serviceErrorCode": 100,
                "code": "ACCESS_DENIED",
                "message": "Not enough permissions to access: userinfo.GET.NO_VERSION",
            },
        )
    member = token.member
    body: dict[str, Any] = {"sub": member.sub}
    if "profile" in token.scopes:
        body.update(name=member.name, given_name=member.given_name, family_name=member.family_name)
    body["locale"] = {"country": "US", "language": "en"}
    if "email" in token.scopes:
        body.update(email=member.email, email_verified=True)
    return JSONResponse(body)
