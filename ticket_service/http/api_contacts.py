"""Contacts (reporter identities): record one, verify its phone or e-mail (which links it to the
citizen's other identities), and list the contact's tickets across those identities."""

from __future__ import annotations

from typing import Any

from aiohttp import web
from sqlalchemy.ext.asyncio import AsyncConnection

from ticket_service.config import Role
from ticket_service.domain import queries
from ticket_service.domain.reporters import (
    Contact,
    identities,
    linked_reporter_ids,
    upsert_reporter,
    verify_contact,
)
from ticket_service.domain.statuses import Kind
from ticket_service.domain.validation import Collector, identity_from
from ticket_service.http.api_v1 import citizen_view, contact_query, context, json_object, ok
from ticket_service.http.auth import authenticate

routes = web.RouteTableDef()

MAX_LIST = 100
DEFAULT_LIST = 20


async def _identity(conn: AsyncConnection, contact: Contact, reporter_id: int) -> dict[str, Any]:
    """The identity and the others it is linked to; internal ids never leave the service."""
    others = await linked_reporter_ids(conn, reporter_id) - {reporter_id}
    return {
        "channel": contact.channel,
        "channel_user_id": contact.channel_user_id,
        "linked_identities": [
            {"channel": channel, "channel_user_id": user_id}
            for channel, user_id in await identities(conn, others)
        ],
    }


@routes.post("/api/v1/contacts")
async def upsert_contact(request: web.Request) -> web.Response:
    """Create or update an identity (a known field is never blanked by a later call)."""
    authenticate(request, Role.HUB, Role.AGENT)
    contact = identity_from(await json_object(request))
    ctx = context(request)
    async with ctx.db.write() as conn:
        reporter_id = await upsert_reporter(conn, contact, ctx.clock.now())
        return ok(await _identity(conn, contact, reporter_id))


@routes.post("/api/v1/contacts/verify")
async def verify(request: web.Request) -> web.Response:
    """The channel (or a one-time code) proved this identity's phone and/or e-mail: identities
    sharing a verified phone or e-mail become one citizen for "my reports"."""
    authenticate(request, Role.HUB, Role.AGENT)
    contact = identity_from(await json_object(request), verification=True)
    ctx = context(request)
    async with ctx.db.write() as conn:
        reporter_id = await verify_contact(
            conn,
            contact.channel,
            contact.channel_user_id,
            ctx.clock.now(),
            phone=contact.phone,
            email=contact.email,
        )
        return ok(await _identity(conn, contact, reporter_id))


@routes.get("/api/v1/contacts/tickets")
async def contact_tickets(request: web.Request) -> web.Response:
    """The tickets this contact filed or follows, on any linked identity, newest first."""
    principal = authenticate(request, Role.HUB, Role.AGENT)
    channel, user_id = contact_query(request)
    c = Collector()
    limit = c.integer(request.query, "limit", 1, MAX_LIST) or DEFAULT_LIST
    c.raise_if_any()
    async with context(request).db.read() as conn:
        rows = await queries.contact_tickets(conn, channel, user_id, limit=limit)
    if principal.role == Role.AGENT:  # agents never see complaints (they may be about them)
        rows = [row for row in rows if row["kind"] != Kind.COMPLAINT]
    return ok({"tickets": [citizen_view(row, request) for row in rows]})
