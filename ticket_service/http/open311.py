"""Open311 GeoReport v2 under ``/open311/v2/``, JSON or XML by suffix, plus mySociety's
``servicerequestupdates`` extension.

Contract notes (beyond the spec):

* Names, descriptions and groups follow ``Accept-Language`` (q-values honoured; the first of
  ar/en wins, else ``default_language``); ``Content-Language`` says which was used.
* ``POST requests`` answers 201 for a new ticket and 200 when the report joined an open
  duplicate (its number plus a ``service_notice``) or replayed an ``Idempotency-Key``.
* ``GET requests`` dates: neither given → the last 90 days; only one given → 90 days from/to
  it; a range longer than 90 days or ending before it starts → 400. ``page``/``page_size``
  paginate (1-based). Unknown ``service_code`` values simply match nothing.
* Only reports are public: complaints, inquiries and callbacks are 404 on every route here.
* A status move the ticket's state does not allow is 400 here (the spec knows no 409).
  ``OPEN`` on a closed ticket reopens it, as ``REOPEN`` does.
"""

from __future__ import annotations

import re
from collections.abc import Awaitable, Callable, Mapping
from datetime import UTC, datetime, timedelta
from typing import Any

from aiohttp import web
from multidict import MultiDict, MultiDictProxy
from sqlalchemy import select
from sqlalchemy.ext.asyncio import AsyncConnection

from ticket_service.config import LANGUAGES, Attribute, Role, Service, Settings
from ticket_service.context import Context
from ticket_service.db.schema import ticket_updates, tickets
from ticket_service.domain import queries
from ticket_service.domain import tickets as ticket_store
from ticket_service.domain.statuses import EXTENDED_INCOMING, Kind, Status
from ticket_service.domain.validation import (
    MAX_DESCRIPTION,
    Collector,
    contact_from,
    new_ticket_from,
    parse_datetime,
)
from ticket_service.domain.views import iso, public_request
from ticket_service.errors import Conflict, FieldError, InvalidInput, NotFound
from ticket_service.http.auth import authenticate
from ticket_service.http.keys import CONTEXT, MESSAGES
from ticket_service.http.render import respond

routes = web.RouteTableDef()

BASE = "/open311/v2"
FMT = "{fmt:(json|xml)}"
CHANNEL = "open311"
MAX_WINDOW = timedelta(days=90)
EARLIEST, LATEST = datetime(1970, 1, 1, tzinfo=UTC), datetime(9000, 1, 1, tzinfo=UTC)
MAX_PAGE = 1_000_000
MAX_IDEMPOTENCY_KEY = 128
ATTRIBUTE_FIELD = re.compile(r"^attribute\[([^\[\]]+)\](\[\])?$")
# NUL and lone surrogates: no database stores them and no XML carries them.
UNSTORABLE = re.compile("[\x00\ud800-\udfff]")
POSTERS = (Role.HUB, Role.AGENT)  # admin is always allowed
UPDATERS = (Role.AGENT, Role.SUPERVISOR)
Params = Mapping[str, str]
Handler = Callable[[web.Request], Awaitable[web.StreamResponse]]


# --- request helpers ------------------------------------------------------------------------


def choose_language(header: str | None, default: str) -> str:
    """The first of ar/en in ``Accept-Language`` by preference (q-values honoured), else
    ``default``. Malformed items are ignored; ``q=0`` means "not this one"."""
    ranked: list[tuple[float, int, str]] = []
    for position, item in enumerate((header or "").split(",")):
        tag, *params = (part.strip() for part in item.split(";"))
        quality = 1.0
        for param in params:
            name, _, value = param.partition("=")
            if name.strip().lower() == "q":
                try:
                    quality = float(value)
                except ValueError:
                    quality = -1.0
        primary = tag.split("-", 1)[0].lower()
        if primary in LANGUAGES and 0 < quality <= 1:
            ranked.append((-quality, position, primary))
    return min(ranked)[2] if ranked else default


