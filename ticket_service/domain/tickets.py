"""Creating tickets, reading them, and moving them through their states."""

from __future__ import annotations

import uuid
from dataclasses import dataclass, field
from typing import Any

from sqlalchemy import bindparam, select, update
from sqlalchemy.dialects.postgresql import insert as pg_insert
from sqlalchemy.dialects.sqlite import insert as sqlite_insert
from sqlalchemy.exc import IntegrityError
from sqlalchemy.ext.asyncio import AsyncConnection

from ticket_service import outbox
from ticket_service.context import Context
from ticket_service.db import idempotency
from ticket_service.db.schema import ticket_followers, tickets
from ticket_service.domain import history
from ticket_service.domain.reporters import Contact, ticket_reporter_id, upsert_reporter
from ticket_service.domain.routing import department_for, municipality_for
from ticket_service.domain.schedule import due_at, next_for_ticket, next_step
from ticket_service.domain.statuses import ALLOWED_MOVES, Kind, Resolution, Status, extended_status
from ticket_service.errors import Conflict, FieldError, InvalidInput, NotFound
from ticket_service.geo import bounding_box, haversine_m
from ticket_service.numbers import new_ticket_number

INQUIRY_SLA_HOURS = 48


# Statements built once: per-call construction costs more CPU than the database round trip.
_DUPLICATE_CANDIDATES = select(tickets).where(
    tickets.c.service_code == bindparam("service_code"),
    tickets.c.status != Status.CLOSED.value,
    tickets.c.kind == Kind.REPORT.value,
    tickets.c.lat.between(bindparam("min_lat"), bindparam("max_lat")),
    tickets.c.long.between(bindparam("min_lon"), bindparam("max_lon")),
)
_INSERT_UNLESS_NUMBER_TAKEN = {
    name: insert(tickets)
    .on_conflict_do_nothing(index_elements=[tickets.c.number])
    .returning(tickets.c.id)
    for name, insert in (("postgresql", pg_insert), ("sqlite", sqlite_insert))
}


@dataclass(frozen=True)
class NewTicket:
    """A validated request to file: see ``validation.new_ticket_from`` for the rules."""

    kind: Kind
    service_code: str
    channel: str
    description: str | None = None
    lat: float | None = None
    long: float | None = None
    address: str | None = None
    address_id: str | None = None
    zipcode: str | None = None
    media_urls: tuple[str, ...] = ()
    attributes: dict[str, Any] = field(default_factory=dict)
    contact: Contact | None = None
    conversation_id: str | None = None
    language: str | None = None
    agent_id: str | None = None


@dataclass(frozen=True)
class Created:
    ticket: dict[str, Any]
    duplicate: bool  # linked to an existing open ticket; the citizen became a follower
    replayed: bool  # the same Idempotency-Key was seen before; nothing new was written


async def find(conn: AsyncConnection, number: str) -> dict[str, Any] | None:
    row = (await conn.execute(select(tickets).where(tickets.c.number == number))).mappings().first()
    return dict(row) if row else None


async def get(conn: AsyncConnection, number: str) -> dict[str, Any]:
    ticket = await find(conn, number)
    if ticket is None:
        raise NotFound(f"service_request_id {number} not found")
    return ticket


async def lock(conn: AsyncConnection, number: str) -> dict[str, Any]:
    query = select(tickets).where(tickets.c.number == number)
    if conn.dialect.name == "postgresql":
        query = query.with_for_update()
    row = (await conn.execute(query)).mappings().first()
    if row is None:
        raise NotFound(f"service_request_id {number} not found")
    return dict(row)


async def _open_duplicate(
    conn: AsyncConnection, ctx: Context, new: NewTicket
) -> dict[str, Any] | None:
    """An open report of the same service within the duplicate radius, nearest first."""
    if new.kind != Kind.REPORT or new.lat is None or new.long is None:
        return None
    radius = ctx.settings.duplicate_radius_m
    min_lat, max_lat, min_lon, max_lon = bounding_box(new.lat, new.long, radius)
    rows = await conn.execute(
        _DUPLICATE_CANDIDATES,
        {
            "service_code": new.service_code,
            "min_lat": min_lat,
            "max_lat": max_lat,
            "min_lon": min_lon,
            "max_lon": max_lon,
        },
    )
    best: tuple[float, dict[str, Any]] | None = None
    for row in rows.mappings():
        d = haversine_m(new.lat, new.long, row["lat"], row["long"])
        if d <= radius and (best is None or d < best[0]):
            best = (d, dict(row))
    return best[1] if best else None


