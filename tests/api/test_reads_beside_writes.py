"""Reads do not queue behind writes. On SQLite every transaction used to begin IMMEDIATE, so a GET
waited for the single write lock; now read-only requests use reader connections that begin
deferred (WAL lets them run beside the writer). PostgreSQL reads never waited for writers."""

from __future__ import annotations

import asyncio

import httpx
from sqlalchemy import text
from sqlalchemy.ext.asyncio import AsyncEngine

from tests.support.accounts import Account


async def test_reads_are_answered_while_a_write_transaction_holds_the_lock(
    client: httpx.AsyncClient, engine: AsyncEngine, alice: Account
) -> None:
    async with engine.connect() as writer:
        await writer.begin()  # SQLite: BEGIN IMMEDIATE, the database's single write lock
        if engine.dialect.name == "postgresql":
            await writer.execute(text("LOCK TABLE users, organizations, memberships, api_tokens IN EXCLUSIVE MODE"))
        await writer.execute(text("UPDATE organizations SET name = name"))
        reads = [
            asyncio.create_task(client.get("/api/v1/me", headers=alice.auth)),
            asyncio.create_task(client.get("/api/v1/jobs", headers=alice.auth)),
        ]
        # Ordering, not timing: the reads must finish while the write still holds its lock (the
        # deadline only keeps a broken build from hanging; the lock is released after it).
        done, _pending = await asyncio.wait(reads, timeout=20)
        await writer.rollback()
    assert len(done) == 2, "a read waited for the write lock"
    assert [r.result().status_code for r in reads] == [200, 200]
