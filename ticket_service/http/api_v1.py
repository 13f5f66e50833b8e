"""The 940 extensions under ``/api/v1/``: JSON only, an API key with a role on every endpoint.

This module holds what every ``/api/v1`` module shares (body, path and query parsing, the
citizen-facing view) and the small endpoints: ratings and the escalation pass. Requests,
follow-ups and contacts live in ``api_requests``, ``api_followups`` and ``api_contacts``.
Errors are DomainErrors; the app's middleware renders them in Open311's error format.
"""

from __future__ import annotations

import json
from typing import Any

from aiohttp import web
from sqlalchemy.ext.asyncio import AsyncConnection

from ticket_service.config import LANGUAGES, Role
from ticket_service.context import Context
from ticket_service.domain import escalation, feedback, tickets
from ticket_service.domain.statuses import Kind
from ticket_service.domain.validation import Collector, rating_from
from ticket_service.domain.views import staff_ticket
from ticket_service.errors import FieldError, InvalidInput, NotFound
from ticket_service.http.auth import Principal, authenticate
from ticket_service.http.keys import CONTEXT
from ticket_service.http.render import respond

routes = web.RouteTableDef()

STAFF = (Role.AGENT, Role.SUPERVISOR, Role.SATISFACTION)
COMPLAINT_ROLES = (Role.SATISFACTION, Role.SUPERVISOR, Role.ADMIN)
# Fields of the staff view that can identify the citizen (a conversation id often is a phone).
PERSONAL_FIELDS = ("conversation_id",)
MAX_IDEMPOTENCY_KEY = 128
MAX_REFERENCE_DIGITS = 16


def context(request: web.Request) -> Context:
    return request.app[CONTEXT]


def _reject_constant(name: str) -> Any:
    raise ValueError(f"{name} is not a number")


def _clean_text(value: Any) -> bool:
    """No NUL characters and no lone surrogates in any string, however deeply nested."""
    stack = [value]
    while stack:
        item = stack.pop()
        if isinstance(item, str):
            if "\x00" in item or (not item.isascii() and not _utf8(item)):
                return False
        elif isinstance(item, dict):
            stack.extend(item)
            stack.extend(item.values())
        elif isinstance(item, list):
            stack.extend(item)
    return True


def _utf8(text: str) -> bool:
    try:
        text.encode("utf-8")
    except UnicodeEncodeError:
        return False
    return True


async def json_object(request: web.Request) -> dict[str, Any]:
    """The request body as a JSON object; an empty body is ``{}``. Anything else → 400."""
    raw = await request.read()
    if not raw.strip():
        return {}
    try:
        data = json.loads(raw.decode("utf-8"), parse_constant=_reject_constant)
    except (ValueError, RecursionError) as exc:
        raise InvalidInput("the body must be a JSON object in UTF-8") from exc
    if not isinstance(data, dict):
        raise InvalidInput("the body must be a JSON object")
    if not _clean_text(data):
        raise InvalidInput("text must not contain NUL characters or unpaired surrogates")
    return data


def idempotency_key(request: web.Request) -> str | None:
    key = request.headers.get("Idempotency-Key", "").strip()
    if not key:
        return None
    if len(key) > MAX_IDEMPOTENCY_KEY or not key.isprintable():
        raise InvalidInput(
            "bad Idempotency-Key",
            [FieldError("Idempotency-Key", f"at most {MAX_IDEMPOTENCY_KEY} printable characters")],
        )
    return key


def _digits(request: web.Request, name: str, what: str) -> str:
    value = request.match_info[name]
    if not (value.isascii() and value.isdigit() and len(value) <= MAX_REFERENCE_DIGITS):
        raise NotFound(f"{what} {value[:MAX_REFERENCE_DIGITS]} not found")
    return value


def ticket_number(request: web.Request) -> str:
    return _digits(request, "number", "service_request_id")


def followup_reference(request: web.Request) -> str:
    return _digits(request, "reference", "follow-up")


def contact_query(request: web.Request) -> tuple[str, str]:
    """``?channel=&channel_user_id=``: the contact the hub is speaking for. Missing → 400."""
    c = Collector()
    channel = c.text(request.query, "channel", max_len=32, required=True)
    user_id = c.text(request.query, "channel_user_id", required=True)
    c.raise_if_any("channel and channel_user_id name the contact")
    assert channel is not None and user_id is not None
    return channel, user_id


def page_query(request: web.Request) -> tuple[int, int]:
    """``page`` (from 1) and ``page_size`` (up to the configured maximum)."""
    s = context(request).settings
    c = Collector()
    page = c.integer(request.query, "page", 1, 1_000_000) or 1
    size = c.integer(request.query, "page_size", 1, s.page_size_max) or s.page_size_default
    c.raise_if_any()
    return page, size


def language(request: web.Request) -> str:
    for part in request.headers.get("Accept-Language", "").split(","):
        tag = part.split(";", 1)[0].strip().lower()[:2]
        if tag in LANGUAGES:
            return tag
    return context(request).settings.default_language


def actor(principal: Principal) -> str:
    """Who did it, for the ticket history: the role and the key's fingerprint."""
    return f"{principal.role}:{principal.key_id}"


def ok(body: dict[str, Any], *, status: int = 200) -> web.Response:
    return respond("json", "response", body, status=status)


async def staff_visible_ticket(
    conn: AsyncConnection, number: str, principal: Principal
) -> dict[str, Any]:
    """The ticket, unless it is a complaint and the role may not see complaints: then "not
    found", so its existence is not revealed either."""
    ticket = await tickets.get(conn, number)
    if ticket["kind"] == Kind.COMPLAINT and principal.role not in COMPLAINT_ROLES:
        raise NotFound(f"service_request_id {number} not found")
    return ticket


def citizen_view(ticket: dict[str, Any], request: web.Request) -> dict[str, Any]:
    """The staff view without anything that identifies the citizen (for the hub and lists)."""
    view = staff_ticket(ticket, context(request).settings, language(request))
    for field in PERSONAL_FIELDS:
        view.pop(field, None)
    return view


@routes.post("/api/v1/ratings")
async def create_rating(request: web.Request) -> web.Response:
    """An agent-service or answer rating 1–5 for a conversation (optionally a ticket)."""
    authenticate(request, Role.HUB, Role.AGENT)
    rating = rating_from(await json_object(request))
    key = idempotency_key(request)
    return ok(await feedback.add_rating(context(request), rating, key), status=201)


@routes.post("/api/v1/escalations/run")
async def run_escalations(request: web.Request) -> web.Response:
    """One escalation pass now (an ops tool; the background scheduler does this normally)."""
    authenticate(request, Role.ADMIN)
    return ok({"steps": await escalation.run_due(context(request))})
