"""The ticket's history: every status change, note, escalation, follow-up and survey, in order."""

from __future__ import annotations

from datetime import datetime
from typing import Any

from sqlalchemy import select
from sqlalchemy.ext.asyncio import AsyncConnection

from ticket_service.db.schema import ticket_updates
from ticket_service.domain.views import iso

_INSERT = ticket_updates.insert().returning(ticket_updates.c.id)


async def record(
    conn: AsyncConnection,
    *,
    ticket_id: int,
    at: datetime,
    kind: str,
    status: str,
    actor: str,
    note: str | None = None,
    public: bool = True,
    data: dict[str, Any] | None = None,
) -> int:
    result = await conn.execute(
        _INSERT,
        {
            "ticket_id": ticket_id,
            "at": at,
            "kind": kind,
            "status": status,
            "note": note,
            "actor": actor,
            "public": public,
            "data": data or {},
        },
    )
    return int(result.scalar_one())


async def history(conn: AsyncConnection, ticket_id: int) -> list[dict[str, Any]]:
    rows = await conn.execute(
        select(ticket_updates)
        .where(ticket_updates.c.ticket_id == ticket_id)
        .order_by(ticket_updates.c.at, ticket_updates.c.id)
    )
    return [
        {
            "update_id": str(r["id"]),
            "at": iso(r["at"]),
            "kind": r["kind"],
            "status": r["status"],
            "note": r["note"],
            "actor": r["actor"],
            "public": r["public"],
            "data": r["data"],
        }
        for r in rows.mappings()
    ]
