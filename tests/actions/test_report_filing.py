"""Filing a report through the real action server into the real ticket service: the ticket holds
what the citizen said, a retried action files nothing twice, a duplicate nearby is answered
with the existing number, and while the service is down the report is kept and filed later."""

from __future__ import annotations

from typing import Any

import pytest

from tests.actions.support import ActionServer, Turn, action_event, slot_event, user_event
from tests.spots import random_pin
from ticket_client import TawasulClient

SUBMIT = "action_submit_report"


def report_slots(language: str, **overrides: Any) -> dict[str, Any]:
    pin = random_pin()
    texts = {
        "ar": (
            "حفرة عميقة في منتصف الشارع أمام المدرسة",
            "حي الروضة، شارع الأمير سلطان",
            "محمد العتيبي",
        ),
        "en": (
            "A deep pothole in the middle of the road by the school",
            "Al Rawdah district, Prince Sultan Street",
            "Sarah Ahmed",
        ),
    }
    description, location, name = texts[language]
    return {
        "language": language,
        "channel": "whatsapp",
        "contact_phone": "+966501112233",
        "service": "pothole",
        "description": description,
        "location_text": location,
        "latitude": pin["lat"],
        "longitude": pin["long"],
        "photo_url": "http://127.0.0.1:9/media/photo.jpg",
        "reporter_name": name,
        "reporter_phone": "+966501112233",
        "confirmed": True,
        **overrides,
    }


@pytest.mark.parametrize("language", ["ar", "en"])
async def test_submit_report_files_the_ticket(
    language: str, actions: ActionServer, admin: TawasulClient, sender: str
) -> None:
    slots = report_slots(language)
    turn = Turn(sender, text="نعم" if language == "ar" else "yes", intent="affirm", slots=slots)
    reply = await actions.ok(SUBMIT, turn)

    filed = reply.response("utter_report_filed")
    number = filed["ticket_id"]
    assert number.isdigit() and len(number) == 9
    assert filed["sla_hours"] == 72  # potholes (settings/catalogue.yml)

    ticket = await admin.ticket(number)
    assert ticket.kind == "report" and ticket.service_code == "pothole"
    assert ticket.description == slots["description"]
    assert ticket.address == slots["location_text"]
    assert ticket.lat == pytest.approx(slots["latitude"])
    assert ticket.long == pytest.approx(slots["longitude"])
    assert ticket.media_urls == (slots["photo_url"],)
    assert ticket.channel == "whatsapp" and ticket.language == language
    assert ticket.conversation_id == sender
    assert ticket.reporter is not None
    assert (ticket.reporter.channel, ticket.reporter.channel_user_id) == ("whatsapp", sender)
    assert ticket.reporter.name == slots["reporter_name"]
    assert ticket.reporter.phone == "+966501112233"

    # The report's slots are emptied for the next one; the flow is remembered for the rating.
    assert all(reply.slots[s] is None for s in ("service", "description", "location_text"))
    assert reply.slots["pending_report"] is False and reply.slots["last_flow"] == "report"


async def test_skipped_photo_and_no_pin(
    actions: ActionServer, admin: TawasulClient, sender: str
) -> None:
    slots = report_slots("ar", photo_url="skip", latitude=None, longitude=None)
    reply = await actions.ok(SUBMIT, Turn(sender, text="نعم", intent="affirm", slots=slots))
    ticket = await admin.ticket(reply.response("utter_report_filed")["ticket_id"])
    assert ticket.media_urls == () and ticket.lat is None
    assert ticket.address == slots["location_text"]


async def test_a_retried_action_files_once(
    actions: ActionServer, hub: TawasulClient, sender: str
) -> None:
    """Rasa (or the hub) may run the same turn again: same message id, same ticket."""
    turn = Turn(sender, text="yes", intent="affirm", slots=report_slots("en"))
    first = await actions.ok(SUBMIT, turn)
    again = await actions.ok(SUBMIT, turn)
    number = first.response("utter_report_filed")["ticket_id"]
    assert again.response("utter_report_filed")["ticket_id"] == number
    assert [t.service_request_id for t in await hub.contact_tickets("whatsapp", sender)] == [number]


async def test_a_duplicate_nearby_gets_the_existing_number(
    actions: ActionServer, sender: str
) -> None:
    slots = report_slots("en")
    first = await actions.ok(SUBMIT, Turn(sender, text="yes", intent="affirm", slots=slots))
    number = first.response("utter_report_filed")["ticket_id"]
    neighbour = Turn(sender + "-n", text="yes", intent="affirm", slots=slots)
    second = await actions.ok(SUBMIT, neighbour)
    assert second.response("utter_report_duplicate")["ticket_id"] == number


