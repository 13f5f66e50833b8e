"""/api/v1/requests: kinds, routing, duplicates, idempotency, status flow and who sees what."""

from __future__ import annotations

from datetime import timedelta
from typing import Any

import pytest
from sqlalchemy import func, select

from ticket_service.clock import FakeClock
from ticket_service.config import Settings
from ticket_service.context import Context
from ticket_service.db.schema import tickets
from ticket_service.geo import haversine_m

from .api_support import (
    OMAR,
    SARA,
    Client,
    call,
    contact_of,
    descriptions,
    file,
    hub_view,
    move,
    my_tickets,
    number_of,
    report,
)
from .conftest import BOTH_BACKENDS


async def _count_tickets(ctx: Context) -> int:
    async with ctx.db.read() as conn:
        return int((await conn.execute(select(func.count()).select_from(tickets))).scalar_one())


# --- create -------------------------------------------------------------------------------


@BOTH_BACKENDS
async def test_a_report_gets_a_number_a_route_and_an_sla(client: Client) -> None:
    data = await file(client)
    ticket = data["ticket"]
    assert data["duplicate"] is False and data["replayed"] is False
    assert ticket["service_request_id"].isdigit() and len(ticket["service_request_id"]) >= 6
    assert ticket["kind"] == "report" and ticket["status"] == "open"
    assert ticket["municipality"] == "dammam" and ticket["department"] == "roads"
    assert ticket["sla_hours"] == 72
    assert ticket["requested_datetime"] == "2026-03-01T09:00:00Z"
    assert ticket["expected_datetime"] == "2026-03-04T09:00:00Z"


@BOTH_BACKENDS
@pytest.mark.parametrize("kind", ["complaint", "inquiry", "callback"])
async def test_other_kinds_need_no_location_and_default_to_service_other(
    client: Client, kind: str
) -> None:
    body = {
        "kind": kind,
        "description": "الموظف لم يرد على اتصالي",
        "channel": "whatsapp",
        "reporter": SARA,
    }
    ticket = (await file(client, body))["ticket"]
    assert ticket["kind"] == kind
    assert ticket["service_code"] == "other"
    expected = "beneficiary_satisfaction" if kind == "complaint" else "customer_care"
    assert ticket["department"] == expected


@BOTH_BACKENDS
async def test_a_complaint_never_appears_in_the_public_open311_listing(client: Client) -> None:
    complaint = {
        "kind": "complaint",
        "description": "معاملة سيئة من الموظف",
        "channel": "whatsapp",
        "reporter": SARA,
        "lat": 26.4126,
        "long": 50.0645,
    }
    complaint_no = (await file(client, complaint))["ticket"]["service_request_id"]
    report_no = await number_of(client, report(lat=26.4200))

    resp = await client.get("/open311/v2/requests.json")
    assert resp.status == 200, await resp.text()
    listed = [r["service_request_id"] for r in await resp.json()]
    assert report_no in listed
    assert complaint_no not in listed
    resp = await client.get(f"/open311/v2/requests.json?service_request_id={complaint_no}")
    assert complaint_no not in [r["service_request_id"] for r in await resp.json()]


async def test_a_report_without_a_location_or_channel_is_refused_with_field_errors(
    client: Client,
) -> None:
    body = report(lat=None, long=None, channel=None)
    status, errors = await call(client, "POST", "/api/v1/requests", "hub", body)
    assert status == 400
    text = descriptions(errors)
    assert "channel: required" in text and "location" in text


@pytest.mark.parametrize(
    ("changes", "fragment"),
    [
        ({"kind": "praise"}, "kind: must be one of"),
        ({"lat": 91}, "lat: must be between"),
        ({"description": "x" * 4001}, "description: at most 4000"),
        ({"media_urls": "http://x"}, "media_urls: must be a list"),
        ({"media_urls": ["ftp://x/y.jpg"]}, "media_url: must be an http(s) URL"),
        ({"reporter": ["966"]}, "reporter: must be an object"),
        ({"reporter": {**SARA, "phone": "call me"}}, "reporter.phone"),
        ({"attributes": {"severity": "apocalyptic"}}, "attribute[severity]: must be one of"),
    ],
)
async def test_bad_fields_are_named(client: Client, changes: dict[str, Any], fragment: str) -> None:
    status, errors = await call(client, "POST", "/api/v1/requests", "hub", report(**changes))
    assert status == 400
    assert fragment in descriptions(errors)


