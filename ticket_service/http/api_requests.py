"""``/api/v1/requests``: file a request, read one (staff, or the hub for the contact who filed or
follows it), change its status, read its history, answer its closure survey."""

from __future__ import annotations

from typing import Any

from aiohttp import web

from ticket_service.config import Role
from ticket_service.domain import feedback, history, queries, tickets
from ticket_service.domain.reporters import filer_id
from ticket_service.domain.statuses import Kind
from ticket_service.domain.validation import (
    api_ticket_from,
    citizen_reopen_from,
    status_change_from,
    survey_from,
)
from ticket_service.domain.views import staff_ticket
from ticket_service.errors import Forbidden, NotFound
from ticket_service.http.api_v1 import (
    STAFF,
    actor,
    citizen_view,
    contact_query,
    context,
    idempotency_key,
    json_object,
    language,
    ok,
    staff_visible_ticket,
    ticket_number,
)
from ticket_service.http.auth import Principal, authenticate

routes = web.RouteTableDef()

# History rows a citizen may see: the ticket's own state changes, never internal notes,
# escalations, follow-up handling or other citizens' duplicate reports.
CITIZEN_HISTORY_KINDS = frozenset({"created", "status", "reopen"})
REPORTER_FIELDS = (
    "channel",
    "channel_user_id",
    "name",
    "phone",
    "email",
    "phone_verified",
    "email_verified",
    "language",
)


def _staff_view(ticket: dict[str, Any], request: web.Request) -> dict[str, Any]:
    return staff_ticket(ticket, context(request).settings, language(request))


def _citizen_history(ticket: dict[str, Any], rows: list[dict[str, Any]]) -> list[dict[str, Any]]:
    # Reports: internal notes are the non-public rows. Other kinds never enter the public feed,
    # so their internal notes carry {"internal": true} (see _change_status).
    return [
        {key: row[key] for key in ("update_id", "at", "kind", "status", "note")}
        for row in rows
        if row["kind"] in CITIZEN_HISTORY_KINDS
        and not (isinstance(row["data"], dict) and row["data"].get("internal"))
        and (row["public"] or ticket["kind"] != Kind.REPORT)
    ]


@routes.post("/api/v1/requests")
async def create_request(request: web.Request) -> web.Response:
    """A report, complaint, inquiry or callback. 201 when new; 200 with ``duplicate`` (linked to
    an open report nearby, the reporter now follows it) or ``replayed`` (same Idempotency-Key)."""
    principal = authenticate(request, Role.HUB, Role.AGENT)
    ctx = context(request)
    key = idempotency_key(request)
    new = api_ticket_from(ctx.settings, await json_object(request))
    created = await tickets.create(ctx, new, key)
    # The hub may be handed someone else's ticket (a duplicate): no personal data for it.
    view = citizen_view if principal.role == Role.HUB else _staff_view
    body = {
        "ticket": view(created.ticket, request),
        "duplicate": created.duplicate,
        "replayed": created.replayed,
    }
    return ok(body, status=200 if created.duplicate or created.replayed else 201)


async def _hub_request(request: web.Request, number: str) -> web.Response:
    channel, user_id = contact_query(request)
    async with context(request).db.read() as conn:
        ticket = await queries.contact_ticket(conn, number, channel, user_id)
        if ticket is None:
            raise NotFound(f"service_request_id {number} not found")
        rows = await history.history(conn, ticket["id"])
        answered = await feedback.survey_answered(conn, ticket["id"])
        filed = await filer_id(conn, ticket, channel, user_id) is not None
    # survey_answered: the hub's survey reminder goes only to an unanswered closure survey;
    # filed_by_contact: false for a follower (the closure survey is the reporter's alone).
    view = {**citizen_view(ticket, request), "survey_answered": answered,
            "filed_by_contact": filed}  # fmt: skip
    return ok({"ticket": view, "history": _citizen_history(ticket, rows)})


