"""Automatic escalation with an injected clock: levels at 100/150/200% of the SLA, each once."""

from __future__ import annotations

import asyncio
from datetime import timedelta

from sqlalchemy import select

from ticket_service.clock import FakeClock
from ticket_service.context import Context
from ticket_service.db.schema import escalations, outbox_events
from ticket_service.domain import escalation, followups, tickets
from ticket_service.domain.reporters import Contact
from ticket_service.domain.statuses import Kind, Resolution, Status

from .conftest import BOTH_BACKENDS

CITIZEN = Contact("whatsapp", "966500000101", phone="+966500000101", language="ar")


async def _report(
    ctx: Context, service: str = "pothole", lat: float = 26.4126
) -> dict[str, object]:
    new = tickets.NewTicket(
        kind=Kind.REPORT,
        service_code=service,
        channel="whatsapp",
        description="حفرة كبيرة",
        lat=lat,
        long=50.0645,
        contact=CITIZEN,
    )
    return (await tickets.create(ctx, new)).ticket


async def _levels(ctx: Context, ticket_id: object) -> list[tuple[int, int, str]]:
    async with ctx.db.read() as conn:
        rows = await conn.execute(
            select(escalations.c.level, escalations.c.seq, escalations.c.reason)
            .where(escalations.c.ticket_id == ticket_id)
            .order_by(escalations.c.id)
        )
        return [(r.level, r.seq, r.reason) for r in rows]


async def _escalated_events(ctx: Context) -> list[dict[str, object]]:
    async with ctx.db.read() as conn:
        rows = await conn.execute(
            select(outbox_events.c.payload)
            .where(outbox_events.c.type == "ticket.escalated")
            .order_by(outbox_events.c.id)
        )
        return [r.payload for r in rows]


@BOTH_BACKENDS
async def test_levels_one_two_three_are_reached_once_each(ctx: Context, clock: FakeClock) -> None:
    ticket = await _report(ctx)  # pothole: SLA 72 h
    sla = timedelta(hours=72)

    clock.advance(sla - timedelta(minutes=1))
    assert await escalation.run_due(ctx) == 0
    clock.advance(timedelta(minutes=1))  # exactly 100%
    assert await escalation.run_due(ctx) == 1
    assert await escalation.run_due(ctx) == 0  # a second pass finds nothing new
    assert await _levels(ctx, ticket["id"]) == [(1, 0, "sla")]

    clock.advance(sla * 0.5)  # 150%
    await escalation.run_due(ctx)
    clock.advance(sla * 0.25)  # 175%: nothing due
    await escalation.run_due(ctx)
    clock.advance(sla * 0.25)  # 200%
    await escalation.run_due(ctx)
    await escalation.run_due(ctx)
    assert await _levels(ctx, ticket["id"]) == [(1, 0, "sla"), (2, 0, "sla"), (3, 0, "sla")]

    events = await _escalated_events(ctx)
    assert [e["data"]["level"] for e in events] == [1, 2, 3]  # type: ignore[index]
    assert all(e["ticket"]["service_request_id"] == ticket["number"] for e in events)  # type: ignore[index]


async def test_level_three_reminder_every_further_sla_period(
    ctx: Context, clock: FakeClock
) -> None:
    ticket = await _report(ctx, service="sewage")  # SLA 6 h
    for hours in (6, 9, 12):
        clock.set(ticket["requested_at"] + timedelta(hours=hours))  # type: ignore[operator]
        await escalation.run_due(ctx)
    clock.set(ticket["requested_at"] + timedelta(hours=17, minutes=59))  # type: ignore[operator]
    await escalation.run_due(ctx)
    assert len(await _levels(ctx, ticket["id"])) == 3
    clock.set(ticket["requested_at"] + timedelta(hours=18))  # 300%: first reminder
    await escalation.run_due(ctx)
    clock.set(ticket["requested_at"] + timedelta(hours=24))  # 400%: second reminder
    await escalation.run_due(ctx)
    await escalation.run_due(ctx)
    assert await _levels(ctx, ticket["id"]) == [
        (1, 0, "sla"),
        (2, 0, "sla"),
        (3, 0, "sla"),
        (3, 1, "sla"),
        (3, 2, "sla"),
    ]


