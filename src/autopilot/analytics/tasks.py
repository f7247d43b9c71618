"""Analytics job handlers: the metric sync of published posts (and, below it, other analytics jobs)."""

from __future__ import annotations
