"""Contract: every response of every Open311 endpoint, in JSON and in XML, errors included,
matches the GeoReport v2 schemas of ``open311_schemas`` (XML converted mechanically)."""

from __future__ import annotations

from dataclasses import dataclass, field
from typing import Any

import pytest
from aiohttp import web
from aiohttp.test_utils import TestClient
from jsonschema import ValidationError  # type: ignore[import-untyped]

from ticket_service.context import Context
from ticket_service.domain import tickets

from .conftest import KEYS
from .open311_schemas import (
    ERRORS,
    FORMATS,
    ONE_REQUEST,
    POST_REQUEST,
    POST_UPDATE,
    REQUESTS,
    SERVICE_DEFINITION,
    SERVICES,
    TOKENS,
    UPDATES,
    call,
    parse_body,
)

Client = TestClient[web.Request, web.Application]
JURISDICTION = "easternprovince.example.gov.sa"
REPORT = {
    "api_key": KEYS["hub"],
    "service_code": "pothole",
    "lat": "26.4300",
    "long": "50.1000",
    "description": "حفرة كبيرة أمام المسجد",
    "attribute[severity]": "dangerous",
    "media_url": "https://example.org/photo.jpg",
}


@dataclass(frozen=True)
class Case:
    method: str
    resource: str  # {number} and {token} are filled in from the seeded report
    schema: dict[str, Any]
    status: int
    params: dict[str, str] = field(default_factory=dict)
    data: dict[str, str] | None = None
    headers: dict[str, str] = field(default_factory=dict)


def _update(**fields: str) -> dict[str, str]:
    return {
        "api_key": KEYS["agent"],
        "service_request_id": "{number}",
        "update_id": "ext-1",
        "status": "IN_PROGRESS",
        "updated_datetime": "2026-03-01T10:00:00+03:00",
        "description": "الفرقة في الطريق",
        **fields,
    }


