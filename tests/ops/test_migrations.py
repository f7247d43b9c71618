"""The migrations build exactly the schema the models describe, on SQLite and PostgreSQL."""

from __future__ import annotations

from typing import Any

from alembic.autogenerate import compare_metadata
from alembic.migration import MigrationContext
from sqlalchemy.ext.asyncio import AsyncEngine

from autopilot.domains import load_models


async def test_migrated_schema_matches_the_models(engine: AsyncEngine) -> None:
    def differences(connection: Any) -> list[Any]:
        return list(compare_metadata(MigrationContext.configure(connection), load_models()))

    async with engine.connect() as connection:
        assert await connection.run_sync(differences) == []
