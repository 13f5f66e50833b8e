"""Open311 behaviour a client notices: languages, filters, validation, idempotency, duplicates,
and that no personal data and no complaint ever shows on a public endpoint."""

from __future__ import annotations

import asyncio
from datetime import timedelta
from typing import Any

import aiohttp
import pytest
from aiohttp import web
from aiohttp.test_utils import TestClient
from sqlalchemy import func, select

from ticket_service.clock import FakeClock
from ticket_service.context import Context
from ticket_service.db.schema import reporters, ticket_followers
from ticket_service.db.schema import tickets as tickets_table
from ticket_service.domain import tickets
from ticket_service.domain.statuses import Kind, Status
from ticket_service.domain.views import iso
from ticket_service.http.open311 import choose_language
from ticket_service.messages import load_messages

from .conftest import BOTH_BACKENDS, KEYS, START
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
    post_report,
    spot,
    url,
)

Client = TestClient[web.Request, web.Application]


async def listed(client: Client, fmt: str = "json", **params: str) -> list[str]:
    body = await call(client, "GET", "requests", fmt, REQUESTS, 200, params=params)
    return [r["service_request_id"] for r in body]


async def post_update(
    client: Client, number: str, update_id: str, status: str, **fields: str
) -> Any:
    data = {
        "api_key": KEYS["agent"],
        "service_request_id": number,
        "update_id": update_id,
        "status": status,
        "updated_datetime": "2026-03-01T12:00:00Z",
        "description": "تم",
        **fields,
    }
    return await call(client, "POST", "servicerequestupdates", "json", POST_UPDATE, 200, data=data)


# --- languages ----------------------------------------------------------------------------


@pytest.mark.parametrize(
    ("header", "language"),
    [
        ("ar", "ar"),
        ("ar-SA,ar;q=0.9", "ar"),
        ("en-GB,en;q=0.9", "en"),
        ("fr-FR, en;q=0.5, ar;q=0.4", "en"),
        ("ar;q=0.3, en;q=0.7", "en"),
        ("en;q=0, ar;q=0.1", "ar"),
        ("fr, de", "ar"),  # neither: the configured default
        ("*", "ar"),
        (None, "ar"),
        ("en;q=banana, ar", "ar"),
    ],
)
def test_accept_language_picks_the_first_of_arabic_and_english(
    header: str | None, language: str
) -> None:
    assert choose_language(header, "ar") == language


@pytest.mark.parametrize("fmt", FORMATS)
@pytest.mark.parametrize(
    ("header", "language", "name", "group", "question"),
    [
        ("ar-SA", "ar", "حفر وتلف الطرق", "الطرق", "ما مدى خطورة التلف؟"),
        (
            "en-US,en;q=0.8,ar;q=0.5",
            "en",
            "Potholes and road damage",
            "Roads",
            "How serious is the damage?",
        ),
        ("fr", "ar", "حفر وتلف الطرق", "الطرق", "ما مدى خطورة التلف؟"),
    ],
)
async def test_service_texts_follow_accept_language(
    client: Client, fmt: str, header: str, language: str, name: str, group: str, question: str
) -> None:
    headers = {"Accept-Language": header}
    response = await client.get(url("services", fmt), headers=headers)
    assert response.headers["Content-Language"] == language
    services = parse_body(await response.read(), fmt, SERVICES)
    pothole = next(s for s in services if s["service_code"] == "pothole")
    assert (pothole["service_name"], pothole["group"]) == (name, group)
    assert ("حفرة" in pothole["keywords"]) is (language == "ar")

    response = await client.get(url("services/pothole", fmt), headers=headers)
    assert response.headers["Content-Language"] == language
    definition = parse_body(await response.read(), fmt, SERVICE_DEFINITION)
    assert definition["attributes"][0]["description"] == question


async def test_all_ten_services_in_arabic_as_the_catalogue_names_them(client: Client) -> None:
    services = await call(
        client, "GET", "services", "json", SERVICES, 200, headers={"Accept-Language": "ar"}
    )
    assert {s["service_code"]: s["service_name"] for s in services} == {
        "pothole": "حفر وتلف الطرق",
        "streetlight": "إنارة الشوارع",
        "waste": "النظافة ورفع النفايات",
        "water_leak": "تسرب مياه",
        "sewage": "طفح الصرف الصحي",
        "stray_animals": "الحيوانات الضالة",
        "building_violation": "مخالفات البناء",
        "trees_parks": "الحدائق والأشجار",
        "sidewalk": "الأرصفة والممرات",
        "other": "أخرى",
    }


