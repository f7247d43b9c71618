"""The manifest: the only module that knows every domain.

Each entry names a domain's models, API router, pages, navigation tabs, job-handler modules and
the listeners it subscribes to the job engine's outcomes. `create_app`, the `worker` and
`dispatcher` commands, the Alembic environment and the tests all read it. Adding a domain is
adding its package and one entry here; the engine (`worker`) and the shell (`web`) never change.
Entries are import paths ("module" or "module:attribute") so that a process loads only what it
uses: a Celery worker imports models and job handlers, never the pages."""

from __future__ import annotations

import importlib
from collections.abc import Callable
from dataclasses import dataclass
from typing import TYPE_CHECKING, Any, cast

from sqlalchemy import MetaData

from autopilot.config import Settings

if TYPE_CHECKING:
    from fastapi import APIRouter, FastAPI

    from autopilot.web.templating import Nav
    from autopilot.worker.outcomes import Listener
    from autopilot.worker.runtime import EngineWiring


@dataclass(frozen=True)
class Domain:
    name: str
    models: str | None = None  # module defining the domain's tables
    router: str | None = None  # "module:router" of the API
    pages: str | None = None  # "module:router" of the web pages
    nav: str | None = None  # "module:NAV", the domain's tabs in the app shell, in order
    job_modules: tuple[str, ...] = ()  # modules whose @job handlers register job kinds
    listeners: tuple[str, ...] = ()  # "module:factory(settings) -> Listener" of engine outcomes


# The entries' order is the order of the tabs in the app shell.
DOMAINS: tuple[Domain, ...] = (
    # Content's approval queue for the phone: a pages router and tab of its own (its tables are content's).
    Domain("approvals", pages="autopilot.content.approvals:router", nav="autopilot.content.approvals:NAV"),
    Domain("home", pages="autopilot.home.pages:router", nav="autopilot.home.pages:NAV"),
    Domain(
        "analytics",
        models="autopilot.analytics.models",
        router="autopilot.analytics.router:router",
        pages="autopilot.analytics.pages:router",
        nav="autopilot.analytics.pages:NAV",
        job_modules=("autopilot.analytics.tasks",),
    ),
    Domain(
        "leads",
        models="autopilot.leads.models",
        router="autopilot.leads.router:router",
        pages="autopilot.leads.pages:router",
        nav="autopilot.leads.pages:NAV",
    ),
    Domain(
        "content",
        models="autopilot.content.models",
        router="autopilot.content.router:router",
        pages="autopilot.content.pages:router",
        nav="autopilot.content.pages:NAV",
        job_modules=("autopilot.content.tasks",),
        listeners=("autopilot.content.service:publish_outcomes",),
    ),
    Domain(
        "studio",
        models="autopilot.studio.models",
        router="autopilot.studio.router:router",
        pages="autopilot.studio.pages:router",
        nav="autopilot.studio.pages:NAV",
    ),
    Domain(
        "scheduling",
        models="autopilot.scheduling.models",
        router="autopilot.scheduling.router:router",
        pages="autopilot.scheduling.pages:router",
        nav="autopilot.scheduling.pages:NAV",
        job_modules=("autopilot.scheduling.tasks",),
    ),
    Domain(
        "linkedin",
        models="autopilot.linkedin.models",
        router="autopilot.linkedin.router:router",
        pages="autopilot.linkedin.pages:router",
        nav="autopilot.linkedin.pages:NAV",
        job_modules=("autopilot.linkedin.tasks",),
    ),
    Domain(
        "jobs",
        models="autopilot.worker.models",  # the ledger's tables belong to the engine
        router="autopilot.jobs.router:router",
        pages="autopilot.jobs.pages:router",
        nav="autopilot.jobs.pages:NAV",
    ),
    Domain(
        "accounts",
        models="autopilot.accounts.models",
        router="autopilot.accounts.router:router",
        pages="autopilot.accounts.pages:router",
        nav="autopilot.accounts.pages:NAV",
    ),
    Domain("vault", models="autopilot.vault.models"),
    Domain(
        "notifications",
        models="autopilot.notifications.models",
        router="autopilot.notifications.router:router",
        pages="autopilot.notifications.pages:router",
        job_modules=("autopilot.notifications.tasks",),
        listeners=("autopilot.notifications.service:engine_alerts",),
    ),
)


def resolve(path: str) -> Any:
    """Import "module" or "module:attribute"."""
    module, _, attribute = path.partition(":")
    loaded = importlib.import_module(module)
    return getattr(loaded, attribute) if attribute else loaded


def load_models() -> MetaData:
    """Import every domain's models; returns the metadata that holds all tables."""
    from autopilot.kit.db import Base

    for domain in DOMAINS:
        if domain.models:
            resolve(domain.models)
    return Base.metadata


def job_modules(settings: Settings) -> list[str]:
    """The manifest's job-handler modules, then the extensions named in AUTOPILOT_JOB_MODULES."""
    extra = [m.strip() for m in settings.job_modules.split(",") if m.strip()]
    return [m for domain in DOMAINS for m in domain.job_modules] + extra


def engine_wiring(settings: Settings) -> EngineWiring:
    """What every process that runs or enqueues jobs needs: handlers registered, listeners wired."""
    from autopilot.worker.outcomes import OutcomeHook
    from autopilot.worker.runtime import EngineWiring

    load_models()
    factories = [cast(Callable[[Settings], "Listener"], resolve(p)) for d in DOMAINS for p in d.listeners]
    wiring = EngineWiring(tuple(job_modules(settings)), OutcomeHook(*(f(settings) for f in factories)))
    wiring.load_handlers()
    return wiring


def install(app: FastAPI) -> None:
    """Mount every domain's API router and pages, and build the shell's navigation."""
    nav: list[Nav] = []
    for domain in DOMAINS:
        for path in (domain.router, domain.pages):
            if path:
                app.include_router(cast("APIRouter", resolve(path)))
        if domain.nav:
            nav.extend(resolve(domain.nav))
    app.state.nav = nav