async def _add_follower(
    conn: AsyncConnection, ctx: Context, ticket: dict[str, Any], reporter_id: int
) -> None:
    if reporter_id == ticket["reporter_id"]:
        return
    exists = await conn.execute(
        select(ticket_followers.c.reporter_id).where(
            ticket_followers.c.ticket_id == ticket["id"],
            ticket_followers.c.reporter_id == reporter_id,
        )
    )
    if exists.first() is None:
        await conn.execute(
            ticket_followers.insert().values(
                ticket_id=ticket["id"], reporter_id=reporter_id, created_at=ctx.clock.now()
            )
        )


async def create(ctx: Context, new: NewTicket, idempotency_key: str | None = None) -> Created:
    """File a request: route it, give it a number and an SLA, or link it to an open duplicate.

    With an ``idempotency_key`` a retry returns the ticket the first call made, never a second.
    """
    try:
        return await _create(ctx, new, idempotency_key)
    except IntegrityError:
        # A concurrent retry with the same key won the race; answer with its ticket.
        if idempotency_key:
            async with ctx.db.read() as conn:
                seen = await idempotency.seen(conn, tickets, idempotency_key)
            if seen:
                return Created(seen, duplicate=False, replayed=True)
        raise


async def _create(ctx: Context, new: NewTicket, idempotency_key: str | None) -> Created:
    s = ctx.settings
    now = ctx.clock.now()
    service = s.service(new.service_code)
    if service is None:
        raise NotFound(
            f"service_code {new.service_code} not found",
            [FieldError("service_code", "unknown service")],
        )
    async with ctx.db.write() as conn:
        if idempotency_key:
            seen = await idempotency.seen(conn, tickets, idempotency_key)
            if seen:
                return Created(seen, duplicate=False, replayed=True)
        reporter_id = await upsert_reporter(conn, new.contact, now) if new.contact else None
        duplicate = await _open_duplicate(conn, ctx, new)
        if duplicate is not None:
            if reporter_id is not None:
                await _add_follower(conn, ctx, duplicate, reporter_id)
            await history.record(
                conn,
                ticket_id=duplicate["id"],
                at=now,
                kind="duplicate_report",
                status=duplicate["status"],
                actor=new.channel,
                public=False,
                data={
                    "reporter_id": reporter_id,
                    "description": new.description,
                    "media_urls": list(new.media_urls),
                },
            )
            return Created(duplicate, duplicate=True, replayed=False)
        sla = INQUIRY_SLA_HOURS if new.kind in (Kind.INQUIRY, Kind.CALLBACK) else service.sla_hours
        first = next_step(now, sla, 0, s.escalation_thresholds, s.escalation_reminders)
        values: dict[str, Any] = {
            "number": new_ticket_number(),
            "token": str(uuid.uuid4()),
            "kind": new.kind.value,
            "service_code": new.service_code,
            "description": new.description,
            "status": Status.OPEN.value,
            "municipality": municipality_for(s, new.lat, new.long, new.address),
            "department": department_for(s, new.kind, new.service_code),
            "lat": new.lat,
            "long": new.long,
            "address": new.address,
            "address_id": new.address_id,
            "zipcode": new.zipcode,
            "media_urls": list(new.media_urls),
            "attributes": new.attributes,
            "reporter_id": reporter_id,
            "channel": new.channel,
            "conversation_id": new.conversation_id,
            "language": new.language or (new.contact.language if new.contact else None),
            "agent_id": new.agent_id,
            "sla_hours": sla,
            "requested_at": now,
            "updated_at": now,
            "due_at": due_at(now, sla, 1.0),
            "escalation_level": 0,
            "next_escalation_at": first.due_at if first else None,
            "idempotency_key": idempotency_key,
        }
        ticket_id = await _insert_with_fresh_number(conn, values)
        ticket = {
            **values,
            "id": ticket_id,
            "resolution": None,
            "status_note": None,
            "closed_at": None,
        }
        await history.record(
            conn,
            ticket_id=ticket_id,
            at=now,
            kind="created",
            status=Status.OPEN,
            actor=new.channel,
            public=new.kind == Kind.REPORT,
        )
        reporter = (
            [_recipient(new.contact, reporter_id, ticket)] if new.contact and reporter_id else []
        )
        await outbox.emit(conn, ctx, "ticket.created", ticket, recipients=reporter)
        return Created(ticket, duplicate=False, replayed=False)


