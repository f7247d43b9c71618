"""Pages (being built)."""

from __future__ import annotations

from fastapi import APIRouter

from autopilot.web.templating import Nav

router = APIRouter(include_in_schema=False)
NAV: list[Nav] = []
