"""Settings from the environment (prefix AUTOPILOT_) and an optional .env file."""

from __future__ import annotations

import logging
import secrets
import stat
from functools import lru_cache
from pathlib import Path
from typing import Literal

from cryptography.fernet import Fernet
from pydantic import Field, field_validator
from pydantic_settings import BaseSettings, SettingsConfigDict

WEAK_SECRET_KEYS = {"", "changeme", "change-me", "secret", "dev", "development", "test"}
# The key and model of the LLM sandbox the app mounts when no LLM server is configured.
LLM_SANDBOX_KEY = "sandbox-llm-key"  # a public test key, valid only for the sandbox
LLM_SANDBOX_MODEL = "sandbox-writer"
MIN_SECRET_KEY_LENGTH = 32
# The data dir holds the database and the keys: readable by the account that runs the app only.
PRIVATE_DIR, PRIVATE_FILE = 0o700, 0o600


class ConfigError(RuntimeError):
    """The configuration cannot be used; the message says what to change."""


class Settings(BaseSettings):
    model_config = SettingsConfigDict(env_prefix="AUTOPILOT_", env_file=".env", extra="ignore")

    env: Literal["development", "production", "test"] = "development"
    data_dir: Path = Path("./var")
    database_url: str = ""
    host: str = "127.0.0.1"
    port: int = 8000
    secret_key: str = ""
    # Comma-separated Fernet keys, newest first. The first encrypts, all decrypt.
    encryption_keys: str = ""
    base_url: str = ""
    max_body_bytes: int = 1_048_576
    # Media uploads (POST /api/v1/media): LinkedIn takes PDF documents up to 100 MB.
    max_upload_bytes: int = 104_857_600
    # How long a SQLite write waits for the single write lock before failing (ignored on PostgreSQL).
    sqlite_busy_timeout_ms: int = 30_000
    # Failed logins allowed per account in a window, and (much larger) per client address.
    login_max_failures: int = 10
    login_max_failures_per_address: int = 200
    login_window_s: int = 60
    # Proxies whose X-Forwarded-For is believed (comma-separated IPs or networks); none by default.
    trusted_proxies: str = ""
    session_ttl_hours: int = 12
    log_level: str = "INFO"
    log_json: bool = True
    # Job engine
    celery_broker_url: str = ""
    executor_concurrency: int = 100
    dispatch_interval_s: float = 0.5
    dispatch_batch: int = 200
    lease_s: int = 120
    reaper_interval_s: float = 5.0
    heartbeat_interval_s: float = 5.0
    heartbeat_stale_s: float = 30.0
    run_job_engine: bool = True
    # Jobs handed out and not finished, over all workers: the Celery mode's concurrency limit.
    celery_max_inflight: int = 2000
    # Succeeded and cancelled jobs are deleted this long after they finish (failures are kept).
    job_retention_days: int = 30
    celery_ids_per_message: int = 10
    # PostgreSQL connections one process may open (web, dispatcher, CLI) and one Celery worker
    # process may open. Their sum over all processes must stay under the server's max_connections
    # (100 by default): past it, PostgreSQL refuses new connections outright.
    db_connections: int = 15
    worker_db_connections: int = 20
    celery_queue: str = "autopilot"
    # Extra modules that register job kinds (comma-separated), imported by every executor.
    job_modules: str = ""
    # Outbound e-mail for alerts (optional)
    smtp_host: str = ""
    smtp_port: int = 25
    smtp_from: str = "autopilot@localhost"
    smtp_username: str = ""
    smtp_password: str = Field(default="", repr=False)
    # HOST:PORT (e.g. 127.0.0.1:9100): serve /metrics there, without credentials, and not on the
    # main app. Empty: /metrics is on the main app and answers an operator's bearer token only.
    metrics_bind: str = ""
    # LinkedIn. Without a client id the app serves its LinkedIn sandbox at /sandbox/linkedin and
    # talks to it; with one, the real LinkedIn (the URLs below default to LinkedIn's own).
    linkedin_client_id: str = ""
    linkedin_client_secret: str = Field(default="", repr=False)
    linkedin_auth_url: str = ""  # serves /oauth/v2/*; default https://www.linkedin.com
    linkedin_api_url: str = ""  # serves /rest/* and /v2/userinfo; default https://api.linkedin.com
    # The monthly API version sent as LinkedIn-Version (YYYYMM). LinkedIn retires each after about a
    # year and then answers 426: publishing is held and owners are told to change this setting.
    linkedin_version: str = "202609"
    # Space-separated OAuth scopes asked for (LinkedIn retired r_liteprofile/r_emailaddress for OpenID).
    linkedin_scopes: str = "openid profile email w_member_social"
    # Extra scopes asked for when a member connects Company Pages (Community Management, a reviewed
    # product for registered organizations: research G §2.1), e.g. "rw_organization_admin". Empty:
    # this LinkedIn app has no Community Management, and Company Pages are offered to nobody.
    linkedin_community_scopes: str = ""
    # Daily limits we keep under (LinkedIn's are per member and per app, reset at midnight UTC).
    linkedin_member_daily_posts: int = 150
    linkedin_app_daily_calls: int = 100_000
    # Optional pacing of the whole app's post creation (0: none; LinkedIn publishes only daily
    # quotas). When set, a rush beyond it — thousands of accounts at 06:30 — is spread minute by
    # minute over at most `schedule_spread_window_s`, and each post's status says so.
    linkedin_app_posts_per_minute: int = Field(default=0, ge=0)
    linkedin_timeout_s: float = 20.0
    # Scheduling. A post that could not start within this long after its slot (an outage) is marked
    # missed and its owner told, rather than published hours late; after this grace, an account
    # whose newer post is due too publishes only the newest (no burst of old posts).
    schedule_catch_up_s: int = Field(default=7200, ge=0)
    schedule_late_grace_s: int = Field(default=300, ge=0)
    schedule_spread_window_s: int = Field(default=1800, ge=60)
    # The Studio's optional LLM engine: any OpenAI-compatible server (the official `openai` SDK).
    # Without a base URL the app serves its own LLM sandbox at /sandbox/llm and uses that.
    llm_base_url: str = ""  # e.g. a local server's http://127.0.0.1:11434/v1
    llm_model: str = ""  # required with a base URL; the sandbox's model otherwise
    llm_api_key: str = Field(default="", repr=False)
    # A person waits for the answer: a bounded wait, one retry (the SDK honours Retry-After).
    llm_timeout_s: float = Field(default=30.0, gt=0)
    llm_max_retries: int = Field(default=1, ge=0, le=5)
    # Web Push (VAPID, RFC 8292). The private key as PEM or base64url raw (32 bytes); empty: one key
    # pair is generated once and kept encrypted in the database, shared by every process. Changing
    # it later makes devices subscribe again (subscriptions are bound to the public key).
    vapid_private_key: str = Field(default="", repr=False)
    # Who push services may contact about our pushes: mailto: or https:. Empty: mailto:<smtp_from>.
    vapid_subject: str = ""
    push_timeout_s: float = Field(default=10.0, gt=0)
    # Leads from the people who react to or comment on posts, as read through LinkedIn's API. Off, and
    # nothing uses it: LinkedIn's API terms forbid using member data for lead generation (research G §2.7).
    leads_from_api_engagers: bool = False

    @field_validator("data_dir")
    @classmethod
    def _expand(cls, value: Path) -> Path:
        return value.expanduser()

    @field_validator("metrics_bind")
    @classmethod
    def _host_and_port(cls, value: str) -> str:
        value = value.strip()
        if value:
            split_bind(value)
        return value

    @field_validator("vapid_subject")
    @classmethod
    def _contact(cls, value: str) -> str:
        value = value.strip()
        if value and not value.startswith(("mailto:", "https://")):
            raise ValueError("AUTOPILOT_VAPID_SUBJECT must be a mailto: or https:// URL (RFC 8292 §2.1)")
        return value

    @property
    def push_contact(self) -> str:
        """The VAPID `sub` claim: AUTOPILOT_VAPID_SUBJECT, or a mailto: of the alerts' sender."""
        return self.vapid_subject or f"mailto:{self.smtp_from}"

    @property
    def metrics_address(self) -> tuple[str, int] | None:
        """Where the separate metrics listener binds, when AUTOPILOT_METRICS_BIND is set."""
        return split_bind(self.metrics_bind) if self.metrics_bind else None

    @property
    def public_url(self) -> str:
        """Where browsers reach this app (OAuth redirects): AUTOPILOT_BASE_URL or host:port."""
        return (self.base_url or f"http://{self.host}:{self.port}").rstrip("/")

    @property
    def llm_sandbox(self) -> bool:
        """No LLM server configured: the Studio's LLM engine talks to the app's own LLM sandbox."""
        return not self.llm_base_url

    @property
    def llm_endpoint(self) -> tuple[str, str, str]:
        """(base URL, API key, model) of the LLM the Studio uses: the configured one, or the mounted sandbox."""
        if self.llm_sandbox:
            return (
                f"{self.public_url}/sandbox/llm/v1",
                self.llm_api_key or LLM_SANDBOX_KEY,
                self.llm_model or LLM_SANDBOX_MODEL,
            )
        return self.llm_base_url.rstrip("/"), self.llm_api_key, self.llm_model

    @property
    def linkedin_sandbox(self) -> bool:
        """No LinkedIn credentials: the app serves and uses its own LinkedIn sandbox."""
        return not self.linkedin_client_id

    @property
    def linkedin_urls(self) -> tuple[str, str]:
        """(auth base, API base) of the LinkedIn the app talks to."""
        if self.linkedin_sandbox:
            mounted = f"{self.public_url}/sandbox/linkedin"
            return (self.linkedin_auth_url or mounted).rstrip("/"), (self.linkedin_api_url or mounted).rstrip("/")
        return (
            (self.linkedin_auth_url or "https://www.linkedin.com").rstrip("/"),
            (self.linkedin_api_url or "https://api.linkedin.com").rstrip("/"),
        )

    @property
    def is_production(self) -> bool:
        return self.env == "production"

    @property
    def sqlalchemy_url(self) -> str:
        url = self.database_url or f"sqlite+aiosqlite:///{(self.data_dir / 'autopilot.db').resolve()}"
        # Accept the URLs people usually have and pick our async drivers.
        for plain, driver in (
            ("postgres://", "postgresql+asyncpg://"),
            ("postgresql://", "postgresql+asyncpg://"),
            ("postgresql+psycopg://", "postgresql+asyncpg://"),
            ("sqlite://", "sqlite+aiosqlite://"),
        ):
            if url.startswith(plain):
                return driver + url[len(plain) :]
        return url

    @property
    def is_sqlite(self) -> bool:
        return self.sqlalchemy_url.startswith("sqlite")

    @property
    def sqlite_file(self) -> Path | None:
        """The SQLite database file, when the database is one (not in memory)."""
        if not self.is_sqlite:
            return None
        path = self.sqlalchemy_url.partition(":///")[2].partition("?")[0]
        return Path(path) if path and path != ":memory:" else None

    def prepare_storage(self) -> None:
        """Create the data dir (0700) and the SQLite file (0600) before SQLite does (0644, and its
        -wal and -shm files copy the database file's mode); tighten them when they are too open."""
        make_private_dir(self.data_dir)
        database = self.sqlite_file
        if database is None:
            return
        database.parent.mkdir(parents=True, exist_ok=True)
        database.touch(mode=PRIVATE_FILE)
        for path in (database, Path(f"{database}-wal"), Path(f"{database}-shm")):
            if path.exists():
                _restrict(path, PRIVATE_FILE)

    def resolve_secrets(self) -> Settings:
        """Fill the secret key and key ring: generated and kept in the data dir when embedded,
        required and strong in production."""
        secret_key, encryption_keys = self.secret_key, self.encryption_keys
        if self.is_production:
            if secret_key.strip().lower() in WEAK_SECRET_KEYS or len(secret_key) < MIN_SECRET_KEY_LENGTH:
                raise ConfigError(
                    "AUTOPILOT_SECRET_KEY is missing or weak: production needs a random value of at "
                    f"least {MIN_SECRET_KEY_LENGTH} characters (python -c 'import secrets; "
                    "print(secrets.token_urlsafe(48))')."
                )
            if not encryption_keys.strip():
                raise ConfigError(
                    "AUTOPILOT_ENCRYPTION_KEYS is missing: production needs at least one Fernet key "
                    "(autopilot generate-key)."
                )
        else:
            secret_key = secret_key or _kept_value(self.data_dir / "secret_key", secrets.token_urlsafe(48))
            encryption_keys = encryption_keys or _kept_value(
                self.data_dir / "encryption_keys", Fernet.generate_key().decode()
            )
        return self.model_copy(update={"secret_key": secret_key, "encryption_keys": encryption_keys})