CASES: dict[str, Case] = {
    # services
    "services": Case("GET", "services", SERVICES, 200),
    "services in jurisdiction": Case(
        "GET", "services", SERVICES, 200, {"jurisdiction_id": JURISDICTION}
    ),
    "services, other jurisdiction": Case(
        "GET", "services", ERRORS, 404, {"jurisdiction_id": "x.org"}
    ),
    "definition": Case("GET", "services/pothole", SERVICE_DEFINITION, 200),
    "definition, multivaluelist": Case("GET", "services/waste", SERVICE_DEFINITION, 200),
    "definition, unknown": Case("GET", "services/nope", ERRORS, 404),
    "definition, other jurisdiction": Case(
        "GET", "services/pothole", ERRORS, 404, {"jurisdiction_id": "x.org"}
    ),
    # POST requests
    "post": Case("POST", "requests", POST_REQUEST, 201, data={**REPORT, "lat": "26.3000"}),
    "post, duplicate": Case("POST", "requests", POST_REQUEST, 200, data=REPORT),
    "post, address only": Case(
        "POST",
        "requests",
        POST_REQUEST,
        201,
        data={
            "api_key": KEYS["agent"],
            "service_code": "waste",
            "address_string": "الخبر، حي العليا",
            "attribute[waste_type][]": "household",
            "account_id": "acc-1",
        },
    ),
    "post, no api_key": Case("POST", "requests", ERRORS, 403, data={**REPORT, "api_key": ""}),
    "post, bad api_key": Case("POST", "requests", ERRORS, 403, data={**REPORT, "api_key": "nope"}),
    "post, role not allowed": Case(
        "POST", "requests", ERRORS, 403, data={**REPORT, "api_key": KEYS["satisfaction"]}
    ),
    "post, lat 91": Case("POST", "requests", ERRORS, 400, data={**REPORT, "lat": "91"}),
    "post, no location": Case(
        "POST", "requests", ERRORS, 400, data={"api_key": KEYS["hub"], "service_code": "pothole"}
    ),
    "post, no service_code": Case(
        "POST", "requests", ERRORS, 400, data={**REPORT, "service_code": ""}
    ),
    "post, unknown service": Case(
        "POST", "requests", ERRORS, 404, data={**REPORT, "service_code": "x"}
    ),
    "post, long description": Case(
        "POST", "requests", ERRORS, 400, data={**REPORT, "description": "ب" * 4001}
    ),
    "post, bad attribute": Case(
        "POST", "requests", ERRORS, 400, data={**REPORT, "attribute[severity]": "apocalyptic"}
    ),
    "post, other jurisdiction": Case(
        "POST", "requests", ERRORS, 404, data={**REPORT, "jurisdiction_id": "x.org"}
    ),
    "post, body too large": Case(
        "POST", "requests", ERRORS, 413, data={**REPORT, "description": "x" * 300_000}
    ),
    # GET requests
    "requests": Case("GET", "requests", REQUESTS, 200),
    "requests, every filter": Case(
        "GET",
        "requests",
        REQUESTS,
        200,
        {
            "service_code": "pothole,waste",
            "status": "open,closed",
            "page": "1",
            "page_size": "5",
            "start_date": "2026-02-01T00:00:00Z",
            "end_date": "2026-03-02T00:00:00+03:00",
            "jurisdiction_id": JURISDICTION,
        },
    ),
    "requests, by id": Case("GET", "requests", REQUESTS, 200, {"service_request_id": "{number}"}),
    "requests, bad date": Case("GET", "requests", ERRORS, 400, {"start_date": "yesterday"}),
    "requests, date without timezone": Case(
        "GET", "requests", ERRORS, 400, {"start_date": "2026-02-01T00:00:00"}
    ),
    "requests, end before start": Case(
        "GET",
        "requests",
        ERRORS,
        400,
        {"start_date": "2026-02-10T00:00:00Z", "end_date": "2026-02-01T00:00:00Z"},
    ),
    "requests, over 90 days": Case(
        "GET",
        "requests",
        ERRORS,
        400,
        {"start_date": "2025-10-01T00:00:00Z", "end_date": "2026-02-01T00:00:00Z"},
    ),
    "requests, bad status": Case("GET", "requests", ERRORS, 400, {"status": "open,lost"}),
    "requests, page_size too big": Case("GET", "requests", ERRORS, 400, {"page_size": "1001"}),
    "requests, page 0": Case("GET", "requests", ERRORS, 400, {"page": "0"}),
    "requests, other jurisdiction": Case("GET", "requests", ERRORS, 404, {"jurisdiction_id": "x"}),
    # GET one request, tokens
    "request": Case("GET", "requests/{number}", ONE_REQUEST, 200),
    "request, unknown": Case("GET", "requests/123456789", ERRORS, 404),
    "request, other jurisdiction": Case(
        "GET", "requests/{number}", ERRORS, 404, {"jurisdiction_id": "x"}
    ),
    "token": Case("GET", "tokens/{token}", TOKENS, 200),
    "token, unknown": Case("GET", "tokens/0b6f2c3e-0000-4000-8000-000000000000", ERRORS, 404),
    # mySociety servicerequestupdates
    "updates": Case("GET", "servicerequestupdates", UPDATES, 200),
    "updates, window": Case(
        "GET",
        "servicerequestupdates",
        UPDATES,
        200,
        {"start_date": "2026-02-28T00:00:00Z", "end_date": "2026-03-02T00:00:00Z"},
    ),
    "updates, bad date": Case("GET", "servicerequestupdates", ERRORS, 400, {"end_date": "soon"}),
    "post update": Case("POST", "servicerequestupdates", POST_UPDATE, 200, data=_update()),
    "post update, unknown status": Case(
        "POST", "servicerequestupdates", ERRORS, 400, data=_update(status="TELEPORTED")
    ),
    "post update, not allowed now": Case(
        "POST", "servicerequestupdates", ERRORS, 400, data=_update(status="REOPEN")
    ),
    "post update, no description": Case(
        "POST", "servicerequestupdates", ERRORS, 400, data=_update(description="")
    ),
    "post update, no api_key": Case(
        "POST", "servicerequestupdates", ERRORS, 403, data=_update(api_key="")
    ),
    "post update, hub may not": Case(
        "POST", "servicerequestupdates", ERRORS, 403, data=_update(api_key=KEYS["hub"])
    ),
    "post update, unknown request": Case(
        "POST", "servicerequestupdates", ERRORS, 404, data=_update(service_request_id="123456789")
    ),
}


