"""Analytics service: what other domains call (a post was published) and what the router and pages
read. Sections below belong to one capability each: sync, import, dashboard, prediction."""

from __future__ import annotations