def _ctx(request: web.Request) -> Context:
    return request.app[CONTEXT]


def _language(request: web.Request) -> str:
    default = _ctx(request).settings.default_language
    return choose_language(request.headers.get("Accept-Language"), default)


def _checked(params: MultiDict[str]) -> MultiDictProxy[str]:
    bad = sorted({key[:64] for key, value in params.items() if UNSTORABLE.search(key + value)})
    if bad:
        message = "contains characters that are not allowed"
        raise InvalidInput("invalid characters", [FieldError(key, message) for key in bad])
    return MultiDictProxy(params)


def _query(request: web.Request) -> MultiDictProxy[str]:
    return _checked(MultiDict(request.query))


async def _form(request: web.Request) -> MultiDictProxy[str]:
    """The form fields (url-encoded or multipart). File uploads are refused: give ``media_url``."""
    try:
        raw = await request.post()
    except ValueError as exc:  # undecodable body or broken multipart framing
        detail = [FieldError("body", str(exc)[:200])]
        raise InvalidInput("the body is not a valid form", detail) from exc
    fields: MultiDict[str] = MultiDict()
    for key, value in raw.items():
        if not isinstance(value, str):
            detail = [FieldError(key[:64], "send a public media_url instead")]
            raise InvalidInput("file uploads are not accepted", detail)
        fields.add(key, value)
    return _checked(fields)


def _check_jurisdiction(settings: Settings, params: Params) -> None:
    given = (params.get("jurisdiction_id") or "").strip()
    if given and given != settings.jurisdiction_id:
        raise NotFound(f"jurisdiction_id {given[:100]} not found")


def _reply(
    request: web.Request,
    root: str,
    body: list[Any] | dict[str, Any],
    *,
    language: str,
    status: int = 200,
) -> web.Response:
    response = respond(request.match_info["fmt"], root, body, status=status)
    response.headers["Content-Language"] = language
    return response


def open311_errors(handler: Handler) -> Handler:
    """The spec knows 400/403/404 only: a move the ticket's state forbids (409) is a 400 here."""

    async def wrapped(request: web.Request) -> web.StreamResponse:
        try:
            return await handler(request)
        except Conflict as exc:
            errors = exc.errors or [FieldError("status", exc.message)]
            raise InvalidInput(exc.message, errors) from exc

    return wrapped


# --- services ---------------------------------------------------------------------------------


def _service_view(service: Service, language: str) -> dict[str, Any]:
    return {
        "service_code": service.code,
        "service_name": service.name.get(language),
        "description": service.description.get(language),
        "metadata": bool(service.attributes),
        "type": "realtime",
        "keywords": ", ".join(service.keywords.get(language, ())),
        "group": service.group.get(language),
    }


def _attribute_view(attribute: Attribute, language: str) -> dict[str, Any]:
    described = attribute.datatype_description
    return {
        "variable": attribute.variable,
        "code": attribute.code,
        "datatype": attribute.datatype,
        "required": attribute.required,
        "datatype_description": described.get(language) if described else None,
        "order": attribute.order,
        "description": attribute.description.get(language),
        "values": [{"key": v.key, "name": v.name.get(language)} for v in attribute.values],
    }


@routes.get(f"{BASE}/services.{FMT}")
@open311_errors
async def service_list(request: web.Request) -> web.StreamResponse:
    settings = _ctx(request).settings
    _check_jurisdiction(settings, _query(request))
    language = _language(request)
    body = [_service_view(s, language) for s in settings.services.values()]
    return _reply(request, "services", body, language=language)


@routes.get(f"{BASE}/services/{{service_code}}.{FMT}")
@open311_errors
async def service_definition(request: web.Request) -> web.StreamResponse:
    settings = _ctx(request).settings
    _check_jurisdiction(settings, _query(request))
    code = request.match_info["service_code"]
    service = settings.service(code)
    if service is None:
        raise NotFound(f"service_code {code[:64]} not found")
    language = _language(request)
    body = {
        "service_code": service.code,
        "attributes": [_attribute_view(a, language) for a in service.attributes],
    }
    return _reply(request, "service_definition", body, language=language)


