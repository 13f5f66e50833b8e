"""TawasulClient against the real /api/v1 extensions: every method, as the hub, agents and
supervisors use them."""

from __future__ import annotations

from datetime import date, timedelta

import aiohttp
import pytest
from aiohttp.test_utils import TestServer

from tests.ticket_client.conftest import config_for, ticket_count, url_of
from tests.ticket_service.conftest import START
from ticket_client import (
    BadRequest,
    Conflict,
    Contact,
    Forbidden,
    IdentityRef,
    NotFound,
    TawasulClient,
)
from ticket_service.context import Context

FATIMAH = Contact("whatsapp", "966500000001", name="Fatimah", phone="+966500000001", language="ar")
SALEH = Contact("telegram", "770001", name="Saleh", language="en")
DAMMAM = (26.4126, 50.0645)
KHOBAR = (26.2940, 50.2170)


async def file_pothole(
    hub: TawasulClient, reporter: Contact = FATIMAH, at: tuple[float, float] = DAMMAM
) -> str:
    created = await hub.create(
        service_code="pothole",
        description="حفرة عميقة",
        lat=at[0],
        long=at[1],
        address="شارع الملك سعود، الدمام",
        media_urls=["https://example.org/p/1.jpg"],
        attributes={"severity": "moderate"},
        channel=reporter.channel,
        conversation_id=f"{reporter.channel}:{reporter.channel_user_id}",
        language="ar",
        reporter=reporter,
    )
    return created.ticket.service_request_id


async def test_create_a_report_returns_the_routed_ticket(hub: TawasulClient) -> None:
    created = await hub.create(
        service_code="pothole",
        description="حفرة عميقة",
        lat=DAMMAM[0],
        long=DAMMAM[1],
        media_urls=["https://example.org/p/1.jpg"],
        attributes={"severity": "moderate"},
        channel="whatsapp",
        conversation_id="wa:1",
        language="ar",
        reporter=FATIMAH,
    )
    assert (created.duplicate, created.replayed) == (False, False)
    ticket = created.ticket
    assert ticket.kind == "report" and ticket.service_code == "pothole"
    assert (ticket.status, ticket.extended_status, ticket.resolution) == ("open", "open", None)
    assert ticket.municipality == "dammam" and ticket.department == "roads"
    assert ticket.sla_hours == 72 and ticket.escalation_level == 0
    assert ticket.requested_datetime == START
    assert ticket.expected_datetime == START + timedelta(hours=72)
    assert ticket.media_urls == ("https://example.org/p/1.jpg",)
    assert ticket.attributes == {"severity": "moderate"}
    assert ticket.language == "ar" and ticket.channel == "whatsapp"
    assert ticket.service_name == "حفر وتلف الطرق"


async def test_a_report_next_to_an_open_one_joins_it(hub: TawasulClient, ctx: Context) -> None:
    number = await file_pothole(hub)
    again = await hub.create(
        service_code="pothole",
        lat=DAMMAM[0] + 0.0001,
        long=DAMMAM[1],
        channel="telegram",
        reporter=SALEH,
    )
    assert again.duplicate is True and again.ticket.service_request_id == number
    assert await ticket_count(ctx) == 1
    followed = await hub.contact_tickets(SALEH.channel, SALEH.channel_user_id)
    assert [t.service_request_id for t in followed] == [number]


async def test_complaints_callbacks_and_inquiries_need_no_location(hub: TawasulClient) -> None:
    numbers = {}
    for kind in ("complaint", "callback", "inquiry"):
        created = await hub.create(
            kind=kind,
            description=f"a {kind}",
            channel="webchat",
            reporter=Contact("webchat", "session-1"),
        )
        assert created.ticket.kind == kind and created.ticket.lat is None
        numbers[created.ticket.service_request_id] = kind
    listed = await hub.contact_tickets("webchat", "session-1")
    assert {t.service_request_id: t.kind for t in listed} == numbers
    assert len(await hub.contact_tickets("webchat", "session-1", limit=2)) == 2
    complaint = next(t for t in listed if t.kind == "complaint")
    assert complaint.department == "beneficiary_satisfaction"


async def test_ticket_for_contact_only_for_the_citizen_who_filed_it(hub: TawasulClient) -> None:
    number = await file_pothole(hub)
    await hub.upsert_contact(SALEH)

    mine = await hub.ticket_for_contact(number, FATIMAH.channel, FATIMAH.channel_user_id)
    assert mine is not None and mine.service_request_id == number
    assert [h.kind for h in mine.history] == ["created"]
    assert mine.conversation_id is None  # the hub's view carries nothing identifying
    assert await hub.ticket_for_contact(number, SALEH.channel, SALEH.channel_user_id) is None
    assert await hub.ticket_for_contact(number, "whatsapp", "never-seen") is None
    unknown = await hub.ticket_for_contact("123456789", FATIMAH.channel, FATIMAH.channel_user_id)
    assert unknown is None


