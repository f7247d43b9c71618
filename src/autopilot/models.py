"""Every model, imported in one place so metadata (and Alembic) sees all tables."""

from autopilot.accounts.models import ApiToken, Invitation, LoginFailure, Membership, Organization, User
from autopilot.kit.db import Base
from autopilot.notifications.models import Alert
from autopilot.vault.models import StoredSecret
from autopilot.worker.models import Heartbeat, Job

__all__ = [
    "Alert",
    "ApiToken",
    "Base",
    "Heartbeat",
    "Invitation",
    "Job",
    "LoginFailure",
    "Membership",
    "Organization",
    "StoredSecret",
    "User",
]