# --- POST requests -----------------------------------------------------------------------------


def _attributes(form: Params, service: Service | None) -> dict[str, Any]:
    """``attribute[CODE]=v`` and ``attribute[CODE][]=v`` (repeatable, for multivaluelist)."""
    given: dict[str, list[str]] = {}
    for key, value in form.items():
        match = ATTRIBUTE_FIELD.match(key)
        if match:
            given.setdefault(match.group(1), []).append(value)
    attributes = service.attributes if service else ()
    multi = {a.code for a in attributes if a.datatype == "multivaluelist"}
    out: dict[str, Any] = {}
    c = Collector()
    for code, values in given.items():
        if code in multi:
            out[code] = values
        elif len(values) == 1:
            out[code] = values[0]
        else:
            c.add(f"attribute[{code}]", "takes a single value")
    c.raise_if_any()
    return out


def _contact(c: Collector, form: Params) -> dict[str, Any] | None:
    """The reporter: ``account_id`` (else ``device_id``, else phone or e-mail) identifies them."""
    names = [c.text(form, field, max_len=99) for field in ("first_name", "last_name")]
    ids = [c.text(form, field) for field in ("account_id", "device_id")]
    contact = {
        "name": " ".join(n for n in names if n) or None,
        "phone": form.get("phone"),
        "email": form.get("email"),
        "channel_user_id": ids[0] or ids[1],
    }
    contact = {k: v for k, v in contact.items() if v}
    contact_from(c, contact, CHANNEL, prefix="")  # the spec's field names in errors
    return contact or None


def _idempotency_key(request: web.Request) -> str | None:
    key = request.headers.get("Idempotency-Key", "").strip()
    if len(key) > MAX_IDEMPOTENCY_KEY:
        raise InvalidInput(
            "Idempotency-Key too long",
            [FieldError("Idempotency-Key", f"at most {MAX_IDEMPOTENCY_KEY} characters")],
        )
    return key or None


@routes.post(f"{BASE}/requests.{FMT}")
@open311_errors
async def post_request(request: web.Request) -> web.StreamResponse:
    ctx = _ctx(request)
    form = await _form(request)
    _check_jurisdiction(ctx.settings, form)
    authenticate(request, *POSTERS, form_key=form.get("api_key"))
    idempotency_key = _idempotency_key(request)
    language = _language(request)
    c = Collector()
    contact = _contact(c, form)
    c.raise_if_any()
    fields = ("service_code", "description", "lat", "long", "address_string", "address_id")
    data: dict[str, Any] = {field: form.get(field) for field in fields}
    if "Accept-Language" in request.headers:
        data["language"] = language
    new = new_ticket_from(
        ctx.settings,
        data,
        kind=Kind.REPORT,
        channel=CHANNEL,
        attributes=_attributes(form, ctx.settings.service(form.get("service_code", "").strip())),
        media_urls=[u for u in form.getall("media_url", []) if u],
        contact=contact,
        require_location=True,
    )
    created = await ticket_store.create(ctx, new, idempotency_key)
    number = created.ticket["number"]
    notice = (
        request.app[MESSAGES].text("open311_duplicate_notice", language, service_request_id=number)
        if created.duplicate
        else None
    )
    account_id = (form.get("account_id") or "").strip() or None
    body = [{"service_request_id": number, "service_notice": notice, "account_id": account_id}]
    status = 200 if created.duplicate or created.replayed else 201
    return _reply(request, "service_requests", body, language=language, status=status)


# --- GET requests --------------------------------------------------------------------------


def _csv(raw: str | None) -> tuple[str, ...]:
    return tuple(dict.fromkeys(p.strip() for p in (raw or "").split(",") if p.strip()))