async def test_request_service_names_follow_accept_language(client: Client) -> None:
    number = await post_report(client, 0)
    for header, name in (("ar", "حفر وتلف الطرق"), ("en", "Potholes and road damage")):
        body = await call(
            client,
            "GET",
            f"requests/{number}",
            "xml",
            ONE_REQUEST,
            200,
            headers={"Accept-Language": header},
        )
        assert body[0]["service_name"] == name


@pytest.mark.parametrize(
    ("resource", "schema"),
    [
        ("services", SERVICES),
        ("services/waste", SERVICE_DEFINITION),
        ("requests", REQUESTS),
        ("servicerequestupdates", UPDATES),
    ],
)
async def test_xml_and_json_carry_the_same_data(
    client: Client, resource: str, schema: dict[str, Any]
) -> None:
    number = await post_report(client, 0, fields={"description": "سطر أول\nسطر ثانٍ & <وسم>"})
    await post_update(client, number, "u1", "INVESTIGATING", media_url="https://example.org/u.jpg")
    as_json = await call(client, "GET", resource, "json", schema, 200)
    as_xml = await call(client, "GET", resource, "xml", schema, 200)
    assert as_json == as_xml and as_json


# --- GET requests filters --------------------------------------------------------------------


@BOTH_BACKENDS
async def test_request_filters_and_pages(client: Client, clock: FakeClock) -> None:
    a = await post_report(client, 0, "pothole")
    clock.advance(timedelta(days=1))
    b = await post_report(client, 1, "streetlight")
    clock.advance(timedelta(days=1))
    c = await post_report(client, 2, "waste")
    clock.advance(timedelta(days=1))
    d = await post_report(client, 3, "pothole")
    await post_update(client, b, "close-b", "FIXED")
    day = timedelta(days=1)

    assert await listed(client) == [d, c, b, a]  # newest first
    assert await listed(client, "xml") == [d, c, b, a]
    assert await listed(client, status="closed") == [b]
    assert await listed(client, status="open") == [d, c, a]
    assert await listed(client, status="open,closed") == [d, c, b, a]
    assert await listed(client, service_code="pothole") == [d, a]
    assert await listed(client, service_code="pothole,streetlight", status="open") == [d, a]
    assert await listed(client, service_code="sewage") == []
    window = {"start_date": iso(START + day) or "", "end_date": iso(START + 2 * day) or ""}
    assert await listed(client, **window) == [c, b]  # both ends inclusive
    assert await listed(client, start_date="2026-03-03T12:00:00+03:00") == [d, c]  # 09:00Z
    assert await listed(client, end_date=iso(START + day) or "") == [b, a]

    assert await listed(client, page_size="3") == [d, c, b]
    assert await listed(client, page_size="3", page="2") == [a]
    assert await listed(client, page_size="3", page="3") == []

    # an id list overrides every other filter, even ones that would exclude its tickets
    assert await listed(
        client,
        service_request_id=f"{a} , {c},123456789",
        status="closed",
        service_code="streetlight",
        start_date="2020-01-01T00:00:00Z",
        end_date="2020-01-02T00:00:00Z",
    ) == [c, a]

    # default window: the last 90 days
    clock.set(START + timedelta(days=90, hours=1))
    assert await listed(client) == [d, c, b]


async def test_a_date_range_longer_than_90_days_is_refused(client: Client) -> None:
    params = {"start_date": "2026-01-01T00:00:00Z", "end_date": "2026-04-01T00:00:01Z"}
    errors = await call(client, "GET", "requests", "json", ERRORS, 400, params=params)
    assert (
        errors[0]["description"] == "end_date: the range from start_date may span at most 90 days"
    )
    params["end_date"] = "2026-04-01T00:00:00Z"  # exactly 90 days
    await call(client, "GET", "requests", "json", REQUESTS, 200, params=params)


# --- POST requests -------------------------------------------------------------------------------


