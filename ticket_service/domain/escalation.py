"""Automatic escalation of open tickets up the chain, and the one-level bump a follow-up gives.

The scheduler claims due tickets (``FOR UPDATE SKIP LOCKED`` on PostgreSQL, the single-writer
lock on SQLite), records each due step under a unique key and moves ``next_escalation_at``
forward in the same transaction, so concurrent schedulers escalate a ticket once.
"""

from __future__ import annotations

import asyncio
import contextlib
import logging
from typing import Any

from sqlalchemy import select, update
from sqlalchemy.dialects.postgresql import insert as pg_insert
from sqlalchemy.dialects.sqlite import insert as sqlite_insert
from sqlalchemy.ext.asyncio import AsyncConnection

from ticket_service import outbox
from ticket_service.context import Context
from ticket_service.db.schema import escalations, tickets
from ticket_service.domain import history
from ticket_service.domain.schedule import Step, due_steps, next_for_ticket
from ticket_service.domain.statuses import Status

log = logging.getLogger(__name__)


async def _record_step(
    conn: AsyncConnection, ctx: Context, ticket: dict[str, Any], step: Step, reason: str, key: str
) -> bool:
    """Store one escalation step; False when another scheduler already stored it."""
    insert = pg_insert if conn.dialect.name == "postgresql" else sqlite_insert
    now = ctx.clock.now()
    stmt = (
        insert(escalations)
        .values(
            ticket_id=ticket["id"],
            level=step.level,
            seq=step.seq,
            reason=reason,
            step_key=key,
            at=now,
        )
        .on_conflict_do_nothing(index_elements=["ticket_id", "step_key"])
        .returning(escalations.c.id)
    )
    if (await conn.execute(stmt)).first() is None:
        return False
    ticket["escalation_level"] = step.level
    data = {"level": step.level, "reminder": step.seq, "reason": reason}
    await history.record(
        conn,
        ticket_id=ticket["id"],
        at=now,
        kind="escalation",
        status=ticket["status"],
        actor="scheduler" if reason == "sla" else "citizen",
        public=False,
        data=data,
    )
    await outbox.emit(conn, ctx, "ticket.escalated", ticket, data, email=True)
    return True


async def _save_level(conn: AsyncConnection, ctx: Context, ticket: dict[str, Any]) -> None:
    s = ctx.settings
    upcoming = next_for_ticket(
        ticket, s.escalation_thresholds, s.escalation_reminders, ctx.clock.now()
    )
    ticket["next_escalation_at"] = upcoming.due_at if upcoming else None
    await conn.execute(
        update(tickets)
        .where(tickets.c.id == ticket["id"])
        .values(
            escalation_level=ticket["escalation_level"],
            next_escalation_at=ticket["next_escalation_at"],
        )
    )


async def escalate_ticket(conn: AsyncConnection, ctx: Context, ticket: dict[str, Any]) -> int:
    """Record every step now due for this (locked) ticket; returns how many were new."""
    s = ctx.settings
    steps = due_steps(
        ticket["requested_at"],
        ticket["sla_hours"],
        ticket["escalation_level"],
        s.escalation_thresholds,
        s.escalation_reminders,
        ctx.clock.now(),
    )
    new = 0
    for step in steps:
        new += await _record_step(conn, ctx, ticket, step, "sla", f"sla:{step.level}:{step.seq}")
    await _save_level(conn, ctx, ticket)
    return new


async def bump_for_followup(
    conn: AsyncConnection, ctx: Context, ticket: dict[str, Any], reference: str
) -> None:
    """A citizen's follow-up escalates the ticket one level at once (a reminder at the top)."""
    top = len(ctx.settings.escalation_thresholds)
    level = min(ticket["escalation_level"] + 1, top)
    step = Step(level, 0, ctx.clock.now())
    await _record_step(conn, ctx, ticket, step, "followup", f"followup:{reference}")
    await _save_level(conn, ctx, ticket)


async def run_due(ctx: Context) -> int:
    """One scheduler pass over every open ticket whose next step is due; returns steps recorded."""
    total = 0
    while True:
        async with ctx.db.write() as conn:
            query = (
                select(tickets)
                .where(
                    tickets.c.next_escalation_at <= ctx.clock.now(),
                    tickets.c.status != Status.CLOSED,
                )
                .order_by(tickets.c.next_escalation_at)
                .limit(ctx.settings.escalation_batch)
            )
            if conn.dialect.name == "postgresql":
                query = query.with_for_update(skip_locked=True)
            due = [dict(r) for r in (await conn.execute(query)).mappings()]
            for ticket in due:
                total += await escalate_ticket(conn, ctx, ticket)
        if len(due) < ctx.settings.escalation_batch:
            return total


async def scheduler_loop(ctx: Context, stop: asyncio.Event) -> None:
    """Run ``run_due`` every ``escalation.interval_seconds`` until ``stop`` is set."""
    while not stop.is_set():
        try:
            recorded = await run_due(ctx)
            if recorded:
                log.info("escalation pass recorded %d steps", recorded)
        except Exception:  # a failed pass is retried on the next tick; the loop must live on
            log.exception("escalation pass failed")
        with contextlib.suppress(TimeoutError):
            await asyncio.wait_for(stop.wait(), ctx.settings.escalation_interval_s)