async def test_an_unknown_service_is_404(client: Client) -> None:
    status, errors = await call(
        client, "POST", "/api/v1/requests", "hub", report(service_code="unicorns")
    )
    assert status == 404 and "service_code" in descriptions(errors)


@pytest.mark.parametrize(
    "raw", [b"not json", b"[1, 2]", b'"text"', b"\xff\xfe", b'{"description": NaN}', b"[" * 5000]
)
async def test_a_body_that_is_not_a_json_object_is_400(client: Client, raw: bytes) -> None:
    resp = await client.post(
        "/api/v1/requests",
        data=raw,
        headers={"X-Api-Key": "test-hub-key", "Content-Type": "application/json"},
    )
    assert resp.status == 400
    assert "JSON object" in descriptions(await resp.json())


# --- idempotency and duplicates -----------------------------------------------------------


@BOTH_BACKENDS
async def test_a_retried_create_with_the_same_idempotency_key_is_one_ticket(
    client: Client, ctx: Context
) -> None:
    headers = {"Idempotency-Key": "wa-msg-3a8f0c"}
    first = await file(client, headers=headers)
    again = await file(client, headers=headers, expect=200)
    assert again["ticket"]["service_request_id"] == first["ticket"]["service_request_id"]
    assert again["replayed"] is True and again["duplicate"] is False
    assert await _count_tickets(ctx) == 1


async def test_an_overlong_idempotency_key_is_400(client: Client) -> None:
    status, errors = await call(
        client, "POST", "/api/v1/requests", "hub", report(), {"Idempotency-Key": "k" * 129}
    )
    assert status == 400 and "Idempotency-Key" in descriptions(errors)


@BOTH_BACKENDS
async def test_a_second_report_nearby_joins_the_open_ticket_as_a_follower(
    client: Client, ctx: Context
) -> None:
    first = await number_of(client)
    lat_30m = 26.4126 + 0.00027
    assert 25 < haversine_m(26.4126, 50.0645, lat_30m, 50.0645) < 50
    second = await file(client, report(lat=lat_30m, reporter=OMAR, channel="telegram"), expect=200)
    assert second["duplicate"] is True
    assert second["ticket"]["service_request_id"] == first
    assert "conversation_id" not in second["ticket"]  # the hub gets no one else's data
    assert await _count_tickets(ctx) == 1
    assert await my_tickets(client, OMAR) == [first]
    status, data = await call(client, "GET", f"/api/v1/requests/{first}", "agent")
    assert status == 200 and data["followers"] == 1


@BOTH_BACKENDS
async def test_sixty_metres_away_or_another_service_is_a_new_ticket(
    client: Client, ctx: Context
) -> None:
    first = await number_of(client)
    lat_60m = 26.4126 + 0.00054
    assert 55 < haversine_m(26.4126, 50.0645, lat_60m, 50.0645) < 65
    far = await file(client, report(lat=lat_60m, reporter=OMAR))
    other_service = await file(client, report(service_code="streetlight", reporter=OMAR))
    numbers = {
        first,
        far["ticket"]["service_request_id"],
        other_service["ticket"]["service_request_id"],
    }
    assert len(numbers) == 3
    assert far["duplicate"] is False and other_service["duplicate"] is False
    assert await _count_tickets(ctx) == 3


# --- routing ------------------------------------------------------------------------------


@pytest.mark.parametrize(
    ("lat", "long", "municipality"),
    [
        (26.4126, 50.0645, "dammam"),
        (26.2940, 50.2170, "khobar"),
        (26.3070, 50.1450, "dhahran"),
        (26.5560, 50.0100, "qatif"),
        (27.0100, 49.6500, "jubail"),
        (25.3800, 49.5870, "al_ahsa"),
    ],
)
async def test_a_point_is_routed_to_the_municipality_whose_area_contains_it(
    client: Client, lat: float, long: float, municipality: str
) -> None:
    ticket = (await file(client, report(lat=lat, long=long)))["ticket"]
    assert ticket["municipality"] == municipality