async def test_staff_see_the_full_ticket_with_its_reporter(
    hub: TawasulClient, agent: TawasulClient
) -> None:
    number = await file_pothole(hub)
    staff = await agent.ticket(number)
    assert staff.reporter is not None
    assert (staff.reporter.name, staff.reporter.phone) == ("Fatimah", "+966500000001")
    assert staff.followers == 0
    assert staff.conversation_id == "whatsapp:966500000001"
    with pytest.raises(NotFound):
        await agent.ticket("123456789")


async def test_verified_phone_links_a_citizens_identities(hub: TawasulClient) -> None:
    number = await file_pothole(hub)
    telegram_fatimah = Contact("telegram", "880009", name="Fatimah")
    identity = await hub.upsert_contact(telegram_fatimah)
    assert (identity.channel, identity.channel_user_id) == ("telegram", "880009")
    assert identity.linked_identities == ()
    assert await hub.contact_tickets("telegram", "880009") == []

    await hub.verify_contact("whatsapp", "966500000001", phone="+966500000001")
    linked = await hub.verify_contact("telegram", "880009", phone="+966500000001")
    assert linked.linked_identities == (IdentityRef("whatsapp", "966500000001"),)
    seen = await hub.contact_tickets("telegram", "880009")
    assert [t.service_request_id for t in seen] == [number]
    assert await hub.ticket_for_contact(number, "telegram", "880009") is not None


async def test_status_changes_notes_and_reopen(hub: TawasulClient, agent: TawasulClient) -> None:
    number = await file_pothole(hub)
    moving = await agent.change_status(number, "in_progress", note="crew dispatched")
    assert (moving.status, moving.status_notes) == ("in_progress", "crew dispatched")
    hidden = await agent.change_status(number, "open", note="waiting for asphalt", internal=True)
    assert hidden.status == "open" and hidden.status_notes == "crew dispatched"
    closed = await agent.change_status(number, "closed", resolution="fixed", note="repaired")
    assert closed.closed and closed.extended_status == "fixed" and closed.resolution == "fixed"
    assert closed.closed_datetime == START
    with pytest.raises(Conflict):
        await agent.change_status(number, "in_progress")
    with pytest.raises(BadRequest) as no_resolution:
        await agent.change_status(number, "closed")
    assert [e.field for e in no_resolution.value.errors] == ["resolution"]

    reopened = await agent.reopen(number, note="still broken")
    assert reopened.status == "open" and reopened.closed_datetime is None
    with pytest.raises(Conflict):
        await agent.reopen(number)

    full = await agent.history(number)
    assert [(h.kind, h.status) for h in full] == [
        ("created", "open"),
        ("status", "in_progress"),
        ("status", "open"),
        ("status", "fixed"),
        ("reopen", "reopen"),
    ]
    assert full[2].note == "waiting for asphalt"
    citizen = await hub.ticket_for_contact(number, FATIMAH.channel, FATIMAH.channel_user_id)
    assert citizen is not None
    assert "waiting for asphalt" not in [h.note for h in citizen.history]
    with pytest.raises(Forbidden):
        await hub.history(number)
    with pytest.raises(Forbidden):
        await hub.change_status(number, "in_progress")


async def test_followup_is_queued_and_escalates_the_ticket(hub: TawasulClient) -> None:
    number = await file_pothole(hub)
    key = "whatsapp:wamid.followup-1"
    followup = await hub.create_followup(
        number,
        channel="whatsapp",
        text="لم يتواصل معي أحد",
        reporter=FATIMAH,
        voicemail_url="https://example.org/v/1.ogg",
        idempotency_key=key,
    )
    assert followup.service_request_id == number
    assert len(followup.reference) == 10 and followup.reference.isdigit()
    assert followup.status == "open" and followup.text == "لم يتواصل معي أحد"
    assert followup.due_datetime == START + timedelta(hours=24)
    retried = await hub.create_followup(
        number,
        channel="whatsapp",
        text="لم يتواصل معي أحد",
        reporter=FATIMAH,
        idempotency_key=key,
    )
    assert retried.reference == followup.reference

    ticket = await hub.ticket_for_contact(number, FATIMAH.channel, FATIMAH.channel_user_id)
    assert ticket is not None and ticket.escalation_level == 1
    with pytest.raises(NotFound):  # someone else's ticket does not exist for them
        await hub.create_followup(number, channel="telegram", reporter=SALEH)


