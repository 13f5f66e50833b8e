"""Read-side queries: the public Open311 listing and what one citizen may see of their own."""

from __future__ import annotations

from dataclasses import dataclass
from datetime import datetime
from typing import Any

from sqlalchemy import bindparam, func, or_, select
from sqlalchemy.ext.asyncio import AsyncConnection

from ticket_service.db.schema import reporters, ticket_followers, ticket_updates, tickets
from ticket_service.domain.reporters import find_reporter, linked_reporter_ids
from ticket_service.domain.statuses import Kind, Status


@dataclass(frozen=True)
class RequestFilter:
    """GeoReport v2 GET requests filters. ``ids`` overrides all the others."""

    ids: tuple[str, ...] = ()
    service_codes: tuple[str, ...] = ()
    statuses: tuple[str, ...] = ()  # open / closed, as Open311 says them
    start: datetime | None = None
    end: datetime | None = None
    page: int = 1
    page_size: int = 100


async def public_requests(conn: AsyncConnection, f: RequestFilter) -> list[dict[str, Any]]:
    """Reports only: complaints, inquiries and callbacks never appear in public listings."""
    query = select(tickets).where(tickets.c.kind == Kind.REPORT)
    if f.ids:
        query = query.where(tickets.c.number.in_(f.ids))
    else:
        if f.service_codes:
            query = query.where(tickets.c.service_code.in_(f.service_codes))
        if f.statuses and set(f.statuses) != {"open", "closed"}:
            closed = tickets.c.status == Status.CLOSED
            query = query.where(closed if "closed" in f.statuses else ~closed)
        if f.start is not None:
            query = query.where(tickets.c.requested_at >= f.start)
        if f.end is not None:
            query = query.where(tickets.c.requested_at <= f.end)
    query = (
        query.order_by(tickets.c.requested_at.desc(), tickets.c.id.desc())
        .limit(f.page_size)
        .offset((f.page - 1) * f.page_size)
    )
    return [dict(r) for r in (await conn.execute(query)).mappings()]


_PUBLIC_ONE = select(tickets).where(
    tickets.c.number == bindparam("number"), tickets.c.kind == Kind.REPORT.value
)


async def public_request(conn: AsyncConnection, number: str) -> dict[str, Any] | None:
    """One report by its number (the hottest public read: a prepared, cached statement)."""
    row = (await conn.execute(_PUBLIC_ONE, {"number": number})).mappings().first()
    return dict(row) if row else None


async def public_updates(
    conn: AsyncConnection, start: datetime | None, end: datetime | None, limit: int
) -> list[dict[str, Any]]:
    """The public status-change feed (mySociety servicerequestupdates)."""
    query = (
        select(ticket_updates, tickets.c.number, tickets.c.media_urls)
        .join(tickets, tickets.c.id == ticket_updates.c.ticket_id)
        .where(ticket_updates.c.public.is_(True), tickets.c.kind == Kind.REPORT)
    )
    if start is not None:
        query = query.where(ticket_updates.c.at >= start)
    if end is not None:
        query = query.where(ticket_updates.c.at <= end)
    query = query.order_by(ticket_updates.c.at, ticket_updates.c.id).limit(limit)
    return [dict(r) for r in (await conn.execute(query)).mappings()]


async def contact_reporter_ids(conn: AsyncConnection, channel: str, user_id: str) -> set[int]:
    """Every reporter identity that is this contact (the identity itself plus verified links)."""
    me = await find_reporter(conn, channel, user_id)
    return await linked_reporter_ids(conn, int(me["id"])) if me else set()


def _visible_to(ids: set[int]) -> Any:
    followed = select(ticket_followers.c.ticket_id).where(ticket_followers.c.reporter_id.in_(ids))
    return or_(tickets.c.reporter_id.in_(ids), tickets.c.id.in_(followed))


async def contact_tickets(
    conn: AsyncConnection, channel: str, user_id: str, limit: int = 20
) -> list[dict[str, Any]]:
    """This contact's tickets (filed or followed, on any linked identity), newest first."""
    ids = await contact_reporter_ids(conn, channel, user_id)
    if not ids:
        return []
    rows = await conn.execute(
        select(tickets).where(_visible_to(ids)).order_by(tickets.c.requested_at.desc()).limit(limit)
    )
    return [dict(r) for r in rows.mappings()]


async def contact_ticket(
    conn: AsyncConnection, number: str, channel: str, user_id: str
) -> dict[str, Any] | None:
    """The ticket if this contact filed or follows it; otherwise None (shown as "not found")."""
    ids = await contact_reporter_ids(conn, channel, user_id)
    if not ids:
        return None
    row = (
        (await conn.execute(select(tickets).where(tickets.c.number == number, _visible_to(ids))))
        .mappings()
        .first()
    )
    return dict(row) if row else None


async def reporter_of(conn: AsyncConnection, reporter_id: int | None) -> dict[str, Any] | None:
    if reporter_id is None:
        return None
    row = (
        (await conn.execute(select(reporters).where(reporters.c.id == reporter_id)))
        .mappings()
        .first()
    )
    return dict(row) if row else None


async def follower_count(conn: AsyncConnection, ticket_id: int) -> int:
    query = select(func.count()).where(ticket_followers.c.ticket_id == ticket_id)
    return int((await conn.execute(query)).scalar_one())
