"""The `autopilot` command: serve, migrate, create-user, operator, rotate-keys, worker, dispatcher,
analytics eval."""

from __future__ import annotations

import asyncio
import sys
from pathlib import Path
from typing import Annotated

import typer
from rich.progress import Progress

from autopilot import domains
from autopilot.config import ConfigError, Settings, get_settings

app = typer.Typer(help="TechLead AutoPilot", no_args_is_help=True, add_completion=False)


def _settings() -> Settings:
    try:
        settings = get_settings()
        domains.load_models()  # every table known to the ORM, whichever command runs
        return settings
    except ConfigError as exc:
        typer.secho(f"Configuration error: {exc}", err=True, fg="red")
        raise typer.Exit(2) from exc


@app.command()
def migrate() -> None:
    """Bring the database schema up to date (safe to run on every start)."""
    from autopilot.kit.migrate import upgrade

    settings = _settings()
    settings.prepare_storage()  # data dir 0700, SQLite file 0600, before SQLite creates anything
    upgrade(settings.sqlalchemy_url)
    typer.echo("database is up to date")


@app.command()
def serve(
    host: Annotated[str | None, typer.Option(help="default: AUTOPILOT_HOST")] = None,
    port: Annotated[int | None, typer.Option(help="default: AUTOPILOT_PORT")] = None,
    migrate_first: Annotated[bool, typer.Option("--migrate/--no-migrate", help="migrate before serving")] = False,
) -> None:
    """Serve the web app and API (with the in-process job engine unless Celery is configured)."""
    import uvicorn

    from autopilot.app import create_app

    settings = _settings()
    settings.prepare_storage()
    if migrate_first:
        migrate()
    uvicorn.run(
        create_app(settings, own_process=True),
        host=host or settings.host,
        port=port or settings.port,
        log_config=None,
        # X-Forwarded-For decides the client address (login throttling): only from listed proxies.
        proxy_headers=bool(settings.trusted_proxies.strip()),
        forwarded_allow_ips=settings.trusted_proxies.strip() or "",
    )


@app.command("create-user")
def create_user(
    email: Annotated[str, typer.Option(prompt=True)],
    organization: Annotated[str, typer.Option(prompt=True)],
    password: Annotated[str, typer.Option(prompt=True, hide_input=True, confirmation_prompt=True)],
    timezone: Annotated[str, typer.Option()] = "UTC",
) -> None:
    """Create a user who owns a new organization."""
    from pydantic import ValidationError

    from autopilot.accounts import schemas, service
    from autopilot.kit.db import make_engine, make_sessionmaker
    from autopilot.kit.deps import Transactions
    from autopilot.kit.errors import AppError

    settings = _settings()
    try:
        body = schemas.SignupIn(email=email, password=password, organization_name=organization, timezone=timezone)
    except ValidationError as exc:
        for err in exc.errors():
            message = str(err["msg"]).removeprefix("Value error, ")
            typer.secho(f"{'.'.join(map(str, err['loc']))}: {message}", err=True, fg="red")
        raise typer.Exit(2) from exc

    async def run() -> bool:
        engine = make_engine(settings.sqlalchemy_url)
        try:
            sessions = make_sessionmaker(engine)
            return await service.signup(Transactions(sessions, sessions), settings, **body.model_dump()) is not None
        finally:
            await engine.dispose()

    try:
        created = asyncio.run(run())
    except AppError as exc:
        typer.secho(exc.detail, err=True, fg="red")
        raise typer.Exit(1) from exc
    if not created:  # an operator at the console may know: no enumeration concern here
        typer.secho(f"an account with the e-mail {email} already exists; nothing changed", err=True, fg="red")
        raise typer.Exit(1)
    typer.echo(f"created {email} as owner of {organization!r}")


operator_app = typer.Typer(
    help="Operators run the installation: they see infrastructure details (process hosts and pids, /metrics).",
    no_args_is_help=True,
)
app.add_typer(operator_app, name="operator")


def _set_operator(email: str, *, operator: bool) -> None:
    from autopilot.accounts.service import set_operator
    from autopilot.kit.db import make_engine, make_sessionmaker
    from autopilot.kit.errors import AppError

    settings = _settings()

    async def run() -> None:
        engine = make_engine(settings.sqlalchemy_url)
        try:
            async with make_sessionmaker(engine)() as session, session.begin():
                await set_operator(session, email, operator=operator)
        finally:
            await engine.dispose()

    try:
        asyncio.run(run())
    except AppError as exc:
        typer.secho(exc.detail, err=True, fg="red")
        raise typer.Exit(1) from exc


@operator_app.command("grant")
def operator_grant(email: Annotated[str, typer.Argument(help="the user's e-mail")]) -> None:
    """Make a user an operator."""
    _set_operator(email, operator=True)
    typer.echo(f"{email} is now an operator")


@operator_app.command("revoke")
def operator_revoke(email: Annotated[str, typer.Argument(help="the user's e-mail")]) -> None:
    """Take the operator flag back from a user."""
    _set_operator(email, operator=False)
    typer.echo(f"{email} is no longer an operator")


sandbox_app = typer.Typer(help="Protocol emulators, served on their own (the app mounts them when unconfigured).")
app.add_typer(sandbox_app, name="sandbox")


