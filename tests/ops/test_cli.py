"""The command line: create-user makes an owner; bad input gets a readable message, no traceback."""

from __future__ import annotations

import os
import subprocess
import sys

from sqlalchemy import select
from sqlalchemy.ext.asyncio import AsyncSession, async_sessionmaker

from autopilot.accounts.models import Membership, User
from autopilot.config import Settings


def autopilot(settings: Settings, *args: str) -> subprocess.CompletedProcess[str]:
    env = {
        **os.environ,
        "AUTOPILOT_DATABASE_URL": settings.sqlalchemy_url,
        "AUTOPILOT_DATA_DIR": str(settings.data_dir),
    }
    return subprocess.run(
        [sys.executable, "-m", "autopilot.cli", *args],
        env=env,
        capture_output=True,
        text=True,
        timeout=120,
        stdin=subprocess.DEVNULL,
    )


async def test_create_user_makes_the_owner_of_a_new_organization(
    settings: Settings, sessions: async_sessionmaker[AsyncSession]
) -> None:
    done = autopilot(
        settings,
        "create-user",
        "--email",
        "owner@example.com",
        "--organization",
        "CLI Co",
        "--password",
        "a long cli password",
        "--timezone",
        "Europe/Berlin",
    )
    assert done.returncode == 0, done.stderr
    assert "created owner@example.com as owner of 'CLI Co'" in done.stdout
    async with sessions() as session:
        user = await session.scalar(select(User).where(User.email == "owner@example.com"))
        assert user is not None and user.timezone == "Europe/Berlin"
        membership = await session.scalar(select(Membership).where(Membership.user_id == user.id))
        assert membership is not None and membership.role == "owner"


async def test_create_user_refuses_an_unknown_zone_and_a_taken_email_readably(settings: Settings) -> None:
    bad_zone = autopilot(
        settings,
        "create-user",
        "--email",
        "z@example.com",
        "--organization",
        "Z",
        "--password",
        "a long cli password",
        "--timezone",
        "Moon/Base",
    )
    assert bad_zone.returncode == 2
    assert "not an IANA time zone" in bad_zone.stderr and "Traceback" not in bad_zone.stderr
    first = autopilot(
        settings,
        "create-user",
        "--email",
        "twice@example.com",
        "--organization",
        "A",
        "--password",
        "a long cli password",
    )
    assert first.returncode == 0, first.stderr
    again = autopilot(
        settings,
        "create-user",
        "--email",
        "twice@example.com",
        "--organization",
        "B",
        "--password",
        "a long cli password",
    )
    assert again.returncode == 1
    assert "already exists" in again.stderr and "Traceback" not in again.stderr
