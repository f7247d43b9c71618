"""The interactive API docs (Swagger UI) at /docs, served from our own static files.

FastAPI's default page loads Swagger UI from a CDN and starts it with an inline script; our
Content-Security-Policy allows neither. Here the bundle and its CSS come from /static/vendor
(copied from the swagger-ui-dist npm package by `make assets`) and /static/docs.js starts it,
reading the OpenAPI document's URL from the page."""

from __future__ import annotations

from html import escape

from fastapi import APIRouter, Request
from fastapi.responses import HTMLResponse

router = APIRouter(include_in_schema=False)

PAGE = """<!doctype html>
<html lang="en">
<head>
  <meta charset="utf-8">
  <meta name="viewport" content="width=device-width, initial-scale=1">
  <title>{title} · API docs</title>
  <link rel="stylesheet" href="/static/vendor/swagger-ui.css">
  <script src="/static/vendor/swagger-ui-bundle.js" defer></script>
  <script src="/static/docs.js" defer></script>
</head>
<body>
  <div id="swagger-ui" data-openapi-url="{openapi_url}"></div>
</body>
</html>
"""


@router.get("/docs", response_class=HTMLResponse)
async def swagger_ui(request: Request) -> HTMLResponse:
    openapi_url = request.app.openapi_url or "/openapi.json"
    return HTMLResponse(PAGE.format(title=escape(request.app.title), openapi_url=escape(openapi_url)))
