"""One async engine per process, with the write discipline each backend needs."""

from __future__ import annotations

import asyncio
import contextlib
from collections.abc import AsyncIterator
from pathlib import Path
from typing import Any

from sqlalchemy import event
from sqlalchemy.engine.interfaces import DBAPIConnection
from sqlalchemy.ext.asyncio import AsyncConnection, AsyncEngine, create_async_engine
from sqlalchemy.pool import ConnectionPoolEntry


class Database:
    """The engine plus how to run a write transaction on it.

    SQLite allows one writer: writes in this process are serialised by a lock (no
    ``database is locked`` under load) and each starts with ``BEGIN IMMEDIATE``. PostgreSQL
    runs writes concurrently; row claims use ``FOR UPDATE SKIP LOCKED``.
    """

    def __init__(self, url: str, *, pool_size: int = 20) -> None:
        self.url = url
        self.is_sqlite = url.startswith("sqlite")
        kwargs: dict[str, Any] = {}
        if self.is_sqlite:
            _ensure_parent_dir(url)
        else:
            # No pre-ping: it costs a round trip per request. A connection the server closed fails
            # once and is discarded; clients retry 5xx (creates carry an Idempotency-Key).
            kwargs.update(pool_size=pool_size, max_overflow=pool_size, pool_recycle=1800)
        self.engine: AsyncEngine = create_async_engine(url, **kwargs)
        if self.is_sqlite:
            _configure_sqlite(self.engine)
        self._write_lock = asyncio.Lock() if self.is_sqlite else None
        # PostgreSQL reads run outside a transaction: one round trip instead of three
        # (BEGIN, the query, ROLLBACK). A read that needs a snapshot sets its isolation level.
        self._reader = (
            self.engine
            if self.is_sqlite
            else self.engine.execution_options(isolation_level="AUTOCOMMIT")
        )

    @contextlib.asynccontextmanager
    async def write(self) -> AsyncIterator[AsyncConnection]:
        """A connection inside a transaction that commits on success and rolls back on error."""
        if self._write_lock is None:
            async with self.engine.begin() as conn:
                yield conn
            return
        async with self._write_lock, self.engine.connect() as conn:
            await conn.execution_options(tawasul_write=True)
            async with conn.begin():
                yield conn

    @contextlib.asynccontextmanager
    async def read(self) -> AsyncIterator[AsyncConnection]:
        async with self._reader.connect() as conn:
            yield conn

    async def dispose(self) -> None:
        await self.engine.dispose()


def _ensure_parent_dir(url: str) -> None:
    path = url.split(":///", 1)[-1].split("?", 1)[0]
    if path and path != ":memory:":
        Path(path).parent.mkdir(parents=True, exist_ok=True)


def _configure_sqlite(engine: AsyncEngine) -> None:
    sync_engine = engine.sync_engine

    @event.listens_for(sync_engine, "connect")
    def _on_connect(dbapi_conn: DBAPIConnection, _record: ConnectionPoolEntry) -> None:
        # Let SQLAlchemy, not the driver, decide when transactions begin.
        dbapi_conn.isolation_level = None
        cur = dbapi_conn.cursor()
        cur.execute("PRAGMA journal_mode=WAL")
        cur.execute("PRAGMA synchronous=NORMAL")
        cur.execute("PRAGMA foreign_keys=ON")
        cur.execute("PRAGMA busy_timeout=10000")
        cur.close()

    @event.listens_for(sync_engine, "begin")
    def _on_begin(conn: Any) -> None:
        # Writers take the write lock up front, so no transaction fails half-way on upgrade.
        write = conn.get_execution_options().get("tawasul_write", False)
        conn.exec_driver_sql("BEGIN IMMEDIATE" if write else "BEGIN")