async def test_a_late_scheduler_catches_up_each_level_once(ctx: Context, clock: FakeClock) -> None:
    ticket = await _report(ctx, service="waste")  # SLA 24 h
    clock.advance(timedelta(hours=49))  # the scheduler was down past 200%
    assert await escalation.run_due(ctx) == 3
    assert await escalation.run_due(ctx) == 0
    assert [lvl for lvl, _, _ in await _levels(ctx, ticket["id"])] == [1, 2, 3]


@BOTH_BACKENDS
async def test_a_closed_ticket_never_escalates(ctx: Context, clock: FakeClock) -> None:
    ticket = await _report(ctx)
    clock.advance(timedelta(hours=10))
    await tickets.change_status(
        ctx,
        str(ticket["number"]),
        status=Status.CLOSED,
        resolution=Resolution.FIXED,
        note="تم الإصلاح",
        actor="agent-7",
    )
    for days in (3, 5, 10, 30):
        clock.set(ticket["requested_at"] + timedelta(days=days))  # type: ignore[operator]
        assert await escalation.run_due(ctx) == 0
    assert await _levels(ctx, ticket["id"]) == []


async def test_reopened_ticket_resumes_escalation(ctx: Context, clock: FakeClock) -> None:
    ticket = await _report(ctx)  # 72 h
    number = str(ticket["number"])
    await tickets.change_status(
        ctx, number, status=Status.CLOSED, resolution=Resolution.FIXED, actor="a"
    )
    clock.advance(timedelta(hours=80))
    assert await escalation.run_due(ctx) == 0
    await tickets.change_status(ctx, number, status=None, note="still broken", actor="citizen")
    assert await escalation.run_due(ctx) == 1  # 80 h > 72 h: level 1 now
    assert [lvl for lvl, _, _ in await _levels(ctx, ticket["id"])] == [1]


async def test_follow_up_escalates_one_level_at_once(ctx: Context, clock: FakeClock) -> None:
    ticket = await _report(ctx)  # 72 h
    clock.advance(timedelta(hours=5))
    fu = await followups.create(
        ctx,
        followups.NewFollowup(str(ticket["number"]), "whatsapp", text="ما أحد رد", contact=CITIZEN),
    )
    assert await _levels(ctx, ticket["id"]) == [(1, 0, "followup")]
    assert fu["due_datetime"] == (clock.now() + timedelta(hours=24)).isoformat().replace(
        "+00:00", "Z"
    )
    # the SLA clock still rules the next step: level 2 at 150%, not level 1 again at 100%
    clock.set(ticket["requested_at"] + timedelta(hours=72))  # type: ignore[operator]
    assert await escalation.run_due(ctx) == 0
    clock.set(ticket["requested_at"] + timedelta(hours=108))  # type: ignore[operator]
    assert await escalation.run_due(ctx) == 1
    assert [lvl for lvl, _, _ in await _levels(ctx, ticket["id"])] == [1, 2]


@BOTH_BACKENDS
async def test_two_schedulers_at_once_escalate_each_ticket_once(
    ctx: Context, clock: FakeClock, backend: str
) -> None:
    created = [await _report(ctx, lat=26.40 + i * 0.001) for i in range(40)]
    clock.advance(timedelta(hours=73))
    # two independent schedulers: separate engines (connection pools), same database
    from ticket_service.db.engine import Database

    other = Context(ctx.settings, Database(ctx.db.url), clock)
    try:
        results = await asyncio.gather(
            escalation.run_due(ctx),
            escalation.run_due(other),
            escalation.run_due(ctx),
            escalation.run_due(other),
        )
    finally:
        await other.db.dispose()
    assert sum(results) == 40
    for ticket in created:
        assert await _levels(ctx, ticket["id"]) == [(1, 0, "sla")]
    assert len(await _escalated_events(ctx)) == 40
