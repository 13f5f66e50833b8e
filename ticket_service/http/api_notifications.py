"""``POST /api/v1/requests/{number}/notifications``: the hub records one attempt to tell a
reporter or follower about the ticket (sent, failed, held for quiet hours, fell back to another
channel) as an internal history row, so staff see every proactive message and its outcome."""

from __future__ import annotations

from aiohttp import web

from ticket_service.config import Role
from ticket_service.domain import history, queries
from ticket_service.domain.validation import Collector
from ticket_service.errors import NotFound
from ticket_service.http.api_v1 import actor, context, json_object, ok, ticket_number
from ticket_service.http.auth import authenticate

routes = web.RouteTableDef()

KIND = "notification"
OUTCOMES = frozenset({"queued", "sent", "held", "failed", "fallback", "undeliverable"})
MAX_DETAIL = 500


@routes.post("/api/v1/requests/{number}/notifications")
async def record_notification(request: web.Request) -> web.Response:
    """Body: ``event_id``, ``event_type``, ``channel``, ``channel_user_id`` (the recipient: the
    reporter or a follower of the ticket, else 404), ``outcome`` (one of :data:`OUTCOMES`),
    optional ``detail``. 201 with the history row's ``update_id``; never shown to citizens."""
    principal = authenticate(request, Role.HUB)
    number = ticket_number(request)
    data = await json_object(request)
    c = Collector()
    event_id = c.text(data, "event_id", required=True)
    event_type = c.text(data, "event_type", required=True)
    channel = c.text(data, "channel", max_len=32, required=True)
    user_id = c.text(data, "channel_user_id", required=True)
    outcome = c.text(data, "outcome", required=True)
    if outcome is not None and outcome not in OUTCOMES:
        c.add("outcome", f"one of {', '.join(sorted(OUTCOMES))}")
    detail = c.text(data, "detail", max_len=MAX_DETAIL)
    c.raise_if_any()
    assert channel and user_id and outcome  # required above
    ctx = context(request)
    async with ctx.db.write() as conn:
        ticket = await queries.contact_ticket(conn, number, channel, user_id)
        if ticket is None:
            raise NotFound(f"service_request_id {number} not found")
        update_id = await history.record(
            conn,
            ticket_id=ticket["id"],
            at=ctx.clock.now(),
            kind=KIND,
            status=ticket["status"],
            actor=actor(principal),
            note=detail,
            public=False,
            data={
                "internal": True,
                "event_id": event_id,
                "event_type": event_type,
                "channel": channel,
                "outcome": outcome,
            },
        )
    return ok({"update_id": str(update_id)}, status=201)