async def test_closure_survey_once_by_the_reporter(
    hub: TawasulClient, agent: TawasulClient
) -> None:
    number = await file_pothole(hub)
    await hub.upsert_contact(SALEH)
    with pytest.raises(Conflict):  # not closed yet
        await hub.submit_survey(
            number, channel="whatsapp", channel_user_id="966500000001", quality=5, speed=5
        )
    await agent.change_status(number, "closed", resolution="fixed")
    with pytest.raises(Forbidden):
        await hub.submit_survey(
            number, channel="telegram", channel_user_id="770001", quality=1, speed=1
        )
    with pytest.raises(BadRequest) as out_of_range:
        await hub.submit_survey(
            number, channel="whatsapp", channel_user_id="966500000001", quality=6, speed=0
        )
    assert {e.field for e in out_of_range.value.errors} == {"quality", "speed"}

    result = await hub.submit_survey(
        number,
        channel="whatsapp",
        channel_user_id="966500000001",
        quality=5,
        speed=3,
        comment="شكراً",
    )
    assert (result.service_request_id, result.quality, result.speed) == (number, 5, 3)
    assert result.satisfied is True and result.comment == "شكراً"
    assert result.created_datetime == START
    with pytest.raises(Conflict):
        await hub.submit_survey(
            number, channel="whatsapp", channel_user_id="966500000001", quality=1, speed=1
        )


async def test_ratings(hub: TawasulClient) -> None:
    number = await file_pothole(hub)
    rating = await hub.add_rating(
        kind="agent_service",
        score=4,
        conversation_id="wa:1",
        channel="whatsapp",
        agent_id="agent-7",
        service_request_id=number,
    )
    assert (rating.kind, rating.score, rating.agent_id) == ("agent_service", 4, "agent-7")
    assert rating.service_request_id == number and rating.rating_id
    with pytest.raises(BadRequest):
        await hub.add_rating(kind="answer", score=9, conversation_id="wa:1", channel="whatsapp")
    with pytest.raises(NotFound):
        await hub.add_rating(
            kind="answer",
            score=3,
            conversation_id="wa:1",
            channel="whatsapp",
            service_request_id="123456789",
        )


async def test_kpis_json_and_csv(
    hub: TawasulClient, agent: TawasulClient, supervisor: TawasulClient
) -> None:
    dammam = await file_pothole(hub)
    await file_pothole(hub, SALEH, KHOBAR)
    await agent.change_status(dammam, "closed", resolution="fixed")
    await hub.submit_survey(
        dammam, channel="whatsapp", channel_user_id="966500000001", quality=4, speed=4
    )
    await hub.add_rating(kind="agent_service", score=5, conversation_id="c", channel="whatsapp")
    await hub.add_rating(kind="agent_service", score=2, conversation_id="d", channel="whatsapp")

    day = START.date()
    report = await supervisor.kpis(day, day, group_by="municipality")
    assert report.group_by == "municipality"
    assert report.start == START.replace(hour=0) and report.end == report.start + timedelta(days=1)
    total = report.total
    assert (total.received, total.closed, total.open) == (2, 1, 1)
    assert total.completion_rate == 0.5
    assert total.survey_responses == 1 and total.satisfaction_rate == 1.0
    assert total.mean_agent_rating == 3.5
    by_key = {g.key: g.metrics for g in report.groups}
    assert by_key["dammam"].closed == 1 and by_key["khobar"].received == 1
    assert next(g for g in report.groups if g.key == "khobar").name_en == "Al Khobar Municipality"

    by_service = await supervisor.kpis(START, START + timedelta(hours=1), group_by="service")
    assert [(g.key, g.metrics.received) for g in by_service.groups if g.metrics.received] == [
        ("pothole", 2),
    ]
    sheet = await supervisor.kpis_csv(day, date(2026, 3, 31))
    assert sheet.startswith("\ufeff".encode())
    lines = sheet.decode("utf-8-sig").splitlines()
    assert lines[0].startswith("key,name_ar,name_en,received,closed")
    assert lines[-1].startswith("TOTAL,,,2,1,")
    with pytest.raises(Forbidden):
        await hub.kpis()
    with pytest.raises(BadRequest) as backwards:
        await supervisor.kpis(date(2026, 3, 5), date(2026, 3, 1))
    assert [e.field for e in backwards.value.errors] == ["from"]


async def test_a_wrong_api_key_is_forbidden(
    http: aiohttp.ClientSession, service: TestServer
) -> None:
    stranger = TawasulClient(http, config_for(url_of(service), None, api_key="not-a-key"))
    with pytest.raises(Forbidden) as caught:
        await stranger.contact_tickets("whatsapp", "966500000001")
    assert caught.value.descriptions == ("invalid api_key",)


async def test_the_hub_reopens_a_closed_report_for_its_reporter(
    hub: TawasulClient, agent: TawasulClient
) -> None:
    number = await file_pothole(hub)
    await agent.change_status(number, "closed", resolution="fixed")
    with pytest.raises(Forbidden):  # another citizen
        await hub.reopen(number, note="not fixed", contact=SALEH)
    with pytest.raises(BadRequest):  # the hub must say for whom
        await hub.reopen(number, note="not fixed")

    reopened = await hub.reopen(number, note="الحفرة على حالها", contact=FATIMAH)

    assert reopened.status == "open" and reopened.reporter is None  # the hub's view
    last = (await agent.history(number))[-1]
    assert (last.kind, last.actor, dict(last.data)) == (
        "reopen",
        "whatsapp",
        {"citizen_note": "الحفرة على حالها"},
    )
    with pytest.raises(Conflict):
        await hub.reopen(number, contact=FATIMAH)
