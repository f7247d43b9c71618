"""The Calendar page (week and month views in the user's zone)."""

from __future__ import annotations

from fastapi import APIRouter

from autopilot.web.templating import Nav

router = APIRouter(include_in_schema=False)
NAV = [Nav("calendar", "Calendar", "/calendar")]