@pytest.mark.parametrize(
    ("fields", "message"),
    [
        ({"lat": "91"}, "lat: must be between -90 and 90"),
        ({"lat": "-90.5"}, "lat: must be between -90 and 90"),
        ({"long": "181"}, "long: must be between -180 and 180"),
        ({"lat": "north"}, "lat: must be a number"),
        ({"lat": "nan"}, "lat: must be between -90 and 90"),
        ({"long": ""}, "long: lat and long go together"),
        ({"lat": "", "long": ""}, "location: give lat and long, address_string or address_id"),
        ({"description": "د" * 4001}, "description: at most 4000 characters"),
        (
            {"media_url": "javascript:alert(1)"},
            "media_url: must be an http(s) URL of at most 2048 characters",
        ),
        ({"email": "not-an-address"}, "email: not an e-mail address"),
        ({"phone": "call me"}, "phone: digits only, optionally with a leading +"),
        ({"first_name": "ن" * 100}, "first_name: at most 99 characters"),
        ({"account_id": "a" * 256}, "account_id: at most 255 characters"),
        (
            {"attribute[severity]": "apocalyptic"},
            "attribute[severity]: must be one of dangerous, minor, moderate",
        ),
        ({"attribute[colour]": "red"}, "attribute[colour]: not an attribute of this service"),
    ],
)
async def test_bad_fields_are_400_with_the_field_named(
    client: Client, fields: dict[str, str], message: str
) -> None:
    data = {"api_key": KEYS["hub"], "service_code": "pothole", **spot(0), **fields}
    errors = await call(client, "POST", "requests", "json", ERRORS, 400, data=data)
    assert [e["description"] for e in errors] == [message]


async def test_a_description_of_exactly_4000_characters_is_accepted(
    client: Client, ctx: Context
) -> None:
    text = "حفرة\n" + "د" * 3995
    number = await post_report(client, 0, fields={"description": text})
    async with ctx.db.read() as conn:
        assert (await tickets.get(conn, number))["description"] == text


@pytest.mark.parametrize(
    ("role", "status"),
    [("hub", 201), ("agent", 201), ("admin", 201), ("supervisor", 403), ("satisfaction", 403)],
)
async def test_who_may_file_a_request(client: Client, role: str, status: int) -> None:
    data = {"api_key": KEYS[role], "service_code": "pothole", **spot(0)}
    schema = POST_REQUEST if status == 201 else ERRORS
    await call(client, "POST", "requests", "json", schema, status, data=data)


async def test_attributes_are_validated_and_stored(client: Client, ctx: Context) -> None:
    number = await post_report(client, 0, "waste", {"attribute[container_issue]": "overflowing"})
    data = {
        "api_key": KEYS["hub"],
        "service_code": "waste",
        **spot(1),
        "attribute[waste_type][]": ["household", "bulky_items"],
    }
    body = await call(
        client,
        "POST",
        "requests",
        "json",
        POST_REQUEST,
        201,
        data=aiohttp.FormData(
            [(k, v) for k, vs in data.items() for v in (vs if isinstance(vs, list) else [vs])]
        ),
    )
    async with ctx.db.read() as conn:
        first = await tickets.get(conn, number)
        second = await tickets.get(conn, body[0]["service_request_id"])
    assert first["attributes"] == {"container_issue": "overflowing"}
    assert second["attributes"] == {"waste_type": ["household", "bulky_items"]}

    twice = aiohttp.FormData(
        [
            ("api_key", KEYS["hub"]),
            ("service_code", "pothole"),
            ("address_string", "الدمام"),
            ("attribute[severity]", "minor"),
            ("attribute[severity]", "dangerous"),
        ]
    )
    errors = await call(client, "POST", "requests", "json", ERRORS, 400, data=twice)
    assert errors[0]["description"] == "attribute[severity]: takes a single value"


async def test_multipart_forms_are_accepted_and_file_uploads_refused(client: Client) -> None:
    form = aiohttp.FormData(default_to_multipart=True)
    for key, value in {"api_key": KEYS["hub"], "service_code": "pothole", **spot(0)}.items():
        form.add_field(key, value)
    await call(client, "POST", "requests", "json", POST_REQUEST, 201, data=form)

    upload = aiohttp.FormData()
    for key, value in {"api_key": KEYS["hub"], "service_code": "pothole", **spot(1)}.items():
        upload.add_field(key, value)
    upload.add_field("media", b"\xff\xd8\xff", filename="photo.jpg", content_type="image/jpeg")
    errors = await call(client, "POST", "requests", "json", ERRORS, 400, data=upload)
    assert errors[0]["description"] == "media: send a public media_url instead"