def _recipient(contact: Contact, reporter_id: int, ticket: dict[str, Any]) -> dict[str, Any]:
    """A new ticket's only recipient is its reporter: no need to ask the database."""
    return outbox.recipient(
        "reporter",
        reporter_id,
        contact.channel,
        contact.channel_user_id,
        contact.language or ticket["language"],
        contact.name,
    )


async def _insert_with_fresh_number(conn: AsyncConnection, values: dict[str, Any]) -> int:
    """Insert with a random number; on the rare clash (80 million numbers) draw another.

    ``ON CONFLICT (number) DO NOTHING`` keeps a clash from aborting the transaction.
    """
    stmt = _INSERT_UNLESS_NUMBER_TAKEN[conn.dialect.name]
    for _ in range(20):
        row = (await conn.execute(stmt, values)).first()
        if row is not None:
            return int(row[0])
        values["number"] = new_ticket_number()
    raise RuntimeError("no free ticket number after 20 draws; is the number space exhausted?")


async def change_status(
    ctx: Context,
    number: str,
    *,
    status: Status | None,
    resolution: Resolution | None = None,
    note: str | None = None,
    actor: str,
    internal: bool = False,
    data: dict[str, Any] | None = None,
    citizen: tuple[str, str] | None = None,
) -> dict[str, Any]:
    """Move a ticket to ``status`` (None = reopen a closed ticket), with an optional staff note.

    Closing needs a resolution; a note marked ``internal`` stays out of the public feed and is
    not shown to the citizen. ``citizen`` (channel, channel_user_id): the move is the citizen's
    own (the hub reopening "still not fixed"): anyone but the citizen who filed it (or a linked
    identity) → Forbidden; a complaint, inquiry or callback → Conflict (reports only).
    """
    if status == Status.CLOSED and resolution is None:
        raise InvalidInput(
            "closing needs a resolution", [FieldError("resolution", "required when closing")]
        )
    if status != Status.CLOSED and resolution is not None:
        raise InvalidInput(
            "a resolution only goes with closed", [FieldError("resolution", "only when closing")]
        )
    now = ctx.clock.now()
    async with ctx.db.write() as conn:
        ticket = await lock(conn, number)
        if citizen is not None:
            await ticket_reporter_id(conn, ticket, *citizen, "reopen it")
            if ticket["kind"] != Kind.REPORT:
                raise Conflict(f"ticket {number} is no report: only staff change its status")
        old = Status(ticket["status"])
        if status is None:
            if old != Status.CLOSED:
                raise Conflict(f"ticket {number} is not closed, so it cannot be reopened")
            target = Status.OPEN
        else:
            if status not in ALLOWED_MOVES[old]:
                raise Conflict(f"ticket {number} cannot go from {old} to {status}")
            target = status
        values: dict[str, Any] = {"status": target.value, "updated_at": now}
        if not internal and note:
            values["status_note"] = note
        if target == Status.CLOSED:
            values.update(
                resolution=resolution.value if resolution else None,
                closed_at=now,
                next_escalation_at=None,
            )
        else:
            values.update(resolution=None, closed_at=None)
            if old == Status.CLOSED:
                s = ctx.settings
                upcoming = next_for_ticket(
                    ticket, s.escalation_thresholds, s.escalation_reminders, now
                )
                # a reopened ticket is as late as it was: escalation resumes from where it stood
                values["next_escalation_at"] = max(upcoming.due_at, now) if upcoming else None
        await conn.execute(update(tickets).where(tickets.c.id == ticket["id"]).values(**values))
        ticket.update(values)
        kind = "reopen" if status is None else "status"
        ext = "reopen" if status is None else extended_status(target, ticket["resolution"])
        update_id = await history.record(
            conn,
            ticket_id=ticket["id"],
            at=now,
            kind=kind,
            status=ext,
            note=note,
            actor=actor,
            public=not internal and ticket["kind"] == Kind.REPORT,
            data=data,
        )
        event_data = {
            "from_status": old.value,
            "to_status": target.value,
            "resolution": ticket["resolution"],
            "note": None if internal else note,
            "update_id": str(update_id),
            "reopened": status is None,
        }
        if target == Status.CLOSED:
            await outbox.emit(conn, ctx, "ticket.closed", ticket, event_data)
            if ticket["kind"] == Kind.REPORT and ticket["reporter_id"] is not None:
                await outbox.emit(
                    conn, ctx, "ticket.survey_requested", ticket, {"update_id": str(update_id)}
                )
        else:
            await outbox.emit(conn, ctx, "ticket.status_changed", ticket, event_data)
        ticket["last_update_id"] = str(update_id)
        return ticket