def split_bind(value: str) -> tuple[str, int]:
    """HOST:PORT (an IPv6 host in brackets) → (host, port); a readable ValueError otherwise."""
    host, _, port = value.rpartition(":")
    host = host.removeprefix("[").removesuffix("]")
    if not host or not port.isdigit() or not 0 <= int(port) <= 65535:
        raise ValueError(f"{value!r} is not HOST:PORT (for example 127.0.0.1:9100)")
    return host, int(port)


def make_private_dir(path: Path) -> None:
    """Create *path* for this account only (0700); take group and others' access away from an
    existing one, with a warning that says so."""
    path.mkdir(mode=PRIVATE_DIR, parents=True, exist_ok=True)
    _restrict(path, PRIVATE_DIR)


def _restrict(path: Path, mode: int) -> None:
    current = stat.S_IMODE(path.stat().st_mode)
    if current & ~mode == 0:
        return
    try:
        path.chmod(current & mode)
    except OSError as exc:
        logging.getLogger("autopilot").warning(
            "%s is open to other accounts (%o) and cannot be tightened: %s", path, current, exc
        )
        return
    logging.getLogger("autopilot").warning("%s was open to other accounts (%o); now %o", path, current, current & mode)


def _kept_value(path: Path, fresh: str) -> str:
    """Read a generated value from the data dir, creating it (mode 600) on first run."""
    if path.exists():
        return path.read_text().strip()
    make_private_dir(path.parent)
    path.touch(mode=PRIVATE_FILE)
    path.write_text(fresh + "\n")
    return fresh


@lru_cache
def get_settings() -> Settings:
    return Settings().resolve_secrets()