@pytest.mark.parametrize(
    ("address", "municipality"),
    [("حي الشاطئ بالخبر", "khobar"), ("near Jubail port", "jubail"), ("شارع الملك فهد", "dammam")],
)
async def test_without_a_point_the_address_names_the_municipality_else_the_default(
    client: Client, address: str, municipality: str
) -> None:
    ticket = (await file(client, report(lat=None, long=None, address=address)))["ticket"]
    assert ticket["municipality"] == municipality
    assert ticket["address"] == address


async def test_each_service_goes_to_its_catalogue_department(
    client: Client, settings: Settings
) -> None:
    for i, service in enumerate(settings.services.values()):
        body = report(service_code=service.code, lat=26.40 + i * 0.01)
        ticket = (await file(client, body))["ticket"]
        assert ticket["department"] == service.department, service.code
        assert ticket["sla_hours"] == service.sla_hours


# --- status flow --------------------------------------------------------------------------


async def test_open_in_progress_closed_with_notes_and_full_history(client: Client) -> None:
    number = await number_of(client)
    await move(client, number, "in_progress", note="الفرقة في الطريق")
    closed = await move(
        client, number, "closed", resolution="fixed", note="تم ردم الحفرة", role="supervisor"
    )
    assert closed["ticket"]["status"] == "closed"
    assert closed["ticket"]["extended_status"] == "fixed"
    assert closed["ticket"]["status_notes"] == "تم ردم الحفرة"
    assert closed["update_id"]

    status, data = await call(client, "GET", f"/api/v1/requests/{number}/history", "agent")
    assert status == 200
    rows = [(r["kind"], r["status"], r["note"]) for r in data["history"]]
    assert rows == [
        ("created", "open", None),
        ("status", "in_progress", "الفرقة في الطريق"),
        ("status", "fixed", "تم ردم الحفرة"),
    ]
    assert data["history"][-1]["update_id"] == closed["update_id"]
    assert data["history"][-1]["actor"].startswith("supervisor:")


async def test_closing_without_a_resolution_is_400(client: Client) -> None:
    number = await number_of(client)
    data = await move(client, number, "closed", expect=400)
    assert "resolution: required when closing" in descriptions(data)


async def test_reopen_and_invalid_moves(client: Client) -> None:
    number = await number_of(client)
    code, data = await call(client, "POST", f"/api/v1/requests/{number}/reopen", "agent", {})
    assert code == 409 and "not closed" in descriptions(data)
    await move(client, number, "closed", resolution="rejected")
    conflict = await move(client, number, "in_progress", expect=409)
    assert "cannot go from closed to in_progress" in descriptions(conflict)

    code, data = await call(
        client,
        "POST",
        f"/api/v1/requests/{number}/reopen",
        "agent",
        {"note": "المواطن أفاد أن المشكلة مستمرة"},
    )
    assert code == 200
    assert data["ticket"]["status"] == "open" and data["ticket"]["resolution"] is None
    await move(client, number, "closed", resolution="fixed")


async def test_an_unknown_or_malformed_number_is_404(client: Client) -> None:
    for number in ("123456789", "abc", "1" * 40):
        status, _ = await call(client, "GET", f"/api/v1/requests/{number}", "agent")
        assert status == 404
        status, _ = await call(
            client, "POST", f"/api/v1/requests/{number}/status", "agent", {"status": "in_progress"}
        )
        assert status == 404


# --- who sees what ------------------------------------------------------------------------


async def test_staff_see_the_reporter_and_the_history(client: Client) -> None:
    number = await number_of(client)
    status, data = await call(client, "GET", f"/api/v1/requests/{number}", "agent")
    assert status == 200
    assert data["reporter"]["phone"] == SARA["phone"]
    assert data["reporter"]["name"] == SARA["name"]
    assert data["followers"] == 0
    assert [r["kind"] for r in data["history"]] == ["created"]


