"""Images and Documents APIs (contract §4.1, §4.2): initializeUpload, PUT the bytes, read the status."""

from __future__ import annotations

import secrets
from typing import Any

from fastapi import APIRouter, Request
from fastapi.responses import JSONResponse, Response

from autopilot.sandbox.linkedin.errors import LinkedInError, api_error, not_found, validation_failed
from autopilot.sandbox.linkedin.gate import bearer_token, rest_caller
from autopilot.sandbox.linkedin.posts import WRITE, json_body, path_key, read_scopes
from autopilot.sandbox.linkedin.state import MediaAsset, SandboxState
from autopilot.sandbox.linkedin.web import base_of, state_of

router = APIRouter()

UPLOAD_URL_TTL_MS = 24 * 3600 * 1000
DOWNLOAD_URL_TTL_MS = 3600 * 1000
KINDS = {"images": "image", "documents": "document"}
UPLOAD_PATH = {"image": "uploaded-image", "document": "ads-uploadedDocument"}


def _forbidden(kind: str) -> LinkedInError:
    return LinkedInError(
        403,
        {"message": f"Accessing this {kind} resource is forbidden. Please check your permissions for this resource",
         "status": 403},
    )  # fmt: skip


@router.post("/rest/{collection}")
async def initialize_upload(collection: str, request: Request) -> JSONResponse:
    """`?action=initializeUpload` → `{"value":{"uploadUrl","uploadUrlExpiresAt","image"|"document"}}`."""
    kind = KINDS.get(collection)
    if kind is None:
        raise api_error(404, "RESOURCE_NOT_FOUND", "No virtual resource found")
    caller = rest_caller(request, f"{collection}.init", f"partnerApi{kind.title()}s", "ACTION", WRITE)
    state = state_of(request)
    if request.query_params.get("action") != "initializeUpload":
        raise api_error(400, "ILLEGAL_ARGUMENT", "Unsupported action")
    body = await json_body(request)
    init = body.get("initializeUploadRequest") if isinstance(body, dict) else None
    if not isinstance(init, dict) or not isinstance(init.get("owner"), str):
        raise validation_failed(
            ["/initializeUploadRequest/owner :: field is required but not found and has no default value"]
        )
    if init["owner"] != caller.member.urn:
        raise _forbidden(kind)
    asset_id = "D4E10AQ" + secrets.token_urlsafe(12).replace("-", "x").replace("_", "y")[:12]
    upload_id = secrets.token_urlsafe(16)
    asset = MediaAsset(
        urn=f"urn:li:{kind}:{asset_id}",
        kind=kind,
        owner=init["owner"],
        upload_id=upload_id,
        upload_expires_ms=state.clock.now_ms() + UPLOAD_URL_TTL_MS,
    )
    state.media[asset.urn] = asset
    state.uploads[upload_id] = asset.urn
    url = f"{base_of(request)}/dms-uploads/{asset_id}/{UPLOAD_PATH[kind]}/0?ca=vector_ads&cn=uploads&ut={upload_id}"
    return JSONResponse({"value": {"uploadUrlExpiresAt": asset.upload_expires_ms, "uploadUrl": url, kind: asset.urn}})


@router.put("/dms-uploads/{asset_id}/{kind_path}/0")
async def upload(request: Request) -> Response:
    """The upload URL: needs the member's Bearer token (images; we ask it for documents too) → 201."""
    state = state_of(request)
    token = bearer_token(request, state)
    asset = state.media.get(state.uploads.get(request.query_params.get("ut", ""), ""))
    if asset is None:
        raise api_error(404, "NOT_FOUND", "Upload URL not found")
    if asset.owner != token.member.urn:
        raise _forbidden(asset.kind)
    if state.clock.now_ms() > asset.upload_expires_ms:
        raise api_error(400, "EXPIRED_UPLOAD_URL", "The upload URL has expired")
    asset.data = await request.body()
    asset.uploaded_at = state.clock.now()
    asset.reads_after_upload = 0
    return Response(status_code=201)


def status_of(state: SandboxState, asset: MediaAsset) -> str:
    """WAITING_UPLOAD → PROCESSING → AVAILABLE: by a delay on the sandbox clock, or on the second read."""
    if asset.uploaded_at is None:
        return "WAITING_UPLOAD"
    delay = state.config.media_processing_s
    if delay > 0:
        return "AVAILABLE" if state.clock.now() >= asset.uploaded_at + delay else "PROCESSING"
    asset.reads_after_upload += 1
    return "PROCESSING" if asset.reads_after_upload == 1 else "AVAILABLE"


@router.get("/rest/{collection}/{key}")
async def get_asset(collection: str, request: Request) -> JSONResponse:
    kind = KINDS.get(collection)
    if kind is None:
        raise api_error(404, "RESOURCE_NOT_FOUND", "No virtual resource found")
    state = state_of(request)
    caller = rest_caller(request, f"{collection}.get", "partnerApiAssets", "GET", read_scopes(state))
    asset = state.media.get(path_key(request))
    if asset is None:
        raise not_found()
    if asset.owner != caller.member.urn:
        raise _forbidden(kind)
    status = status_of(state, asset)
    out: dict[str, Any] = {"id": asset.urn, "owner": asset.owner, "status": status}
    if status == "AVAILABLE":
        out.update(
            downloadUrl=f"{base_of(request)}/dms-media/{asset.urn.rsplit(':', 1)[-1]}",
            downloadUrlExpiresAt=state.clock.now_ms() + DOWNLOAD_URL_TTL_MS,
        )
    return JSONResponse(out)


@router.get("/dms-media/{asset_id}")
async def download(asset_id: str, request: Request) -> Response:
    state = state_of(request)
    for asset in state.media.values():
        if asset.urn.endswith(f":{asset_id}") and asset.uploaded_at is not None:
            return Response(asset.data, media_type="application/octet-stream")
    raise not_found()
