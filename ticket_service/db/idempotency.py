"""Finding what an earlier call with the same ``Idempotency-Key`` created."""

from __future__ import annotations

from functools import cache
from typing import Any

from sqlalchemy import Select, Table, bindparam, select
from sqlalchemy.ext.asyncio import AsyncConnection


@cache
def _query(table: Table) -> Select[Any]:
    return select(table).where(table.c.idempotency_key == bindparam("key"))


async def seen(conn: AsyncConnection, table: Table, key: str | None) -> dict[str, Any] | None:
    """The row of ``table`` created under ``key``, if any (``None`` key: never seen)."""
    if not key:
        return None
    row = (await conn.execute(_query(table), {"key": key})).mappings().first()
    return dict(row) if row else None