async def test_the_hub_sees_only_the_contacts_own_ticket_without_personal_data(
    client: Client,
) -> None:
    number = await number_of(client)
    await move(client, number, "in_progress", note="سيتم الإصلاح غداً")
    await move(
        client, number, "in_progress", note="internal: contractor X is late", expect=409
    )  # same state is not a move
    await move(client, number, "open", note="contractor X is late", internal=True)

    status, data = await hub_view(client, number, SARA)
    assert status == 200
    assert data["ticket"]["service_request_id"] == number
    text = str(data)
    for personal in (SARA["phone"], SARA["name"], "conversation_id", "reporter"):
        assert personal not in text
    notes = [r["note"] for r in data["history"]]
    assert "سيتم الإصلاح غداً" in notes
    assert "contractor X is late" not in text  # internal notes stay with staff

    status, errors = await hub_view(client, number, OMAR)
    assert status == 404 and "not found" in descriptions(errors)


@BOTH_BACKENDS
async def test_the_hub_view_says_whether_the_contact_filed_it_or_follows_it(
    client: Client,
) -> None:
    number = await number_of(client)  # SARA's
    joined = await file(client, report(reporter=OMAR, channel="telegram"), expect=200)
    assert joined["duplicate"] is True  # OMAR follows it now
    sara_on_telegram = {"channel": "telegram", "channel_user_id": "70177"}
    for identity in (SARA, sara_on_telegram):  # the same verified phone links them
        body = {**contact_of(identity), "phone": SARA["phone"]}
        assert (await call(client, "POST", "/api/v1/contacts/verify", "hub", body))[0] == 200

    seen = {}
    for name, person in (("sara", SARA), ("linked", sara_on_telegram), ("omar", OMAR)):
        status, data = await hub_view(client, number, person)
        assert status == 200, data
        seen[name] = data["ticket"]["filed_by_contact"]
    assert seen == {"sara": True, "linked": True, "omar": False}


async def test_the_hub_must_name_the_contact(client: Client) -> None:
    number = await number_of(client)
    status, errors = await call(client, "GET", f"/api/v1/requests/{number}", "hub")
    assert status == 400
    assert "channel: required" in descriptions(errors)


async def test_complaints_are_hidden_from_agents_but_not_from_satisfaction(client: Client) -> None:
    body = {
        "kind": "complaint",
        "description": "الموظف كان غير مهذب",
        "channel": "whatsapp",
        "reporter": SARA,
    }
    number = (await file(client, body))["ticket"]["service_request_id"]
    for role in ("agent",):
        status, _ = await call(client, "GET", f"/api/v1/requests/{number}", role)
        assert status == 404
        status, _ = await call(client, "GET", f"/api/v1/requests/{number}/history", role)
        assert status == 404
        await move(client, number, "in_progress", role=role, expect=404)
    assert number not in await my_tickets(client, SARA, role="agent")
    assert number in await my_tickets(client, SARA, role="hub")
    for role in ("satisfaction", "supervisor", "admin"):
        status, data = await call(client, "GET", f"/api/v1/requests/{number}", role)
        assert status == 200 and data["ticket"]["department"] == "beneficiary_satisfaction"
    await move(client, number, "in_progress", role="satisfaction", note="تم التواصل مع المواطن")
    # the complainant sees the non-internal progress of their own complaint
    status, data = await hub_view(client, number, SARA)
    assert status == 200
    assert [r["note"] for r in data["history"]] == [None, "تم التواصل مع المواطن"]


async def test_satisfaction_changes_complaints_only(client: Client) -> None:
    number = await number_of(client)
    data = await move(client, number, "in_progress", role="satisfaction", expect=403)
    assert "complaints only" in descriptions(data)


async def test_an_admin_can_run_an_escalation_pass(client: Client, clock: FakeClock) -> None:
    number = await number_of(client)  # pothole: SLA 72 h
    code, data = await call(client, "POST", "/api/v1/escalations/run", "admin")
    assert code == 200 and data == {"steps": 0}
    clock.advance(timedelta(hours=72))
    code, data = await call(client, "POST", "/api/v1/escalations/run", "admin")
    assert code == 200 and data == {"steps": 1}
    _, data = await call(client, "GET", f"/api/v1/requests/{number}", "supervisor")
    assert data["ticket"]["escalation_level"] == 1
    assert data["history"][-1]["kind"] == "escalation"
