"""The collector and long-running processes: start-up's objects are frozen out of its reach."""

from __future__ import annotations

import gc


def freeze_startup_objects() -> None:
    """Call once a process has started (modules, models, routes, pools made). The cyclic collector's
    full passes walk every tracked object; with the ~115,000 that importing the app makes, each
    one paused the event loop for 50-150 ms on the 2-core machine, the p99 of a back-to-back
    `GET /api/v1/schedule` probe even on an idle server (bench.slot_rush). Frozen objects are
    never walked again; what requests allocate is collected as before."""
    gc.collect()
    gc.freeze()