async def test_not_confirmed_files_nothing(actions: ActionServer, sender: str) -> None:
    reply = await actions.ok(SUBMIT, Turn(sender, slots=report_slots("ar", confirmed=None)))
    assert reply.responses == [] and reply.events == []


async def test_public_channel_sends_no_personal_data(
    actions: ActionServer, admin: TawasulClient, sender: str
) -> None:
    slots = report_slots("en", channel="x", public=True, reporter_name="Someone")
    reply = await actions.ok(SUBMIT, Turn(sender, text="yes", intent="affirm", slots=slots))
    ticket = await admin.ticket(reply.response("utter_report_filed")["ticket_id"])
    assert ticket.reporter is not None
    assert (ticket.reporter.name, ticket.reporter.phone, ticket.reporter.email) == (None,) * 3


# --- the ticket service is down ---------------------------------------------------------------


@pytest.mark.parametrize("language", ["ar", "en"])
async def test_service_down_keeps_the_report_and_the_next_message_files_it(
    language: str,
    actions_down: ActionServer,
    actions: ActionServer,
    admin: TawasulClient,
    hub: TawasulClient,
    sender: str,
) -> None:
    slots = report_slots(language)
    confirm = Turn(sender, text="yes", intent="affirm", slots=slots)
    saved = await actions_down.ok(SUBMIT, confirm)
    assert saved.names == ["utter_report_saved_pending"]
    assert saved.slots == {"pending_report": True}  # every other slot kept as it was

    # The next message (any message: action_validate_slot_mappings runs on each) files it, with
    # the key of the first try; a second later message finds nothing left to do.
    history = [
        user_event("yes", "affirm", message_id=confirm.message_id),
        action_event(SUBMIT),
        slot_event("pending_report", True),
        action_event("action_listen"),
    ]
    later = Turn(
        sender,
        text="شكرا" if language == "ar" else "thanks",
        intent="thank",
        slots={**slots, "pending_report": True},
        history=history,
    )
    filed = await actions.ok("action_validate_slot_mappings", later)
    number = filed.response("utter_report_filed")["ticket_id"]
    assert filed.slots["pending_report"] is False and filed.slots["service"] is None
    ticket = await admin.ticket(number)
    assert ticket.service_code == "pothole" and ticket.address == slots["location_text"]
    assert ticket.reporter is not None and ticket.reporter.name == slots["reporter_name"]

    # Had the first try reached the service after all, the retry would have been a replay.
    retried = await actions.ok("action_retry_pending_report", later)
    assert retried.response("utter_report_filed")["ticket_id"] == number
    assert len(await hub.contact_tickets("whatsapp", sender)) == 1


async def test_still_down_stays_quiet_on_other_messages_but_answers_a_retry(
    actions_down: ActionServer, sender: str
) -> None:
    slots = {**report_slots("en"), "pending_report": True}
    turn = Turn(sender, text="hello", intent="greet", slots=slots)
    quiet = await actions_down.ok("action_validate_slot_mappings", turn)
    assert quiet.names == [] and "pending_report" not in quiet.slots
    retry = await actions_down.ok("action_retry_pending_report", turn)
    assert retry.names == ["utter_report_saved_pending"]
    assert retry.slots == {"pending_report": True}


async def test_nothing_pending_nothing_to_retry(actions: ActionServer, sender: str) -> None:
    reply = await actions.ok("action_retry_pending_report", Turn(sender, text="retry"))
    assert reply.responses == [] and reply.events == []


@pytest.mark.parametrize(
    ("action", "slots"),
    [
        ("action_check_status", {"ticket_id": "482913756"}),
        ("action_check_status", {}),
        ("action_submit_complaint", {"description": "the clerk was rude to me today"}),
        ("action_request_callback", {}),
        ("action_store_rating", {"rating": "4"}),
        ("action_submit_followup", {"ticket_id": "482913756"}),
    ],
)
async def test_service_down_is_a_clear_message_never_a_crash(
    action: str, slots: dict[str, Any], actions_down: ActionServer, sender: str
) -> None:
    reply = await actions_down.ok(action, Turn(sender, text="…", slots={"language": "en", **slots}))
    assert reply.names == ["utter_service_error"]
