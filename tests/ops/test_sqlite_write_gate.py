"""SQLite writers of one process queue for the write lock in arrival order, instead of sleeping in
SQLite's busy handler (which naps 1 … 100 ms per try and leaves the lock idle while it naps)."""

from __future__ import annotations

import asyncio
from pathlib import Path

import pytest
from sqlalchemy import text
from sqlalchemy.exc import OperationalError

from autopilot.kit.db import make_engine, make_sessionmaker

WRITERS = 5  # the writer pool keeps 5 connections open


async def _table(url: str) -> None:
    engine = make_engine(url)
    async with engine.begin() as conn:
        await conn.execute(text("CREATE TABLE arrivals (seq INTEGER PRIMARY KEY AUTOINCREMENT, who INTEGER)"))
    await engine.dispose()


async def test_concurrent_writers_take_the_lock_in_the_order_they_asked_for_it(tmp_path: Path) -> None:
    url = f"sqlite+aiosqlite:///{tmp_path / 'gate.db'}"
    await _table(url)
    engine = make_engine(url)
    sessions = make_sessionmaker(engine)

    async def writer(who: int) -> None:
        async with sessions() as session, session.begin():
            await session.execute(text("INSERT INTO arrivals (who) VALUES (:who)"), {"who": who})
            await asyncio.sleep(0.01)  # a transaction that spans a few turns of the loop, as real ones do

    try:
        # Open the pool's connections first: a new connection's set-up time would decide the order.
        warm = [await engine.connect() for _ in range(WRITERS)]  # checked out, no transaction begun
        for conn in warm:
            await conn.close()
        tasks = []
        for who in range(WRITERS):
            tasks.append(asyncio.create_task(writer(who)))
            await asyncio.sleep(0.002)  # each asks after the previous one, while the lock is taken
        await asyncio.gather(*tasks)
        async with sessions() as session:
            order = (await session.execute(text("SELECT who FROM arrivals ORDER BY seq"))).scalars().all()
    finally:
        await engine.dispose()
    # Without the gate the busy handler decides: the longest sleepers (the first to ask) come last.
    assert list(order) == list(range(WRITERS))


async def test_a_writer_that_waits_longer_than_the_busy_timeout_is_told_the_database_is_locked(
    tmp_path: Path,
) -> None:
    url = f"sqlite+aiosqlite:///{tmp_path / 'gate.db'}"
    await _table(url)
    engine = make_engine(url, busy_timeout_ms=200)
    sessions = make_sessionmaker(engine)
    holding = asyncio.Event()
    release = asyncio.Event()

    async def holder() -> None:
        async with sessions() as session, session.begin():
            await session.execute(text("INSERT INTO arrivals (who) VALUES (1)"))
            holding.set()
            await release.wait()

    try:
        held = asyncio.create_task(holder())
        await holding.wait()
        with pytest.raises(OperationalError, match="database is locked"):
            async with sessions() as session, session.begin():
                await session.execute(text("INSERT INTO arrivals (who) VALUES (2)"))
        release.set()
        await held
        async with sessions() as session, session.begin():  # the gate is free again after the refusal
            await session.execute(text("INSERT INTO arrivals (who) VALUES (3)"))
            whos = (await session.execute(text("SELECT who FROM arrivals ORDER BY seq"))).scalars().all()
    finally:
        await engine.dispose()
    assert list(whos) == [1, 3]
