"""Transactional outbox: events are written in the same transaction as the change they describe.

Delivery (signed webhooks and escalation e-mails) happens later, in ``ticket_service.delivery``.
"""

from __future__ import annotations

import uuid
from typing import Any

from sqlalchemy import select
from sqlalchemy.ext.asyncio import AsyncConnection

from ticket_service.config import LANGUAGES
from ticket_service.context import Context
from ticket_service.db.schema import (
    outbox_deliveries,
    outbox_events,
    reporters,
    ticket_followers,
)
from ticket_service.domain.views import iso, service_name, staff_ticket

EVENT_TYPES = frozenset(
    {
        "ticket.created",
        "ticket.status_changed",
        "ticket.escalated",
        "ticket.closed",
        "ticket.followup_created",
        "ticket.followup_contacted",
        "ticket.survey_requested",
    }
)
SMTP_TARGET = "smtp"
_INSERT_EVENT = outbox_events.insert().returning(outbox_events.c.id)


def recipient(
    role: str, reporter_id: int, channel: str, user_id: str, language: str | None, name: str | None
) -> dict[str, Any]:
    """One person to tell about a ticket event, on the identity they used."""
    return {
        "role": role,
        "reporter_id": reporter_id,
        "channel": channel,
        "channel_user_id": user_id,
        "language": language,
        "name": name,
    }


async def filer(
    conn: AsyncConnection, ticket: dict[str, Any], reporter_id: int | None
) -> list[dict[str, Any]]:
    """The one person a follow-up's events go to: its filer (role ``filer``), else — filed
    without a contact, e.g. by an agent — the ticket's reporter (role ``reporter``)."""
    role = "filer" if reporter_id is not None else "reporter"
    person_id = reporter_id if reporter_id is not None else ticket["reporter_id"]
    if person_id is None:
        return []
    cols = (reporters.c.channel, reporters.c.channel_user_id, reporters.c.language,
            reporters.c.name)  # fmt: skip
    row = (await conn.execute(select(*cols).where(reporters.c.id == person_id))).mappings().first()
    if row is None:
        return []
    language = row["language"] or ticket["language"]
    return [recipient(role, person_id, row["channel"], row["channel_user_id"], language,
                      row["name"])]  # fmt: skip


async def _recipients(conn: AsyncConnection, ticket: dict[str, Any]) -> list[dict[str, Any]]:
    """The reporter and every follower, each on the identity they used, with their language."""
    rows: list[dict[str, Any]] = []
    cols = (
        reporters.c.id,
        reporters.c.channel,
        reporters.c.channel_user_id,
        reporters.c.language,
        reporters.c.name,
    )
    if ticket["reporter_id"] is not None:
        me = (
            (await conn.execute(select(*cols).where(reporters.c.id == ticket["reporter_id"])))
            .mappings()
            .first()
        )
        if me:
            rows.append({"role": "reporter", **me})
    followers = await conn.execute(
        select(*cols)
        .join(ticket_followers, ticket_followers.c.reporter_id == reporters.c.id)
        .where(ticket_followers.c.ticket_id == ticket["id"])
        .order_by(ticket_followers.c.created_at)
    )
    rows.extend({"role": "follower", **r} for r in followers.mappings())
    return [
        recipient(
            r["role"],
            r["id"],
            r["channel"],
            r["channel_user_id"],
            r["language"] or ticket["language"],
            r["name"],
        )
        for r in rows
    ]


async def emit(
    conn: AsyncConnection,
    ctx: Context,
    event_type: str,
    ticket: dict[str, Any],
    data: dict[str, Any] | None = None,
    *,
    email: bool = False,
    recipients: list[dict[str, Any]] | None = None,
) -> str:
    """Record an event for every subscriber (and the SMTP notifier when ``email``); returns its id.

    ``recipients`` defaults to the ticket's reporter and followers, read from the database.
    """
    if event_type not in EVENT_TYPES:
        raise ValueError(f"unknown event type {event_type}")
    now = ctx.clock.now()
    event_id = str(uuid.uuid4())
    language = ticket["language"] or ctx.settings.default_language
    payload = {
        "event_id": event_id,
        "type": event_type,
        "occurred_at": iso(now),
        "ticket": {
            **staff_ticket(ticket, ctx.settings, language),
            # each recipient is told in their own language, whatever the report's
            "service_names": {
                lang: service_name(ctx.settings, ticket["service_code"], lang) for lang in LANGUAGES
            },
        },
        "recipients": recipients if recipients is not None else await _recipients(conn, ticket),
        "data": data or {},
    }
    row_id = (
        await conn.execute(
            _INSERT_EVENT,
            {
                "event_id": event_id,
                "type": event_type,
                "ticket_id": ticket["id"],
                "payload": payload,
                "created_at": now,
            },
        )
    ).scalar_one()
    targets = [s.name for s in ctx.settings.subscribers]
    if email and ctx.settings.smtp is not None:
        targets.append(SMTP_TARGET)
    if targets:
        await conn.execute(
            outbox_deliveries.insert(),
            [
                {"outbox_event_id": row_id, "target": t, "attempts": 0, "next_attempt_at": now}
                for t in targets
            ],
        )
    return event_id
