"""The installable app: the web app manifest, the service worker at the root scope, the offline page.

The service worker's source is web/static/sw.js; it is served at /sw.js (a worker controls only
the paths under its own URL, and the app's pages start at /) with this build's version and the
list of shell files to precache written into its first line. The version is a digest of those
files and of sw.js itself, so any change to them makes browsers install the new worker, which
then deletes the caches of the old one."""

from __future__ import annotations

import hashlib
import json
from functools import lru_cache
from pathlib import Path
from typing import Any

from fastapi import APIRouter, Request
from fastapi.responses import HTMLResponse, JSONResponse, Response

from autopilot.web.templating import render

router = APIRouter(include_in_schema=False)
STATIC = Path(__file__).parent / "static"
THEME = "#0f4c81"  # --brand in app.css
BACKGROUND = "#f6f8fa"  # --bg in app.css
OFFLINE_PAGE = "/offline"
# What every page needs, fetched once at install so a page can be shown from the cache offline.
SHELL_FILES = (
    "app.css",
    "app.js",
    "pwa.js",
    "outbox.js",
    "approvals.js",
    "vendor/htmx.min.js",
    "icons/icon-192.png",
    "icons/icon-512.png",
    "icons/badge-96.png",
)
BUILD_LINE = 'const BUILD = {"version": "dev", "shell": []};'  # sw.js's first line, replaced when served
# The worker runs under the policy of its own script's response (the shell's LOCKED_POLICY would
# forbid its every fetch): it fetches and caches pages and files of this origin only, imports its
# outbox helper from /static, and nothing else.
WORKER_POLICY = (
    "default-src 'none'; script-src 'self'; connect-src 'self'; img-src 'self'; "
    "frame-ancestors 'none'; base-uri 'none'; form-action 'none'"
)


def manifest() -> dict[str, Any]:
    """The web app manifest: what Chromium needs to offer "Install app" (name, standalone display,
    an icon of at least 144 px), plus a maskable icon that launchers may crop to their shape."""
    return {
        "id": "/",
        "name": "TechLead AutoPilot",
        "short_name": "AutoPilot",
        "description": "Approve today's posts and answer your conversations, from your phone.",
        "start_url": "/",
        "scope": "/",
        "display": "standalone",
        "orientation": "portrait",
        "theme_color": THEME,
        "background_color": BACKGROUND,
        "icons": [
            {"src": "/static/icons/icon-192.png", "sizes": "192x192", "type": "image/png", "purpose": "any"},
            {"src": "/static/icons/icon-512.png", "sizes": "512x512", "type": "image/png", "purpose": "any"},
            {
                "src": "/static/icons/icon-512-maskable.png",
                "sizes": "512x512",
                "type": "image/png",
                "purpose": "maskable",
            },
        ],
    }


def build_service_worker(static: Path, shell_files: tuple[str, ...]) -> str:
    """*static*/sw.js with the version and shell files of this build in place of its first line."""
    source = (static / "sw.js").read_text()
    if not source.startswith(BUILD_LINE):
        raise RuntimeError(f"web/static/sw.js must start with the line {BUILD_LINE!r}; it is replaced when served")
    present = [name for name in shell_files if (static / name).exists()]  # vendor files come from `make assets`
    digest = hashlib.sha256(source.encode())
    for name in present:
        digest.update(name.encode() + b"\0" + (static / name).read_bytes())
    build = {"version": digest.hexdigest()[:16], "shell": [OFFLINE_PAGE, *(f"/static/{name}" for name in present)]}
    return f"const BUILD = {json.dumps(build)};" + source.removeprefix(BUILD_LINE)


@lru_cache(maxsize=1)
def service_worker_source() -> str:
    return build_service_worker(STATIC, SHELL_FILES)


@router.get("/manifest.webmanifest")
async def web_app_manifest() -> JSONResponse:
    return JSONResponse(manifest(), media_type="application/manifest+json", headers={"Cache-Control": "no-cache"})


@router.get("/sw.js")
async def service_worker() -> Response:
    return Response(
        service_worker_source(),
        media_type="text/javascript",
        headers={
            # Browsers look for a new worker on every navigation; no-cache makes them ask us.
            "Cache-Control": "no-cache",
            "Service-Worker-Allowed": "/",
            "Content-Security-Policy": WORKER_POLICY,
        },
    )


@router.get(OFFLINE_PAGE, response_class=HTMLResponse)
async def offline(request: Request) -> Response:
    """What a page that was never opened online shows when there is no network (precached)."""
    return render(request, "offline.html")