def _date(c: Collector, params: Params, field: str) -> datetime | None:
    raw = (params.get(field) or "").strip()
    if not raw:
        return None
    try:
        value = parse_datetime(raw)
    except ValueError:
        c.add(field, "must be a W3C date-time with a timezone, e.g. 2026-03-01T00:00:00Z")
        return None
    if not EARLIEST <= value <= LATEST:
        c.add(field, f"must be between {EARLIEST.year} and {LATEST.year}")
        return None
    return value


def _window(c: Collector, params: Params, now: datetime) -> tuple[datetime, datetime] | None:
    """(start, end) of at most 90 days; the last 90 days when neither is given."""
    start, end = _date(c, params, "start_date"), _date(c, params, "end_date")
    if any(e.field in ("start_date", "end_date") for e in c.errors):
        return None
    if start is None and end is None:
        return now - MAX_WINDOW, now
    if start is None:
        assert end is not None
        return end - MAX_WINDOW, end
    if end is None:
        return start, start + MAX_WINDOW
    if end < start:
        c.add("end_date", "must not be before start_date")
    elif end - start > MAX_WINDOW:
        c.add("end_date", "the range from start_date may span at most 90 days")
    return start, end


def _statuses(c: Collector, params: Params) -> tuple[str, ...]:
    values = tuple(s.lower() for s in _csv(params.get("status")))
    if any(s not in ("open", "closed") for s in values):
        c.add("status", "must be open, closed or both (comma-separated)")
        return ()
    return values


def _request_filter(settings: Settings, params: Params, now: datetime) -> queries.RequestFilter:
    c = Collector()
    page = c.integer(params, "page", 1, MAX_PAGE) or 1
    size = c.integer(params, "page_size", 1, settings.page_size_max) or settings.page_size_default
    ids = _csv(params.get("service_request_id"))
    if ids:  # the id list overrides every other filter
        c.raise_if_any()
        return queries.RequestFilter(ids=ids, page=page, page_size=size)
    statuses = _statuses(c, params)
    window = _window(c, params, now)
    c.raise_if_any()
    assert window is not None
    return queries.RequestFilter(
        service_codes=_csv(params.get("service_code")),
        statuses=statuses,
        start=window[0],
        end=window[1],
        page=page,
        page_size=size,
    )


@routes.get(f"{BASE}/requests.{FMT}")
@open311_errors
async def get_requests(request: web.Request) -> web.StreamResponse:
    ctx = _ctx(request)
    params = _query(request)
    _check_jurisdiction(ctx.settings, params)
    found = _request_filter(ctx.settings, params, ctx.clock.now())
    language = _language(request)
    async with ctx.db.read() as conn:
        rows = await queries.public_requests(conn, found)
    body = [public_request(row, ctx.settings, language) for row in rows]
    return _reply(request, "service_requests", body, language=language)


@routes.get(f"{BASE}/requests/{{service_request_id}}.{FMT}")
@open311_errors
async def get_request(request: web.Request) -> web.StreamResponse:
    ctx = _ctx(request)
    _check_jurisdiction(ctx.settings, _query(request))
    number = request.match_info["service_request_id"]
    language = _language(request)
    async with ctx.db.read() as conn:
        row = await queries.public_request(conn, number)
    if row is None:
        raise NotFound(f"service_request_id {number[:32]} not found")
    body = [public_request(row, ctx.settings, language)]
    return _reply(request, "service_requests", body, language=language)


@routes.get(f"{BASE}/tokens/{{token}}.{FMT}")
@open311_errors
async def get_token(request: web.Request) -> web.StreamResponse:
    ctx = _ctx(request)
    _check_jurisdiction(ctx.settings, _query(request))
    token = request.match_info["token"]
    async with ctx.db.read() as conn:
        query = select(tickets.c.number).where(
            tickets.c.token == token, tickets.c.kind == Kind.REPORT
        )
        number = (await conn.execute(query)).scalar_one_or_none()
    if number is None:
        raise NotFound(f"token {token[:64]} not found")
    return _reply(
        request,
        "service_requests",
        [{"service_request_id": number, "token": token}],
        language=_language(request),
    )


