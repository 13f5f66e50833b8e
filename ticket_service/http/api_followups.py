"""Follow-ups ("my report is being ignored"): filed by the hub or an agent for a ticket, worked
by Beneficiary Satisfaction (queue, record the contact, close with an outcome)."""

from __future__ import annotations

from aiohttp import web

from ticket_service.config import Role
from ticket_service.context import Context
from ticket_service.domain import followups, queries
from ticket_service.domain.followups import FollowupStatus, NewFollowup
from ticket_service.domain.validation import (
    Collector,
    contact_note_from,
    followup_close_from,
    followup_from,
)
from ticket_service.errors import FieldError, InvalidInput, NotFound
from ticket_service.http.api_v1 import (
    actor,
    context,
    followup_reference,
    idempotency_key,
    json_object,
    ok,
    page_query,
    staff_visible_ticket,
    ticket_number,
)
from ticket_service.http.auth import Principal, authenticate

routes = web.RouteTableDef()


async def _check_filer(ctx: Context, principal: Principal, new: NewFollowup) -> None:
    """The hub files only for the contact who filed or follows the ticket (else "not found");
    an agent never learns that a complaint exists."""
    async with ctx.db.read() as conn:
        if principal.role != Role.HUB:
            await staff_visible_ticket(conn, new.ticket_number, principal)
            return
        if new.contact is None:
            raise InvalidInput(
                "the hub must say who files the follow-up",
                [FieldError("reporter", "required: channel and channel_user_id of the citizen")],
            )
        mine = await queries.contact_ticket(
            conn, new.ticket_number, new.contact.channel, new.contact.channel_user_id
        )
    if mine is None:
        raise NotFound(f"service_request_id {new.ticket_number} not found")


@routes.post("/api/v1/requests/{number}/followups")
async def create_followup(request: web.Request) -> web.Response:
    """A follow-up (text, voicemail or attachment URL) queued for Beneficiary Satisfaction with
    its own SLA; the ticket escalates one level at once. ``Idempotency-Key`` honoured."""
    principal = authenticate(request, Role.HUB, Role.AGENT)
    number = ticket_number(request)
    key = idempotency_key(request)
    new = followup_from(await json_object(request), number)
    ctx = context(request)
    await _check_filer(ctx, principal, new)
    return ok(await followups.create(ctx, new, key), status=201)


@routes.get("/api/v1/followups")
async def followup_queue(request: web.Request) -> web.Response:
    """Beneficiary Satisfaction's queue, oldest due first; ``status`` filters."""
    authenticate(request, Role.SATISFACTION, Role.SUPERVISOR)
    c = Collector()
    status = c.choice(
        request.query, "status", FollowupStatus, ", ".join(s.value for s in FollowupStatus)
    )
    c.raise_if_any()
    page, size = page_query(request)
    rows = await followups.queue(context(request), status, limit=size, offset=(page - 1) * size)
    return ok({"followups": rows, "page": page, "page_size": size})


@routes.post("/api/v1/followups/{reference}/contact")
async def record_contact(request: web.Request) -> web.Response:
    principal = authenticate(request, Role.SATISFACTION)
    reference = followup_reference(request)
    note = contact_note_from(await json_object(request))
    return ok(await followups.record_contact(context(request), reference, note, actor(principal)))


@routes.post("/api/v1/followups/{reference}/close")
async def close_followup(request: web.Request) -> web.Response:
    """Close with an outcome: resolved, escalated, unreachable or no_action."""
    principal = authenticate(request, Role.SATISFACTION)
    reference = followup_reference(request)
    outcome, note = followup_close_from(await json_object(request))
    view = await followups.close(context(request), reference, outcome, note, actor(principal))
    return ok(view)
