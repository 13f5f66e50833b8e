""" "My report is being ignored": follow-ups for the Beneficiary Satisfaction department."""

from __future__ import annotations

from dataclasses import dataclass
from datetime import timedelta
from enum import StrEnum
from typing import Any

from sqlalchemy import select, update
from sqlalchemy.ext.asyncio import AsyncConnection

from ticket_service import outbox
from ticket_service.context import Context
from ticket_service.db import idempotency
from ticket_service.db.schema import followups, tickets
from ticket_service.domain import escalation, history
from ticket_service.domain.reporters import Contact, upsert_reporter
from ticket_service.domain.tickets import get, lock
from ticket_service.domain.views import iso
from ticket_service.errors import Conflict, NotFound
from ticket_service.numbers import new_followup_reference


class FollowupStatus(StrEnum):
    OPEN = "open"
    CONTACTED = "contacted"
    CLOSED = "closed"


class Outcome(StrEnum):
    RESOLVED = "resolved"  # the citizen's concern was settled
    ESCALATED = "escalated"  # handed to the municipality's management
    UNREACHABLE = "unreachable"  # the citizen could not be reached
    NO_ACTION = "no_action"  # nothing further to do


@dataclass(frozen=True)
class NewFollowup:
    ticket_number: str
    channel: str
    text: str | None = None
    voicemail_url: str | None = None
    attachment_url: str | None = None
    contact: Contact | None = None


def view(row: dict[str, Any], ticket_number: str) -> dict[str, Any]:
    return {
        "reference": row["reference"],
        "service_request_id": ticket_number,
        "channel": row["channel"],
        "text": row["text"],
        "voicemail_url": row["voicemail_url"],
        "attachment_url": row["attachment_url"],
        "status": row["status"],
        "created_datetime": iso(row["created_at"]),
        "due_datetime": iso(row["due_at"]),
        "contacted_datetime": iso(row["contacted_at"]),
        "contact_note": row["contact_note"],
        "closed_datetime": iso(row["closed_at"]),
        "outcome": row["outcome"],
        "outcome_note": row["outcome_note"],
    }


async def create(
    ctx: Context, new: NewFollowup, idempotency_key: str | None = None
) -> dict[str, Any]:
    """File a follow-up, queue it for Beneficiary Satisfaction and escalate the ticket."""
    now = ctx.clock.now()
    async with ctx.db.write() as conn:
        earlier = await idempotency.seen(conn, followups, idempotency_key)
        if earlier:
            return view(earlier, new.ticket_number)
        ticket = await lock(conn, new.ticket_number)
        reporter_id = await upsert_reporter(conn, new.contact, now) if new.contact else None
        reference = new_followup_reference()
        values = {
            "reference": reference,
            "ticket_id": ticket["id"],
            "reporter_id": reporter_id,
            "channel": new.channel,
            "text": new.text,
            "voicemail_url": new.voicemail_url,
            "attachment_url": new.attachment_url,
            "status": FollowupStatus.OPEN.value,
            "created_at": now,
            "due_at": now + timedelta(hours=ctx.settings.followup_sla_hours),
            "idempotency_key": idempotency_key,
        }
        await conn.execute(followups.insert().values(**values))
        data = {"reference": reference, "text": new.text, "voicemail_url": new.voicemail_url}
        await history.record(
            conn,
            ticket_id=ticket["id"],
            at=now,
            kind="followup",
            status=ticket["status"],
            actor=new.channel,
            public=False,
            data=data,
        )
        await outbox.emit(
            conn, ctx, "ticket.followup_created", ticket, {**data, "channel": new.channel},
            recipients=await outbox.filer(conn, ticket, reporter_id),
        )  # fmt: skip
        if ticket["status"] != "closed":
            await escalation.bump_for_followup(conn, ctx, ticket, reference)
        return view(
            {
                **values,
                "contacted_at": None,
                "contact_note": None,
                "closed_at": None,
                "outcome": None,
                "outcome_note": None,
            },
            new.ticket_number,
        )


async def _locked(conn: AsyncConnection, reference: str) -> dict[str, Any]:
    query = select(followups).where(followups.c.reference == reference)
    if conn.dialect.name == "postgresql":
        query = query.with_for_update()
    row = (await conn.execute(query)).mappings().first()
    if row is None:
        raise NotFound(f"follow-up {reference} not found")
    return dict(row)


async def _ticket_number(conn: AsyncConnection, ticket_id: int) -> str:
    return str(
        (await conn.execute(select(tickets.c.number).where(tickets.c.id == ticket_id))).scalar_one()
    )


async def record_contact(ctx: Context, reference: str, note: str, actor: str) -> dict[str, Any]:
    """Beneficiary Satisfaction reached the citizen: recorded, and the citizen who filed the
    follow-up is told (``ticket.followup_contacted``, in the same transaction; the note stays
    with staff)."""
    now = ctx.clock.now()
    async with ctx.db.write() as conn:
        row = await _locked(conn, reference)
        if row["status"] == FollowupStatus.CLOSED:
            raise Conflict(f"follow-up {reference} is closed")
        values = {
            "status": FollowupStatus.CONTACTED.value,
            "contacted_at": now,
            "contact_note": note,
        }
        await conn.execute(update(followups).where(followups.c.id == row["id"]).values(**values))
        await history.record(
            conn,
            ticket_id=row["ticket_id"],
            at=now,
            kind="followup_contact",
            status="contacted",
            actor=actor,
            note=note,
            public=False,
            data={"reference": reference},
        )
        number = await _ticket_number(conn, row["ticket_id"])
        ticket = await get(conn, number)
        await outbox.emit(
            conn, ctx, "ticket.followup_contacted", ticket,
            {"reference": reference, "channel": row["channel"], "contacted_at": iso(now)},
            recipients=await outbox.filer(conn, ticket, row["reporter_id"]),
        )  # fmt: skip
        return view({**row, **values}, number)


async def close(
    ctx: Context, reference: str, outcome: Outcome, note: str | None, actor: str
) -> dict[str, Any]:
    now = ctx.clock.now()
    async with ctx.db.write() as conn:
        row = await _locked(conn, reference)
        if row["status"] == FollowupStatus.CLOSED:
            raise Conflict(f"follow-up {reference} is already closed")
        values = {
            "status": FollowupStatus.CLOSED.value,
            "closed_at": now,
            "outcome": outcome.value,
            "outcome_note": note,
            "contacted_at": row["contacted_at"]
            or (None if outcome == Outcome.UNREACHABLE else now),
        }
        await conn.execute(update(followups).where(followups.c.id == row["id"]).values(**values))
        await history.record(
            conn,
            ticket_id=row["ticket_id"],
            at=now,
            kind="followup_closed",
            status=outcome.value,
            actor=actor,
            note=note,
            public=False,
            data={"reference": reference},
        )
        return view({**row, **values}, await _ticket_number(conn, row["ticket_id"]))


async def queue(
    ctx: Context, status: FollowupStatus | None, limit: int, offset: int
) -> list[dict[str, Any]]:
    """The Beneficiary Satisfaction work queue, oldest due first."""
    query = (
        select(followups, tickets.c.number.label("ticket_number"))
        .join(tickets, tickets.c.id == followups.c.ticket_id)
        .order_by(followups.c.due_at, followups.c.id)
        .limit(limit)
        .offset(offset)
    )
    if status is not None:
        query = query.where(followups.c.status == status.value)
    async with ctx.db.read() as conn:
        rows = (await conn.execute(query)).mappings().all()
    return [view(dict(r), r["ticket_number"]) for r in rows]