# --- mySociety servicerequestupdates ------------------------------------------------------------


def _update_view(row: Mapping[str, Any]) -> dict[str, Any]:
    data = row["data"] or {}
    return {
        "update_id": str(row["id"]),
        "service_request_id": row["number"],
        "status": row["status"],
        "updated_datetime": iso(row["at"]),
        "description": row["note"] or "",
        "media_url": data.get("media_url") or None,
    }


@routes.get(f"{BASE}/servicerequestupdates.{FMT}")
@open311_errors
async def get_updates(request: web.Request) -> web.StreamResponse:
    ctx = _ctx(request)
    params = _query(request)
    _check_jurisdiction(ctx.settings, params)
    c = Collector()
    window = _window(c, params, ctx.clock.now())
    c.raise_if_any()
    assert window is not None
    async with ctx.db.read() as conn:
        rows = await queries.public_updates(conn, window[0], window[1], ctx.settings.page_size_max)
    body = [_update_view(row) for row in rows]
    return _reply(request, "service_request_updates", body, language=_language(request))


async def _applied(conn: AsyncConnection, ticket_id: int, external_id: str) -> str | None:
    """Our update id for the client's ``update_id`` when it was applied to this ticket before."""
    rows = await conn.execute(
        select(ticket_updates.c.id, ticket_updates.c.data).where(
            ticket_updates.c.ticket_id == ticket_id, ticket_updates.c.kind.in_(("status", "reopen"))
        )
    )
    for row in rows:
        if isinstance(row.data, dict) and row.data.get("external_update_id") == external_id:
            return str(row.id)
    return None


def _incoming_status(raw: str) -> str:
    if raw.strip().upper() not in EXTENDED_INCOMING:
        raise ValueError(raw)
    return raw.strip().upper()


@routes.post(f"{BASE}/servicerequestupdates.{FMT}")
@open311_errors
async def post_update(request: web.Request) -> web.StreamResponse:
    ctx = _ctx(request)
    form = await _form(request)
    _check_jurisdiction(ctx.settings, form)
    principal = authenticate(request, *UPDATERS, form_key=form.get("api_key"))
    c = Collector()
    number = c.text(form, "service_request_id", max_len=32, required=True)
    external_id = c.text(form, "update_id", max_len=128, required=True)
    status = c.choice(form, "status", _incoming_status, ", ".join(EXTENDED_INCOMING), required=True)
    when = _date(c, form, "updated_datetime")
    if when is None and not any(e.field == "updated_datetime" for e in c.errors):
        c.add("updated_datetime", "required")
    description = c.text(form, "description", max_len=MAX_DESCRIPTION, required=True)
    given_media = [raw for raw in form.getall("media_url", []) if raw]
    media = [u for u in (c.url("media_url", raw) for raw in given_media) if u]
    c.raise_if_any()
    assert number and external_id and status and when
    async with ctx.db.read() as conn:
        ticket = await ticket_store.find(conn, number)
        if ticket is None or ticket["kind"] != Kind.REPORT:
            raise NotFound(f"service_request_id {number} not found")
        done = await _applied(conn, ticket["id"], external_id)
    if done is None:
        target, resolution = EXTENDED_INCOMING[status]
        if target == Status.OPEN and ticket["status"] == Status.CLOSED:
            target = None  # OPEN on a closed ticket is a reopen
        data = {"external_update_id": external_id, "updated_datetime": iso(when)}
        if media:
            data["media_url"] = media[0]
        try:
            changed = await ticket_store.change_status(
                ctx,
                number,
                status=target,
                resolution=resolution,
                note=description,
                actor=f"open311:{principal.role}:{principal.key_id}",
                data=data,
            )
            done = str(changed["last_update_id"])
        except Conflict:
            async with ctx.db.read() as conn:  # a concurrent twin of this update got there first
                done = await _applied(conn, ticket["id"], external_id)
            if done is None:
                raise
    body = [{"update_id": done}]
    return _reply(request, "service_request_updates", body, language=_language(request))