@pytest.fixture
async def seeded(client: Client, ctx: Context) -> dict[str, str]:
    """One public report (with its token), so every endpoint has something to show."""
    created = await call(client, "POST", "requests", "json", POST_REQUEST, 201, data=REPORT)
    number = created[0]["service_request_id"]
    async with ctx.db.read() as conn:
        ticket = await tickets.get(conn, number)
    return {"number": number, "token": ticket["token"]}


def _fill(value: str, seeded: dict[str, str]) -> str:
    return value.format(**seeded) if "{" in value else value


@pytest.mark.parametrize("fmt", FORMATS)
@pytest.mark.parametrize("name", list(CASES))
async def test_every_response_matches_the_georeport_schema(
    client: Client, seeded: dict[str, str], name: str, fmt: str
) -> None:
    case = CASES[name]
    data = {k: _fill(v, seeded) for k, v in case.data.items()} if case.data is not None else None
    body = await call(
        client,
        case.method,
        _fill(case.resource, seeded),
        fmt,
        case.schema,
        case.status,
        params={k: _fill(v, seeded) for k, v in case.params.items()},
        data=data,
        headers=case.headers,
    )
    if case.schema is ERRORS:
        assert all(e["description"] for e in body)
    else:
        assert body  # every success case here has something to show


@pytest.mark.parametrize("fmt", FORMATS)
async def test_every_service_definition_matches_the_schema(client: Client, fmt: str) -> None:
    services = await call(client, "GET", "services", fmt, SERVICES, 200)
    assert len(services) == 10
    for service in services:
        definition = await call(
            client, "GET", f"services/{service['service_code']}", fmt, SERVICE_DEFINITION, 200
        )
        assert definition["service_code"] == service["service_code"]
        assert service["metadata"] is bool(definition["attributes"])
        orders = [a["order"] for a in definition["attributes"]]
        assert orders == sorted(set(orders))  # unique, in order
        for attribute in definition["attributes"]:
            listed = attribute["datatype"] in ("singlevaluelist", "multivaluelist")
            assert bool(attribute["values"]) is listed


@pytest.mark.parametrize("fmt", FORMATS)
async def test_field_errors_name_the_field(client: Client, fmt: str) -> None:
    errors = await call(
        client,
        "POST",
        "requests",
        fmt,
        ERRORS,
        400,
        data={**REPORT, "lat": "91", "description": "x" * 4001},
    )
    described = sorted(e["description"] for e in errors)
    assert described == ["description: at most 4000 characters", "lat: must be between -90 and 90"]


async def test_unknown_path_under_the_base_is_an_open311_404(client: Client) -> None:
    response = await client.get("/open311/v2/nothing-here.json")
    assert response.status == 404
    errors = await response.json()
    assert errors[0]["code"] == 404 and errors[0]["description"]


@pytest.mark.parametrize(
    "body",
    [
        b"<services><item><service_code>a</service_code></item></services>",  # wrong item name
        b"<requests><request/></requests>",  # wrong document element
        b"<services><service><service_code>a</service_code><service_name>A</service_name>"
        b"<metadata>maybe</metadata><type>realtime</type></service></services>",  # not a boolean
        b"<services><service><service_code>a</service_code><service_name>A</service_name>"
        b"<metadata>true</metadata><type>realtime</type><phone>1</phone></service></services>",
    ],
)
def test_the_xml_contract_check_rejects_malformed_documents(body: bytes) -> None:
    with pytest.raises((AssertionError, ValidationError)):
        parse_body(body, "xml", SERVICES)
