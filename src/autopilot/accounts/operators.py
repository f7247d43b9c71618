"""Operators: the people who run the installation and may see its infrastructure (process names,
hosts, metrics across tenants). The flag is given from the command line, never through the API."""

from __future__ import annotations

from sqlalchemy.ext.asyncio import AsyncSession

from autopilot.accounts.models import User
from autopilot.accounts.repository import users
from autopilot.kit.errors import NotFound


async def set_operator(session: AsyncSession, email: str, *, operator: bool) -> User:
    """Grant or revoke the operator flag of the user with *email*; 404 when there is none."""
    user = await users.by_email(session, email.strip())
    if user is None:
        raise NotFound(f"no user with the e-mail {email.strip()}; create the account first (autopilot create-user)")
    user.is_operator = operator
    await session.flush()
    return user
