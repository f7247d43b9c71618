"""Request-scoped dependencies: the session (one transaction per request) and app services."""

from __future__ import annotations

from collections.abc import AsyncIterator
from contextlib import asynccontextmanager
from typing import Annotated

from fastapi import Depends, Request
from sqlalchemy.ext.asyncio import AsyncSession, async_sessionmaker

from autopilot.config import Settings

# Requests that only read: on SQLite they get a reader session (deferred, query_only), so they
# never wait for the single write lock (decision 0007). Writes beside them use `kit.db.write_beside`.
READ_METHODS = frozenset({"GET", "HEAD", "OPTIONS"})


async def get_session(request: Request) -> AsyncIterator[AsyncSession]:
    """One transaction per request: committed before the response is sent, rolled back on error."""
    writer: async_sessionmaker[AsyncSession] = request.app.state.sessions
    reader: async_sessionmaker[AsyncSession] = request.app.state.readers
    read_only = request.method in READ_METHODS and reader is not writer
    async with (reader if read_only else writer)() as session:
        if read_only:
            session.info["writer"] = writer
        try:
            yield session
        except BaseException:
            await session.rollback()
            raise
        else:
            await session.commit()


class Transactions:
    """Short transactions for a request that does CPU-heavy work between its reads and writes
    (password hashing): nothing holds a transaction, or SQLite's write lock, while it computes.
    Each block commits when it ends without error and rolls back otherwise (decision 0008)."""

    def __init__(self, writer: async_sessionmaker[AsyncSession], reader: async_sessionmaker[AsyncSession]) -> None:
        self._writer, self._reader = writer, reader

    @property
    def sessions(self) -> async_sessionmaker[AsyncSession]:
        """The writer's sessionmaker, for services that open their own short transactions."""
        return self._writer

    @asynccontextmanager
    async def write(self) -> AsyncIterator[AsyncSession]:
        async with self._writer() as session, session.begin():
            yield session

    @asynccontextmanager
    async def read(self) -> AsyncIterator[AsyncSession]:
        async with self._reader() as session, session.begin():
            if self._reader is not self._writer:
                session.info["writer"] = self._writer
            yield session


def get_transactions(request: Request) -> Transactions:
    return Transactions(request.app.state.sessions, request.app.state.readers)


def get_settings_dep(request: Request) -> Settings:
    settings: Settings = request.app.state.settings
    return settings


SessionDep = Annotated[AsyncSession, Depends(get_session, scope="function")]
TransactionsDep = Annotated[Transactions, Depends(get_transactions)]
SettingsDep = Annotated[Settings, Depends(get_settings_dep)]