@sandbox_app.command("linkedin")
def sandbox_linkedin(
    host: str = typer.Option("127.0.0.1", help="Address to listen on"),
    port: int = typer.Option(8010, help="Port to listen on"),
    auto_approve: bool = typer.Option(False, help="Skip the consent page: every authorization is approved"),
    refresh: bool = typer.Option(True, help="Issue refresh tokens (an MDP-enabled LinkedIn app)"),
    latency_ms: int = typer.Option(0, help="Answer every non-control call this many ms late"),
) -> None:
    """Run the LinkedIn sandbox: OAuth, /rest/posts, media, engagement, faults, a control API."""
    from autopilot.sandbox.linkedin import SandboxConfig, serve

    serve(host, port, SandboxConfig(auto_approve=auto_approve, refresh_enabled=refresh, latency_ms=latency_ms))


analytics_app = typer.Typer(help="Engagement analytics: the prediction model's evaluation.", no_args_is_help=True)
app.add_typer(analytics_app, name="analytics")


@analytics_app.command("eval")
def analytics_eval(
    posts: Annotated[
        Path | None,
        typer.Option(exists=True, dir_okay=False, help="CSV of posts: content, reactions, comments, followers …"),
    ] = None,
    pairs: Annotated[
        Path | None,
        typer.Option(exists=True, dir_okay=False, help='JSON {"train": [...], "test": [...]} of labelled pairs'),
    ] = None,
    test_share: Annotated[float, typer.Option(help="--posts: the newest share of posts kept for the test")] = 0.2,
    seed: Annotated[int, typer.Option(help="seed of the pairing and the model")] = 0,
) -> None:
    """Train the engagement model on the older part, report its pairwise accuracy on the newer one
    beside the longer-text and more-followers rules: one JSON line on stdout."""
    import json

    from rich.console import Console

    from autopilot.analytics.evaluate import STAGES, evaluate_pairs, evaluate_posts
    from autopilot.analytics.sources import EvalInputError

    if (posts is None) == (pairs is None):
        typer.secho("give exactly one of --posts PATH or --pairs PATH", err=True, fg="red")
        raise typer.Exit(2)
    with Progress(console=Console(stderr=True), transient=not sys.stderr.isatty()) as progress:
        bar = progress.add_task("evaluating", total=STAGES)

        def on_stage(description: str) -> None:
            progress.update(bar, description=description)
            progress.advance(bar)

        try:
            if posts is not None:
                report = evaluate_posts(posts, test_share=test_share, seed=seed, on_stage=on_stage)
            else:
                assert pairs is not None
                report = evaluate_pairs(pairs, seed=seed, on_stage=on_stage)
        except EvalInputError as exc:
            progress.stop()
            typer.secho(f"Nothing evaluated: {exc}", err=True, fg="red")
            raise typer.Exit(2) from exc
    typer.echo(json.dumps(report, ensure_ascii=False))


@app.command("generate-key")
def generate_key() -> None:
    """Print a new encryption key to put first in AUTOPILOT_ENCRYPTION_KEYS."""
    from autopilot.kit.crypto import new_fernet_key

    typer.echo(new_fernet_key())


@app.command("rotate-keys")
def rotate_keys() -> None:
    """Re-encrypt every stored secret with the first key of AUTOPILOT_ENCRYPTION_KEYS."""
    from autopilot.kit.crypto import KeyRing
    from autopilot.kit.db import make_engine, make_sessionmaker
    from autopilot.notifications import vapid
    from autopilot.vault import service as vault

    settings = _settings()
    ring = KeyRing(settings.encryption_keys)

    async def run() -> int:
        engine = make_engine(settings.sqlalchemy_url)
        try:
            async with make_sessionmaker(engine)() as session, session.begin():
                total = await vault.count_secrets(session)
                with Progress(transient=not sys.stderr.isatty()) as progress:
                    bar = progress.add_task("re-encrypting secrets", total=total)
                    done = await vault.rotate_all(session, ring, progress=lambda n: progress.advance(bar, n))
                done += await vapid.rotate(session, ring)  # the installation's Web Push key, when generated
            return done
        finally:
            await engine.dispose()

    try:
        done = asyncio.run(run())
    except ConfigError as exc:
        typer.secho(f"Nothing changed: {exc}", err=True, fg="red")
        raise typer.Exit(1) from exc
    typer.echo(f"re-encrypted {done} secret(s) with the newest key; older keys may now be removed")


@app.command()
def worker(
    concurrency: Annotated[int, typer.Option(help="threads per worker process")] = 32,
    queues: Annotated[str | None, typer.Option(help="default: AUTOPILOT_CELERY_QUEUE")] = None,
) -> None:
    """Start a Celery worker (needs AUTOPILOT_CELERY_BROKER_URL)."""
    from autopilot.worker.celery_app import run_worker

    settings = _settings()
    run_worker(settings, domains.engine_wiring(settings), concurrency=concurrency, queues=queues)


@app.command(hidden=True)
def engine(
    control_fd: Annotated[int, typer.Option(help="the socket EngineProcess passed")],
    parent: Annotated[int | None, typer.Option(help="the serve process; gone: exit")] = None,
) -> None:
    """The job engine of `autopilot serve`, which starts it in a process of its own and steers it
    over a socket pair (worker.runtime.EngineProcess)."""
    from autopilot.worker.runtime import run_engine_child

    settings = _settings()
    asyncio.run(run_engine_child(settings, domains.engine_wiring(settings), parent, control_fd))


@app.command()
def dispatcher() -> None:
    """Start a standalone dispatcher: claims due jobs and hands them to the Celery workers."""
    from autopilot.worker.runtime import run_standalone_dispatcher

    settings = _settings()
    asyncio.run(run_standalone_dispatcher(settings, domains.engine_wiring(settings)))


if __name__ == "__main__":
    app()
