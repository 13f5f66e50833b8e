"""Contacts over /api/v1: identities, verification links them, "my reports" across channels."""

from __future__ import annotations

from datetime import timedelta

from ticket_service.clock import FakeClock

from .api_support import SARA, Client, call, descriptions, file, my_tickets, number_of, report
from .conftest import BOTH_BACKENDS

PHONE = "+966500000001"
TELEGRAM = {"channel": "telegram", "channel_user_id": "70042", "name": "سارة", "phone": PHONE}
IMPOSTOR = {"channel": "telegram", "channel_user_id": "70666", "phone": PHONE}


@BOTH_BACKENDS
async def test_verified_phone_links_whatsapp_and_telegram_for_my_reports(client: Client) -> None:
    number = await number_of(client)  # filed on WhatsApp by SARA (phone not verified yet)
    code, data = await call(client, "POST", "/api/v1/contacts", "hub", TELEGRAM)
    assert code == 200
    assert data == {"channel": "telegram", "channel_user_id": "70042", "linked_identities": []}
    assert await my_tickets(client, TELEGRAM) == []  # an unverified claim links nothing

    for person in (SARA, TELEGRAM):
        body = {
            "channel": person["channel"],
            "channel_user_id": person["channel_user_id"],
            "phone": PHONE,
        }
        code, data = await call(client, "POST", "/api/v1/contacts/verify", "hub", body)
        assert code == 200, data
    assert data["linked_identities"] == [{"channel": "whatsapp", "channel_user_id": "966500000001"}]
    assert await my_tickets(client, TELEGRAM) == [number]

    # someone else claiming the same phone without verification sees nothing
    await call(client, "POST", "/api/v1/contacts", "hub", IMPOSTOR)
    assert await my_tickets(client, IMPOSTOR) == []
    code, _ = await call(
        client, "GET", f"/api/v1/requests/{number}?channel=telegram&channel_user_id=70666", "hub"
    )
    assert code == 404
    code, _ = await call(
        client, "GET", f"/api/v1/requests/{number}?channel=telegram&channel_user_id=70042", "hub"
    )
    assert code == 200


@BOTH_BACKENDS
async def test_my_reports_are_newest_first_without_personal_data(
    client: Client, clock: FakeClock
) -> None:
    first = await number_of(client)
    clock.advance(timedelta(minutes=3))
    second = (await file(client, report(service_code="streetlight")))["ticket"]
    assert await my_tickets(client, SARA) == [second["service_request_id"], first]
    code, data = await call(
        client,
        "GET",
        "/api/v1/contacts/tickets?channel=whatsapp&channel_user_id=966500000001",
        "hub",
    )
    assert code == 200
    assert SARA["phone"] not in str(data) and SARA["name"] not in str(data)
    assert all("conversation_id" not in t for t in data["tickets"])


async def test_contact_inputs_are_checked(client: Client) -> None:
    code, errors = await call(client, "GET", "/api/v1/contacts/tickets?channel=whatsapp", "hub")
    assert code == 400 and "channel_user_id: required" in descriptions(errors)
    code, errors = await call(client, "POST", "/api/v1/contacts", "hub", {"channel": "whatsapp"})
    assert code == 400 and "channel_user_id: required" in descriptions(errors)
    code, errors = await call(
        client,
        "POST",
        "/api/v1/contacts/verify",
        "hub",
        {"channel": "whatsapp", "channel_user_id": "1"},
    )
    assert code == 400 and "verified phone or email" in descriptions(errors)
    code, errors = await call(
        client,
        "POST",
        "/api/v1/contacts/verify",
        "hub",
        {"channel": "email", "channel_user_id": "a@x", "email": "not-mail"},
    )
    assert code == 400 and "email: not an e-mail address" in descriptions(errors)
    code, errors = await call(
        client, "GET", "/api/v1/contacts/tickets?channel=a&channel_user_id=b%00c", "hub"
    )
    assert code == 400 and "NUL" in descriptions(errors)


async def test_a_later_call_never_blanks_what_is_known(client: Client) -> None:
    await number_of(client)
    await call(
        client,
        "POST",
        "/api/v1/contacts",
        "hub",
        {"channel": "whatsapp", "channel_user_id": "966500000001", "language": "en"},
    )
    ticket = (await file(client, report(service_code="waste")))["ticket"]
    code, data = await call(
        client, "GET", f"/api/v1/requests/{ticket['service_request_id']}", "agent"
    )
    assert code == 200
    assert data["reporter"]["name"] == SARA["name"] and data["reporter"]["phone"] == SARA["phone"]
    assert data["reporter"]["language"] == "ar"  # the report's own reporter data says ar