async def _ticket_count(ctx: Context) -> int:
    async with ctx.db.read() as conn:
        return int(
            (await conn.execute(select(func.count()).select_from(tickets_table))).scalar_one()
        )


@BOTH_BACKENDS
async def test_an_idempotency_key_replay_returns_the_same_ticket(
    client: Client, ctx: Context
) -> None:
    headers = {"Idempotency-Key": "hub-msg-4711"}
    first = await post_report(client, 0, headers=headers)
    again = await post_report(client, 5, status=200, headers=headers)  # even with other fields
    assert again == first
    assert await _ticket_count(ctx) == 1

    async def racer(i: int) -> tuple[int, str]:
        data = {"api_key": KEYS["hub"], "service_code": "pothole", **spot(10 + i)}
        response = await client.post(
            url("requests", "json"), data=data, headers={"Idempotency-Key": "race"}
        )
        return response.status, (await response.json())[0]["service_request_id"]

    racing = await asyncio.gather(*(racer(i) for i in range(5)))
    assert sorted(status for status, _ in racing) == [200, 200, 200, 200, 201]
    assert len({number for _, number in racing}) == 1
    assert await _ticket_count(ctx) == 2

    errors = await call(
        client,
        "POST",
        "requests",
        "json",
        ERRORS,
        400,
        headers={"Idempotency-Key": "k" * 129},
        data={"api_key": KEYS["hub"], "service_code": "pothole", **spot(2)},
    )
    assert errors[0]["description"] == "Idempotency-Key: at most 128 characters"


@pytest.mark.parametrize(("language", "fmt"), [("ar", "json"), ("en", "xml")])
async def test_a_duplicate_gets_the_open_tickets_number_and_a_notice(
    client: Client, ctx: Context, language: str, fmt: str
) -> None:
    number = await post_report(client, 0, fields={"account_id": "first-citizen"})
    near = {"lat": "26.3002", "long": "50.1001"}  # about 25 m away
    body = await call(
        client,
        "POST",
        "requests",
        fmt,
        POST_REQUEST,
        200,
        headers={"Accept-Language": language},
        data={"api_key": KEYS["hub"], "service_code": "pothole", **near, "account_id": "second"},
    )
    notice = load_messages().text("open311_duplicate_notice", language, service_request_id=number)
    assert body == [
        {"service_request_id": number, "service_notice": notice, "account_id": "second"}
    ]
    assert number in notice
    async with ctx.db.read() as conn:
        followers = (
            await conn.execute(select(func.count()).select_from(ticket_followers))
        ).scalar_one()
    assert followers == 1 and await _ticket_count(ctx) == 1


async def test_tokens_resolve_to_the_request(client: Client, ctx: Context) -> None:
    number = await post_report(client, 0)
    async with ctx.db.read() as conn:
        token = (await tickets.get(conn, number))["token"]
    for fmt in FORMATS:
        body = await call(client, "GET", f"tokens/{token}", fmt, TOKENS, 200)
        assert body == [{"service_request_id": number, "token": token}]


# --- what the public never sees -----------------------------------------------------------------

PERSONAL = {
    "first_name": "Zubaidah",
    "last_name": "Alqunfudhi",
    "email": "zubaidah.q@example.com",
    "phone": "+966501234567",
    "account_id": "acct-7731-secret",
    "device_id": "device-99x-secret",
}


async def _public_bodies(client: Client, numbers: list[str], tokens: list[str]) -> list[bytes]:
    resources = ["services", "services/pothole", "requests", "servicerequestupdates"]
    resources += [f"requests/{n}" for n in numbers] + [f"tokens/{t}" for t in tokens]
    bodies = []
    for fmt in FORMATS:
        for resource in resources:
            response = await client.get(url(resource, fmt))
            assert response.status == 200, resource
            bodies.append(await response.read())
        response = await client.get(
            url("requests", fmt), params={"service_request_id": ",".join(numbers)}
        )
        bodies.append(await response.read())
    return bodies