@routes.get("/api/v1/requests/{number}")
async def get_request(request: web.Request) -> web.Response:
    """Staff: the ticket, its full history, the reporter's contact data and the follower count.
    The hub (``?channel=&channel_user_id=``): only the contact's own ticket, without personal
    data or internal rows, plus ``survey_answered`` and ``filed_by_contact`` (false: the contact
    follows it); anyone else's → 404."""
    principal = authenticate(request, Role.HUB, *STAFF)
    number = ticket_number(request)
    if principal.role == Role.HUB:
        return await _hub_request(request, number)
    async with context(request).db.read() as conn:
        ticket = await staff_visible_ticket(conn, number, principal)
        rows = await history.history(conn, ticket["id"])
        reporter = await queries.reporter_of(conn, ticket["reporter_id"])
        followers = await queries.follower_count(conn, ticket["id"])
    return ok(
        {
            "ticket": _staff_view(ticket, request),
            "history": rows,
            "reporter": {f: reporter[f] for f in REPORTER_FIELDS} if reporter else None,
            "followers": followers,
        }
    )


@routes.get("/api/v1/requests/{number}/history")
async def get_history(request: web.Request) -> web.Response:
    principal = authenticate(request, *STAFF)
    number = ticket_number(request)
    async with context(request).db.read() as conn:
        ticket = await staff_visible_ticket(conn, number, principal)
        rows = await history.history(conn, ticket["id"])
    return ok({"service_request_id": number, "history": rows})


async def _change_status(
    request: web.Request, principal: Principal, *, reopen: bool
) -> web.Response:
    number = ticket_number(request)
    change = status_change_from(await json_object(request), reopen=reopen)
    ctx = context(request)
    async with ctx.db.read() as conn:
        current = await staff_visible_ticket(conn, number, principal)
    if principal.role == Role.SATISFACTION and current["kind"] != Kind.COMPLAINT:
        raise Forbidden("the satisfaction role changes the status of complaints only")
    ticket = await tickets.change_status(
        ctx,
        number,
        status=change.status,
        resolution=change.resolution,
        note=change.note,
        actor=actor(principal),
        internal=change.internal,
        data={"internal": True} if change.internal else None,
    )
    return ok({"ticket": _staff_view(ticket, request), "update_id": ticket["last_update_id"]})


@routes.post("/api/v1/requests/{number}/status")
async def change_status(request: web.Request) -> web.Response:
    """open → in_progress → closed (with a resolution), with an optional (internal) staff note.
    A move the ticket's state does not allow → 409."""
    principal = authenticate(request, *STAFF)
    return await _change_status(request, principal, reopen=False)


@routes.post("/api/v1/requests/{number}/reopen")
async def reopen(request: web.Request) -> web.Response:
    """Staff reopen a closed ticket, with an optional note (as for ``/status``). The hub reopens
    a closed report for the citizen who filed it ("still not fixed"): the body names them
    (``channel``, ``channel_user_id``) with an optional ``note``, their words, kept for staff
    only (history ``data.citizen_note``); anyone else → 403, a ticket not closed → 409."""
    principal = authenticate(request, Role.HUB, *STAFF)
    if principal.role != Role.HUB:
        return await _change_status(request, principal, reopen=True)
    number = ticket_number(request)
    who = citizen_reopen_from(await json_object(request))
    ticket = await tickets.change_status(
        context(request),
        number,
        status=None,
        actor=who.channel,
        data={"citizen_note": who.note} if who.note else None,
        citizen=(who.channel, who.channel_user_id),
    )
    return ok({"ticket": citizen_view(ticket, request), "update_id": ticket["last_update_id"]})


@routes.post("/api/v1/requests/{number}/survey")
async def answer_survey(request: web.Request) -> web.Response:
    """The reporter's one closure survey: quality and speed 1–5, optional comment. Before
    closure or a second time → 409; anyone but the reporter → 403."""
    authenticate(request, Role.HUB)
    number = ticket_number(request)
    answer = survey_from(await json_object(request), number)
    return ok(await feedback.submit_survey(context(request), answer), status=201)
