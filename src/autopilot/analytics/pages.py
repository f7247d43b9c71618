"""Analytics pages: the dashboard (readable on a phone), per-post analytics, imports, Company Pages."""

from __future__ import annotations

from fastapi import APIRouter

from autopilot.web.templating import Nav

router = APIRouter(include_in_schema=False)
NAV = [Nav("analytics", "Analytics", "/analytics")]