async def test_no_personal_data_on_any_public_endpoint(client: Client, ctx: Context) -> None:
    numbers = [
        await post_report(client, 0, fields=PERSONAL),
        (
            await call(
                client,
                "POST",
                "requests",
                "xml",
                POST_REQUEST,
                201,
                data={"api_key": KEYS["agent"], "service_code": "sewage", **spot(1), **PERSONAL},
            )
        )[0]["service_request_id"],
    ]
    await post_update(client, numbers[0], "u1", "IN_PROGRESS", **PERSONAL)
    async with ctx.db.read() as conn:
        tokens = [(await tickets.get(conn, n))["token"] for n in numbers]
        stored = (await conn.execute(select(reporters))).mappings().all()
    # the reporter was recorded (so there was something to leak) ...
    assert [(r["channel_user_id"], r["name"], r["email"], r["phone"]) for r in stored] == [
        ("acct-7731-secret", "Zubaidah Alqunfudhi", "zubaidah.q@example.com", "+966501234567")
    ]
    # ... and none of it is on a public endpoint, in either format
    for body in await _public_bodies(client, numbers, tokens):
        text = body.decode()
        for secret in [*PERSONAL.values(), "966501234567", "501234567"]:
            assert secret not in text


async def test_complaints_inquiries_and_callbacks_are_never_public(
    client: Client, ctx: Context
) -> None:
    report = await post_report(client, 0)
    hidden = []
    for kind in (Kind.COMPLAINT, Kind.INQUIRY, Kind.CALLBACK):
        new = tickets.NewTicket(
            kind=kind,
            service_code="other",
            channel="whatsapp",
            lat=26.3,
            long=50.1,
            description=f"{kind} about an employee's conduct",
        )
        hidden.append((await tickets.create(ctx, new)).ticket)
    await tickets.change_status(
        ctx,
        hidden[0]["number"],
        status=Status.IN_PROGRESS,
        note="Beneficiary Satisfaction called the citizen",
        actor="staff",
    )
    numbers = [t["number"] for t in hidden]

    for fmt in FORMATS:
        assert await listed(client, fmt) == [report]
        assert await listed(client, fmt, service_request_id=",".join(numbers)) == []
        assert await listed(client, fmt, service_code="other") == []
        for ticket in hidden:
            await call(client, "GET", f"requests/{ticket['number']}", fmt, ERRORS, 404)
            await call(client, "GET", f"tokens/{ticket['token']}", fmt, ERRORS, 404)
        feed = await call(client, "GET", "servicerequestupdates", fmt, UPDATES, 200)
        assert {u["service_request_id"] for u in feed} == {report}
        body = await (await client.get(url("requests", fmt))).text()
        assert "employee" not in body and "Beneficiary" not in body
    errors = await call(
        client,
        "POST",
        "servicerequestupdates",
        "json",
        ERRORS,
        404,
        data={
            "api_key": KEYS["agent"],
            "service_request_id": numbers[0],
            "update_id": "x",
            "status": "FIXED",
            "updated_datetime": "2026-03-01T12:00:00Z",
            "description": "d",
        },
    )
    assert errors[0]["description"] == f"service_request_id {numbers[0]} not found"


@pytest.mark.parametrize(
    ("jurisdiction", "status"),
    [("easternprovince.example.gov.sa", 200), ("", 200), ("sfgov.org", 404)],
)
async def test_jurisdiction_id_is_checked_everywhere(
    client: Client, jurisdiction: str, status: int
) -> None:
    number = await post_report(client, 0)
    for resource in (
        "services",
        "services/pothole",
        "requests",
        f"requests/{number}",
        "servicerequestupdates",
    ):
        response = await client.get(url(resource, "json"), params={"jurisdiction_id": jurisdiction})
        assert response.status == status, resource


async def test_control_characters_never_break_the_xml(client: Client) -> None:
    number = await post_report(client, 0, fields={"description": "ماء\x01 يتسرب\x0b\x1f هنا"})
    as_json = await call(client, "GET", f"requests/{number}", "json", ONE_REQUEST, 200)
    as_xml = await call(client, "GET", f"requests/{number}", "xml", ONE_REQUEST, 200)
    assert as_json[0]["description"] == "ماء\x01 يتسرب\x0b\x1f هنا"  # JSON escapes them
    assert as_xml[0]["description"] == "ماء يتسرب هنا"  # XML 1.0 cannot carry them
    errors = await call(
        client,
        "POST",
        "requests",
        "xml",
        ERRORS,
        400,
        data={
            "api_key": KEYS["hub"],
            "service_code": "pothole",
            **spot(1),
            "description": "a\x00b",
        },
    )
    assert errors == [
        {"code": 400, "description": "description: contains characters that are not allowed"}
    ]
