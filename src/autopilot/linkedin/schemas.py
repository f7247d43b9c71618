from __future__ import annotations

import uuid
from datetime import datetime

from pydantic import BaseModel

from autopilot.kit.time import utcnow
from autopilot.linkedin.models import Integration
from autopilot.linkedin.service import capabilities


class ConnectOut(BaseModel):
    authorization_url: str


class CapabilitiesOut(BaseModel):
    can_post: bool
    can_read_posts: bool
    can_read_analytics: bool
    can_read_comments: bool


class IntegrationOut(BaseModel):
    id: uuid.UUID
    provider: str = "linkedin"
    sandbox: bool
    member_urn: str
    name: str
    email: str
    status: str
    status_reason: str
    scopes: list[str]
    capabilities: CapabilitiesOut
    access_expires_at: datetime
    expires_in_days: float
    refresh_expires_at: datetime | None
    checked_at: datetime | None
    check_ok: bool | None
    check_detail: str

    @classmethod
    def of(cls, integration: Integration, *, sandbox: bool) -> IntegrationOut:
        caps = capabilities(integration.scope_set)
        left = (integration.access_expires_at - utcnow()).total_seconds() / 86400
        return cls(
            id=integration.id,
            sandbox=sandbox,
            member_urn=integration.author_urn,
            name=integration.name,
            email=integration.email,
            status=integration.status,
            status_reason=integration.status_reason,
            scopes=sorted(integration.scope_set),
            capabilities=CapabilitiesOut(**caps.__dict__),
            access_expires_at=integration.access_expires_at,
            expires_in_days=round(max(0.0, left), 2),
            refresh_expires_at=integration.refresh_expires_at,
            checked_at=integration.checked_at,
            check_ok=integration.check_ok,
            check_detail=integration.check_detail,
        )
