"""Analytics API: per-post figures, the dashboard's series, imports of LinkedIn's export files,
Company Page statistics and the engagement prediction. Each section below belongs to one capability."""

from __future__ import annotations

from fastapi import APIRouter

from autopilot.kit.openapi import PROBLEMS

router = APIRouter(tags=["analytics"], responses=PROBLEMS)
